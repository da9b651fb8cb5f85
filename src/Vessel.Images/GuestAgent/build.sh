#!/usr/bin/env bash
# Rebuilds the guest agent from source (needs Debian's gcc-riscv64-linux-gnu). The binary is committed and embedded
# in Vessel.Images, so building Vessel needs no cross compiler. Rebuilds with the same compiler are byte-identical.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-linux-gnu-gcc -O2 -static -Wall -Wextra -Werror -Wl,--build-id=none -s vessel-agent.c -o vessel-agent
