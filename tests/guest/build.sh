#!/usr/bin/env bash
# Rebuilds the guest test programs (needs Debian's gcc-riscv64-linux-gnu). The binaries are committed so that
# the end-to-end tests run without a cross compiler.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-linux-gnu-gcc -O2 -static -Wl,--build-id=none -s net-fuzz.c -o net-fuzz
