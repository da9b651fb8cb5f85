namespace Vessel.Images.Tests;

public sealed class KernelModuleTests
{
    [Fact]
    public void ModuleInfo_ReadsNameDependsSoftdepsAndAliases()
    {
        byte[] elf = TestElf.Module(
            "license=GPL", "softdep=pre: crypto-crc32c post: extra-mod", "alias=fs-ext4", "alias=ext3",
            "depends=jbd2,mbcache,crc16", "name=ext4", "vermagic=6.12");

        KernelModuleInfo info = KernelModuleInfo.Parse(elf, "fallback");

        Assert.Equal("ext4", info.Name);
        Assert.Equal(["jbd2", "mbcache", "crc16"], info.Depends);
        Assert.Equal(["crypto-crc32c"], info.SoftPre);
        Assert.Equal(["extra-mod"], info.SoftPost);
        Assert.Equal(["fs-ext4", "ext3"], info.Aliases);
    }

    [Fact]
    public void ModuleInfo_EmptyDependsAndDashNames()
    {
        KernelModuleInfo info = KernelModuleInfo.Parse(TestElf.Module("depends=", "name=virtio-rng"), "x");
        Assert.Equal("virtio_rng", info.Name);
        Assert.Empty(info.Depends);
        Assert.Equal("virtio_rng", KernelModuleInfo.NameFromPath("kernel/drivers/char/hw_random/virtio-rng.ko.xz"));
    }

    [Fact]
    public void ModuleInfo_RejectsNonElf() =>
        Assert.Throws<InvalidDataException>(() => KernelModuleInfo.Parse(new byte[128], "x"));

    private static TempDirectory ModuleTree()
    {
        var dir = new TempDirectory();
        void Ko(string path, params string[] info)
        {
            string full = dir.Combine(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, TestElf.Module(info));
        }

        Ko("kernel/fs/ext4/ext4.ko", "softdep=pre: crypto-crc32c", "depends=jbd2,mbcache,crc16", "name=ext4");
        Ko("kernel/fs/jbd2/jbd2.ko", "softdep=pre: crypto-crc32c", "depends=", "name=jbd2");
        Ko("kernel/fs/mbcache.ko", "depends=", "name=mbcache");
        Ko("kernel/lib/crc16.ko", "depends=", "name=crc16");
        Ko("kernel/crypto/crc32c_generic.ko", "alias=crypto-crc32c", "alias=crc32c", "depends=", "name=crc32c_generic");
        Ko("kernel/drivers/net/virtio_net.ko", "depends=net_failover", "name=virtio_net");
        Ko("kernel/drivers/net/net_failover.ko", "depends=failover", "name=net_failover");
        Ko("kernel/net/core/failover.ko", "depends=", "name=failover");
        Ko("kernel/drivers/char/hw_random/virtio-rng.ko", "depends=rng-core", "name=virtio_rng");
        Ko("kernel/fs/broken.ko", "depends=not_there", "name=broken");
        File.WriteAllText(dir.Combine("modules.builtin"), "kernel/drivers/char/hw_random/rng-core.ko\nkernel/drivers/char/virtio_console.ko\n");
        return dir;
    }

    [Fact]
    public async Task Resolver_OrdersDependenciesFirst_ResolvesSoftdepAliases_SkipsBuiltins()
    {
        using TempDirectory tree = ModuleTree();
        var resolver = new KernelModuleResolver(tree.Path);

        KernelModuleSelection selection = await resolver.ResolveAsync(["virtio_net", "virtio-rng", "virtio_console", "ext4", "crc32c", "nonexistent"]);

        Assert.Equal(
            ["failover", "net_failover", "virtio_net", "virtio_rng", "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"],
            selection.Modules.Select(m => m.Name));
        Assert.Equal(["rng_core", "virtio_console"], selection.BuiltIn);
        Assert.Equal(["nonexistent"], selection.Missing);
        Assert.Equal("kernel/drivers/char/hw_random/virtio-rng.ko", selection.Modules.Single(m => m.Name == "virtio_rng").RelativePath);
    }

    [Fact]
    public async Task Resolver_MissingHardDependencyIsReported()
    {
        using TempDirectory tree = ModuleTree();
        KernelModuleSelection selection = await new KernelModuleResolver(tree.Path).ResolveAsync(["broken"]);
        Assert.Equal(["not_there"], selection.Missing);
    }

    [Fact]
    public async Task ModulesDep_ListsAllDependenciesFirstLoadedLast()
    {
        using TempDirectory tree = ModuleTree();
        KernelModuleSelection selection = await new KernelModuleResolver(tree.Path).ResolveAsync(["virtio_net", "ext4"]);

        string[] lines = selection.ToModulesDep().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("kernel/net/core/failover.ko:", lines);
        Assert.Contains("kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko", lines);
        Assert.Contains("kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko", lines);
    }

    [RequiresToolFact("xz")]
    public async Task Resolver_DecompressesXzModules()
    {
        using TempDirectory tree = ModuleTree();
        string ko = tree.Combine("kernel/fs/mbcache.ko");
        byte[] original = File.ReadAllBytes(ko);
        var (exitCode, output) = HostTools.Run("xz", ["--check=crc32", ko]);
        Assert.True(exitCode == 0, output);
        Assert.True(File.Exists(ko + ".xz"));

        KernelModuleSelection selection = await new KernelModuleResolver(tree.Path).ResolveAsync(["mbcache"]);

        KernelModule module = Assert.Single(selection.Modules);
        Assert.Equal("kernel/fs/mbcache.ko", module.RelativePath);
        Assert.Equal(original, module.Image);
    }
}
