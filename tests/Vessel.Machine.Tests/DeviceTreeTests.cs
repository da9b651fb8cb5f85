using System.Buffers.Binary;
using System.Diagnostics;
using Vessel.Machine.DeviceTree;

namespace Vessel.Machine.Tests;

/// <summary>The FDT writer and the virt board's tree, checked structurally and by decompiling with dtc.</summary>
public sealed class DeviceTreeTests
{
    private static readonly VirtDeviceTree.Options TwoHarts =
        new(2, 512UL << 20, "console=ttyS0 quiet", 0x8820_0000, 0x8830_0000, [0]);

    [Fact]
    public void HeaderFollowsTheSpec()
    {
        byte[] blob = new FdtBuilder().BeginNode(string.Empty).PropertyCells("#address-cells", 2).EndNode().Build(3);
        Assert.Equal(0xD00D_FEEDu, BinaryPrimitives.ReadUInt32BigEndian(blob));
        Assert.Equal((uint)blob.Length, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(4)));
        Assert.Equal(17u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(20)));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(24)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(28)));
        uint structOffset = BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(8));
        Assert.Equal(0u, structOffset % 4);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan((int)structOffset))); // FDT_BEGIN_NODE
    }

    [Fact]
    public void UnbalancedNodesAreRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new FdtBuilder().BeginNode(string.Empty).Build());
        Assert.Throws<InvalidOperationException>(() => new FdtBuilder().EndNode());
        Assert.Throws<InvalidOperationException>(() => new FdtBuilder().PropertyCells("x", 1));
    }

    [Fact]
    public void PropertyNamesAreStoredOnce()
    {
        byte[] blob = new FdtBuilder().BeginNode(string.Empty)
            .BeginNode("a").Property("compatible", "x").EndNode()
            .BeginNode("b").Property("compatible", "y").EndNode()
            .EndNode().Build();
        uint stringsSize = BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(32));
        Assert.Equal((uint)"compatible\0".Length, stringsSize);
    }

    [DtcFact]
    public void VirtTreeDecompilesWithEveryDevice()
    {
        string source = Decompile(VirtDeviceTree.Build(TwoHarts));
        Assert.Contains("compatible = \"riscv-virtio\";", source);
        Assert.Contains("bootargs = \"console=ttyS0 quiet\";", source);
        Assert.Contains("stdout-path = \"/soc/serial@10000000\";", source);
        Assert.Contains("linux,initrd-start = <0x00 0x88200000>;", source);
        Assert.Contains("linux,initrd-end = <0x00 0x88300000>;", source);
        Assert.Contains("memory@80000000", source);
        Assert.Contains("reg = <0x00 0x80000000 0x00 0x20000000>;", source);
        Assert.Contains("timebase-frequency = <0x989680>;", source);
        Assert.Contains("cpu@0", source);
        Assert.Contains("cpu@1", source);
        Assert.Contains($"riscv,isa = \"{VirtDeviceTree.IsaString}\";", source);
        Assert.Contains("mmu-type = \"riscv,sv48\";", source);
        Assert.Contains("riscv,cpu-intc", source);
        Assert.Contains("plic@c000000", source);
        Assert.Contains("riscv,ndev = <0x5f>;", source);
        Assert.Contains("clint@2000000", source);
        Assert.Contains("serial@10000000", source);
        Assert.Contains("\"ns16550a\"", source);
        Assert.Contains("rtc@101000", source);
        Assert.Contains("google,goldfish-rtc", source);
        Assert.Contains("test@100000", source);
        Assert.Contains("syscon-poweroff", source);
        Assert.Contains("syscon-reboot", source);
        Assert.Contains("virtio_mmio@10001000", source);
        Assert.DoesNotContain("virtio_mmio@10002000", source);
    }

    [DtcFact]
    public void InterruptWiringMatchesQemu()
    {
        string source = Decompile(VirtDeviceTree.Build(TwoHarts));
        // Phandles 1..4 are the two cpus and their interrupt controllers: cpu0 = 1, intc0 = 2, cpu1 = 3, intc1 = 4.
        Assert.Contains("interrupts-extended = <0x02 0x0b 0x02 0x09 0x04 0x0b 0x04 0x09>;", source); // PLIC: M and S external
        Assert.Contains("interrupts-extended = <0x02 0x03 0x02 0x07 0x04 0x03 0x04 0x07>;", source); // CLINT: MSI and MTI
        Assert.Contains("interrupts = <0x0a>;", source); // UART on PLIC source 10
    }

    private static string Decompile(byte[] blob)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, blob);
            var psi = new ProcessStartInfo("dtc", $"-I dtb -O dts \"{path}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string errors = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"dtc failed: {errors}");
            return output;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
