# Bare-metal entry for the CPU benchmark: M-mode at 0x80000000, one hart.
    .section .text.init
    .globl _start
_start:
    la sp, stack_top
    li t0, 0x6000          # mstatus.FS = dirty, so floating point is usable
    csrs mstatus, t0
    call main
    # HTIF exit: tohost = (code << 1) | 1 (riscv-tests convention)
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
1:  sd a0, 0(t0)
    j 1b

    .bss
    .align 4
    .space 65536
stack_top:
