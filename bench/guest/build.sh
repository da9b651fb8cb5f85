#!/usr/bin/env bash
# Rebuilds cpu-bench.elf from source (needs Debian's gcc-riscv64-linux-gnu). The ELF is committed so that
# `vessel bench cpu` works without a cross compiler; this script reproduces it byte for byte.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -O2 -static -nostdlib -nostartfiles -mcmodel=medany \
  -fno-builtin -fno-tree-loop-distribute-patterns -ffreestanding -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -T link.ld start.S cpu-bench.c -o cpu-bench.elf
# The assembler's temporary object name ends up as a file symbol; drop it so rebuilds are byte-identical.
riscv64-linux-gnu-objcopy --wildcard --strip-symbol='cc*.o' cpu-bench.elf
