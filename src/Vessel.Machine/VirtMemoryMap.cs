namespace Vessel.Machine;

/// <summary>The physical memory map of QEMU's <c>virt</c> board (DESIGN.md §3), which Vessel reproduces so unmodified guests boot.</summary>
public static class VirtMemoryMap
{
    public const ulong TestBase = 0x0010_0000;
    public const ulong TestSize = 0x1000;
    public const ulong RtcBase = 0x0010_1000;
    public const ulong RtcSize = 0x1000;
    public const ulong ClintBase = 0x0200_0000;
    public const ulong ClintSize = 0x1_0000;
    public const ulong PlicBase = 0x0C00_0000;
    public const ulong PlicSize = 0x60_0000;
    public const ulong UartBase = 0x1000_0000;
    public const ulong UartSize = 0x100;
    public const ulong VirtioBase = 0x1000_1000;
    public const ulong VirtioStride = 0x1000;
    /// <summary>QEMU's eight slots, then eight more right after them (0x1000_9000..) for NICs, consoles and rng.</summary>
    public const int VirtioSlots = 16;
    public const ulong RamBase = 0x8000_0000;

    public const int UartIrq = 10;
    public const int RtcIrq = 11;
    public const int VirtioFirstIrq = 1;

    /// <summary>PLIC source of a virtio-mmio slot: 1..8 as on QEMU for slots 0..7, then 12.. (free on virt) for the rest.</summary>
    public static int VirtioIrq(int slot) => slot < 8 ? VirtioFirstIrq + slot : 12 + (slot - 8);

    /// <summary>PLIC sources: QEMU virt's riscv,ndev (0x5F).</summary>
    public const int PlicSources = 0x5F;

    /// <summary>Where the kernel goes: 2 MiB into RAM, after the firmware (the RV64 Image header's text_offset).</summary>
    public const ulong KernelOffset = 0x20_0000;
}
