using System.Text;

namespace Vessel.Images.Tests;

public sealed class InitramfsBuilderTests
{
    private const string Version = "6.12.117+deb13-riscv64";

    private static byte[] FakeBusybox() =>
        // Some "code", then an applet table as busybox stores it (sorted, NUL-separated), then more bytes.
        [.. new byte[100], .. Encoding.ASCII.GetBytes("[\0[[\0ash\0busybox\0cat\0init\0ls\0sh\0zcat\0\x01\x02"), .. new byte[50]];

    private static async Task<List<NewcTestReader.Entry>> BuildAsync()
    {
        using var tree = new TempDirectory();
        File.WriteAllBytes(tree.Write("kernel/net/core/failover.ko", string.Empty), TestElf.Module("depends=", "name=failover"));
        File.WriteAllBytes(tree.Write("kernel/drivers/net/net_failover.ko", string.Empty), TestElf.Module("depends=failover", "name=net_failover"));
        KernelModuleSelection modules = await new KernelModuleResolver(tree.Path).ResolveAsync(["net_failover"]);
        var builder = new InitramfsBuilder
        {
            Busybox = FakeBusybox(),
            KernelVersion = Version,
            Modules = modules,
            ModulesBuiltin = "kernel/drivers/char/virtio_console.ko\n",
        };
        using var output = new MemoryStream();
        builder.WriteCompressed(output);
        return NewcTestReader.ReadGzip(output.ToArray());
    }

    [Fact]
    public async Task Layout_HasInitBusyboxDevicesEtcAndModules()
    {
        var entries = await BuildAsync();
        var byName = entries.ToDictionary(e => e.Name);

        var init = byName["init"];
        Assert.Equal(0x8000u, init.Type);
        Assert.Equal(0x1EDu, init.Permissions);
        Assert.StartsWith("#!/bin/sh\n", init.Text, StringComparison.Ordinal);
        Assert.Contains("mount -t devtmpfs", init.Text, StringComparison.Ordinal);
        Assert.Contains("Vessel guest ready", init.Text, StringComparison.Ordinal);
        Assert.Contains("exec switch_root /newroot", init.Text, StringComparison.Ordinal);
        Assert.Contains("exec /bin/busybox init", init.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("@PARAMETER_FUNCTION@", init.Text, StringComparison.Ordinal);

        Assert.Equal(FakeBusybox(), byName["bin/busybox"].Data);
        Assert.Equal(0x1EDu, byName["bin/busybox"].Permissions);
        foreach (string dir in new[] { "dev", "proc", "sys", "tmp", "root", "etc", "bin" })
        {
            Assert.Equal(0x4000u, byName[dir].Type);
        }

        Assert.Equal((5u, 1u), (byName["dev/console"].RdevMajor, byName["dev/console"].RdevMinor));
        Assert.Equal((1u, 3u), (byName["dev/null"].RdevMajor, byName["dev/null"].RdevMinor));
        Assert.StartsWith("root:", byName["etc/passwd"].Text, StringComparison.Ordinal);
        Assert.StartsWith("root:", byName["etc/group"].Text, StringComparison.Ordinal);
        Assert.Equal("vessel\n", byName["etc/hostname"].Text);
        Assert.Contains("cttyhack /bin/sh -l", byName["etc/inittab"].Text, StringComparison.Ordinal);
        Assert.Contains("PS1=", byName["etc/profile"].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Applets_AreLinkedFromTheTableAndTheRequiredList()
    {
        var links = (await BuildAsync()).Where(e => e.Type == 0xA000u).ToDictionary(e => e.Name, e => e.Text);

        Assert.All(links.Values, target => Assert.Equal("busybox", target));
        foreach (string applet in BusyboxApplets.Required)
        {
            Assert.True(links.ContainsKey($"bin/{applet}"), applet);
        }

        Assert.True(links.ContainsKey("bin/zcat")); // from the scanned table, not the required list
        Assert.False(links.ContainsKey("bin/busybox"));
        Assert.False(links.ContainsKey("bin/init"));
    }

    [Fact]
    public async Task Modules_AreUnderLibModulesWithDepAndLoadOrder()
    {
        var byName = (await BuildAsync()).ToDictionary(e => e.Name);
        string root = $"lib/modules/{Version}";

        Assert.True(byName.ContainsKey($"{root}/kernel/net/core/failover.ko"));
        Assert.True(byName.ContainsKey($"{root}/kernel/drivers/net/net_failover.ko"));
        Assert.Equal("kernel/net/core/failover.ko\nkernel/drivers/net/net_failover.ko\n", byName[$"{root}/vessel.modules"].Text);
        Assert.Contains("kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko", byName[$"{root}/modules.dep"].Text, StringComparison.Ordinal);
        Assert.Equal("kernel/drivers/char/virtio_console.ko\n", byName[$"{root}/modules.builtin"].Text);
    }

    [Fact]
    public void Build_IsReproducible()
    {
        static byte[] Build()
        {
            using var output = new MemoryStream();
            new InitramfsBuilder { Busybox = [1, 2, 3], KernelVersion = Version }.WriteCompressed(output);
            return output.ToArray();
        }

        Assert.Equal(Build(), Build());
    }

    [Fact]
    public void BusyboxScan_ReadsSortedTableAndStopsAtItsEnd()
    {
        Assert.Equal(["[", "[[", "ash", "cat", "ls", "sh", "zcat"], BusyboxApplets.Scan(FakeBusybox()));
        Assert.Empty(BusyboxApplets.Scan(new byte[64]));
    }
}
