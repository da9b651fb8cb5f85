#!/usr/bin/env bash
# Rebuilds the guest benchmark programs from source (needs Debian's gcc-riscv64-linux-gnu). The binaries are
# committed so that `vessel bench` works without a cross compiler.
set -euo pipefail
cd "$(dirname "$0")"
# cpu-bench: bare metal, run directly on the hart (no kernel). Rebuilds are byte-identical.
riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -O2 -static -nostdlib -nostartfiles -mcmodel=medany \
  -fno-builtin -fno-tree-loop-distribute-patterns -ffreestanding -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -T link.ld start.S cpu-bench.c -o cpu-bench.elf
# The assembler's temporary object name ends up as a file symbol; drop it so rebuilds are byte-identical.
riscv64-linux-gnu-objcopy --wildcard --strip-symbol='cc*.o' cpu-bench.elf
# io-bench and net-bench: static Linux programs added to the guest's initramfs by `vessel bench disk` / `net`.
riscv64-linux-gnu-gcc -O2 -static -Wl,--build-id=none -s io-bench.c -o io-bench
riscv64-linux-gnu-gcc -O2 -static -Wl,--build-id=none -s net-bench.c -o net-bench
# cpu-kernels: the guest CPU kernels for `vessel bench cpu`; the host compiles the same source natively with the
# same flags (-ffp-contract=off keeps the floating-point checksum equal on every target).
riscv64-linux-gnu-gcc -O2 -ffp-contract=off -fno-math-errno -static -Wl,--build-id=none -s cpu-kernels.c -o cpu-kernels
