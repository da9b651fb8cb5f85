namespace Vessel.Machine.DeviceTree;

/// <summary>
/// The devicetree of the <c>virt</c> board, laid out as QEMU's (hw/riscv/virt.c) so that OpenSBI and Linux find
/// the same nodes: cpus with their interrupt controllers, memory, CLINT, PLIC, UART, RTC, the test finisher with
/// syscon poweroff/reboot, virtio-mmio slots, and /chosen.
/// </summary>
public static class VirtDeviceTree
{
    /// <summary>The base ISA, exactly what the hart implements (riscv,isa; the extension list below says the same).</summary>
    public const string IsaString = "rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbc_zbs_sstc";

    public static readonly string[] IsaExtensions =
        ["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihpm", "zba", "zbb", "zbc", "zbs", "sstc"];

    public sealed record Options(
        int CpuCount,
        ulong MemorySize,
        string CommandLine,
        ulong? InitrdStart,
        ulong? InitrdEnd,
        IReadOnlyList<int> VirtioSlots);

    public static byte[] Build(Options o)
    {
        var fdt = new FdtBuilder();
        uint[] cpuIntc = new uint[o.CpuCount];
        uint[] cpuNode = new uint[o.CpuCount];
        for (int i = 0; i < o.CpuCount; i++)
        {
            cpuNode[i] = fdt.AllocatePhandle();
            cpuIntc[i] = fdt.AllocatePhandle();
        }

        uint plic = fdt.AllocatePhandle();
        uint test = fdt.AllocatePhandle();

        fdt.BeginNode(string.Empty)
            .PropertyCells("#address-cells", 2)
            .PropertyCells("#size-cells", 2)
            .Property("compatible", "riscv-virtio")
            .Property("model", "riscv-virtio,qemu");

        fdt.BeginNode("chosen").Property("bootargs", o.CommandLine).Property("stdout-path", $"/soc/serial@{VirtMemoryMap.UartBase:x}");
        if (o.InitrdStart is { } start && o.InitrdEnd is { } end)
        {
            fdt.PropertyU64("linux,initrd-start", start).PropertyU64("linux,initrd-end", end);
        }

        fdt.EndNode();

        fdt.BeginNode($"memory@{VirtMemoryMap.RamBase:x}")
            .Property("device_type", "memory")
            .PropertyU64("reg", VirtMemoryMap.RamBase, o.MemorySize)
            .EndNode();

        fdt.BeginNode("cpus")
            .PropertyCells("#address-cells", 1)
            .PropertyCells("#size-cells", 0)
            .PropertyCells("timebase-frequency", (uint)Abstractions.MachineClock.DefaultFrequency);
        for (int i = 0; i < o.CpuCount; i++)
        {
            fdt.BeginNode($"cpu@{i}")
                .PropertyCells("phandle", cpuNode[i])
                .Property("device_type", "cpu")
                .PropertyCells("reg", (uint)i)
                .Property("status", "okay")
                .Property("compatible", "riscv")
                .Property("riscv,isa", IsaString)
                .Property("riscv,isa-base", "rv64i")
                .Property("riscv,isa-extensions", IsaExtensions)
                .Property("mmu-type", "riscv,sv48");
            fdt.BeginNode("interrupt-controller")
                .PropertyCells("#interrupt-cells", 1)
                .Property("interrupt-controller")
                .Property("compatible", "riscv,cpu-intc")
                .PropertyCells("phandle", cpuIntc[i])
                .EndNode();
            fdt.EndNode();
        }

        fdt.BeginNode("cpu-map").BeginNode("cluster0");
        for (int i = 0; i < o.CpuCount; i++)
        {
            fdt.BeginNode($"core{i}").PropertyCells("cpu", cpuNode[i]).EndNode();
        }

        fdt.EndNode().EndNode();
        fdt.EndNode(); // cpus

        fdt.BeginNode("poweroff")
            .PropertyCells("value", 0x5555)
            .PropertyCells("offset", 0)
            .PropertyCells("regmap", test)
            .Property("compatible", "syscon-poweroff")
            .EndNode();
        fdt.BeginNode("reboot")
            .PropertyCells("value", 0x7777)
            .PropertyCells("offset", 0)
            .PropertyCells("regmap", test)
            .Property("compatible", "syscon-reboot")
            .EndNode();

        fdt.BeginNode("soc")
            .PropertyCells("#address-cells", 2)
            .PropertyCells("#size-cells", 2)
            .Property("compatible", "simple-bus")
            .Property("ranges");

        fdt.BeginNode($"rtc@{VirtMemoryMap.RtcBase:x}")
            .PropertyCells("interrupts", VirtMemoryMap.RtcIrq)
            .PropertyCells("interrupt-parent", plic)
            .PropertyU64("reg", VirtMemoryMap.RtcBase, VirtMemoryMap.RtcSize)
            .Property("compatible", "google,goldfish-rtc")
            .EndNode();

        fdt.BeginNode($"serial@{VirtMemoryMap.UartBase:x}")
            .PropertyCells("interrupts", VirtMemoryMap.UartIrq)
            .PropertyCells("interrupt-parent", plic)
            .PropertyCells("clock-frequency", 0x38_4000)
            .PropertyU64("reg", VirtMemoryMap.UartBase, VirtMemoryMap.UartSize)
            .Property("compatible", "ns16550a")
            .EndNode();

        fdt.BeginNode($"test@{VirtMemoryMap.TestBase:x}")
            .PropertyCells("phandle", test)
            .PropertyU64("reg", VirtMemoryMap.TestBase, VirtMemoryMap.TestSize)
            .Property("compatible", "sifive,test1", "sifive,test0", "syscon")
            .EndNode();

        foreach (int slot in o.VirtioSlots)
        {
            ulong b = VirtMemoryMap.VirtioBase + ((ulong)slot * VirtMemoryMap.VirtioStride);
            fdt.BeginNode($"virtio_mmio@{b:x}")
                .PropertyCells("interrupts", (uint)VirtMemoryMap.VirtioIrq(slot))
                .PropertyCells("interrupt-parent", plic)
                .PropertyU64("reg", b, VirtMemoryMap.VirtioStride)
                .Property("compatible", "virtio,mmio")
                .EndNode();
        }

        // PLIC: contexts 2h (M-mode external, mip bit 11) and 2h+1 (S-mode external, bit 9) for hart h.
        var plicInterrupts = new List<uint>();
        var clintInterrupts = new List<uint>();
        for (int i = 0; i < o.CpuCount; i++)
        {
            plicInterrupts.AddRange([cpuIntc[i], 11, cpuIntc[i], 9]);
            clintInterrupts.AddRange([cpuIntc[i], 3, cpuIntc[i], 7]);
        }

        fdt.BeginNode($"plic@{VirtMemoryMap.PlicBase:x}")
            .PropertyCells("phandle", plic)
            .PropertyCells("riscv,ndev", VirtMemoryMap.PlicSources)
            .PropertyU64("reg", VirtMemoryMap.PlicBase, VirtMemoryMap.PlicSize)
            .PropertyCells("interrupts-extended", [.. plicInterrupts])
            .Property("interrupt-controller")
            .Property("compatible", "sifive,plic-1.0.0", "riscv,plic0")
            .PropertyCells("#address-cells", 0)
            .PropertyCells("#interrupt-cells", 1)
            .EndNode();

        fdt.BeginNode($"clint@{VirtMemoryMap.ClintBase:x}")
            .PropertyCells("interrupts-extended", [.. clintInterrupts])
            .PropertyU64("reg", VirtMemoryMap.ClintBase, VirtMemoryMap.ClintSize)
            .Property("compatible", "sifive,clint0", "riscv,clint0")
            .EndNode();

        fdt.EndNode(); // soc
        fdt.EndNode(); // root
        return fdt.Build();
    }
}
