using System.Diagnostics;

namespace Vessel.Images.Tests;

/// <summary>Pulls the real kit from the host's Debian mirror (once, into a temp cache) and, when QEMU is installed, boots it.</summary>
public sealed class RealPullTests : IClassFixture<RealPullTests.PulledKit>
{
    private readonly PulledKit _kit;

    public RealPullTests(PulledKit kit) => _kit = kit;

    /// <summary>The kit pulled into a temp cache root on first use; .debs already in the user's cache are copied in so CI does not download them twice.</summary>
    public sealed class PulledKit : IDisposable
    {
        private readonly TempDirectory _root = new();
        private readonly Lazy<Task<(GuestKit Kit, GuestKitPullResult Result)>> _pull;

        public PulledKit() => _pull = new(PullAsync);

        public Task<(GuestKit Kit, GuestKitPullResult Result)> Value => _pull.Value;

        public void Dispose() => _root.Dispose();

        private async Task<(GuestKit, GuestKitPullResult)> PullAsync()
        {
            var kit = new GuestKit(new GuestKitOptions { CacheRoot = _root.Path });
            string userDownloads = new GuestKitCache(GuestKitCache.DefaultRoot()).DownloadsDirectory;
            if (Directory.Exists(userDownloads))
            {
                Directory.CreateDirectory(kit.Cache.DownloadsDirectory);
                foreach (string deb in Directory.GetFiles(userDownloads, "*.deb"))
                {
                    File.Copy(deb, Path.Combine(kit.Cache.DownloadsDirectory, Path.GetFileName(deb)));
                }
            }

            return (kit, await kit.PullAsync(force: false, null, CancellationToken.None));
        }
    }

    [RequiresMirrorFact("gpgv", "xz", "dpkg-deb")]
    public async Task Pull_BuildsVerifiedKit_ThenIsANoOp_AndRebuildsWhenDamaged()
    {
        var (kit, result) = await _kit.Value;

        Assert.True(result.Built);
        GuestKitManifest m = result.Manifest;
        Assert.Equal(["linux-image-" + m.KernelVersion, "opensbi", "busybox-static"], m.Packages.Select(p => p.Name));
        Assert.EndsWith("-riscv64", m.KernelVersion, StringComparison.Ordinal);
        Assert.Contains("virtio_mmio", m.Modules.Concat(m.BuiltInModules));
        Assert.Contains("ext4", m.Modules.Concat(m.BuiltInModules));
        Assert.Empty(m.MissingModules);
        Assert.True(new FileInfo(result.Paths.Kernel).Length > 10 << 20);
        Assert.True((await kit.Cache.CheckAsync(m.Name)).IsValid);

        var entries = NewcTestReader.ReadGzip(File.ReadAllBytes(result.Paths.Initramfs)).Select(e => e.Name).ToHashSet();
        Assert.Contains("init", entries);
        Assert.Contains("bin/busybox", entries);
        Assert.Contains($"lib/modules/{m.KernelVersion}/vessel.modules", entries);

        GuestKitPullResult again = await kit.PullAsync(force: false, null, CancellationToken.None);
        Assert.False(again.Built);
        Assert.Equal(m.Files, again.Manifest.Files);

        await File.AppendAllTextAsync(result.Paths.Firmware, "damage");
        GuestKitPullResult rebuilt = await kit.PullAsync(force: false, null, CancellationToken.None);
        Assert.True(rebuilt.Built);
        Assert.Equal(m.Files, rebuilt.Manifest.Files); // same inputs, same outputs
    }

    [RequiresMirrorFact("gpgv", "xz", "dpkg-deb", "qemu-system-riscv64")]
    public async Task Kit_BootsUnderQemu_RunsVesselInit_AndPowersOff()
    {
        var (_, result) = await _kit.Value;
        GuestKitPaths p = result.Paths;
        var clock = Stopwatch.StartNew();

        var (exitCode, output) = HostTools.Run(
            "qemu-system-riscv64",
            ["-M", "virt", "-m", "512M", "-nographic", "-no-reboot", "-bios", p.Firmware, "-kernel", p.Kernel, "-initrd", p.Initramfs,
             "-append", "console=ttyS0 vessel.init='uname -a' vessel.poweroff=1"],
            timeoutMs: 180_000);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Vessel guest ready", output, StringComparison.Ordinal);
        Assert.Contains($"Linux vessel {p.KernelVersion}", output, StringComparison.Ordinal);
        Assert.Contains("vessel: vessel.init exited with status 0", output, StringComparison.Ordinal);
        Assert.Contains("reboot: Power down", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not loaded", output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180));
    }
}
