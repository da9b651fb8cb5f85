using System.Security.Cryptography;

namespace Vessel.Images.Tests;

public sealed class GuestKitCacheTests
{
    private const string Name = "debian-trixie-riscv64";

    /// <summary>Writes a complete fake kit (three files and a matching manifest) into the cache.</summary>
    private static void WriteKit(GuestKitCache cache, int layoutVersion = InitramfsBuilder.LayoutVersion)
    {
        string dir = cache.KitDirectory(Name);
        Directory.CreateDirectory(dir);
        var files = new Dictionary<string, GuestKitManifest.FileEntry>();
        foreach (string file in GuestKitPaths.RequiredFiles)
        {
            byte[] data = RandomNumberGenerator.GetBytes(1000 + file.Length);
            File.WriteAllBytes(Path.Combine(dir, file), data);
            files[file] = new GuestKitManifest.FileEntry(Convert.ToHexStringLower(SHA256.HashData(data)), data.Length);
        }

        var manifest = new GuestKitManifest
        {
            LayoutVersion = layoutVersion,
            Name = Name,
            Suite = "trixie",
            Architecture = "riscv64",
            Mirror = "http://mirror.example/debian/",
            CreatedUtc = DateTimeOffset.UtcNow,
            KernelVersion = "6.12.117+deb13-riscv64",
            Packages = [new GuestKitManifest.Package("opensbi", "1.6-1", "pool/main/o/opensbi/opensbi_1.6-1_all.deb", "00")],
            RequestedModules = InitramfsBuilder.DefaultModules,
            Modules = ["virtio_mmio"],
            Files = files,
        };
        File.WriteAllText(Path.Combine(dir, GuestKitPaths.ManifestFileName), manifest.ToJson());
    }

    [Fact]
    public async Task CompleteKit_IsValid_AndManifestRoundTrips()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        WriteKit(cache);

        GuestKitStatus status = await cache.CheckAsync(Name);

        Assert.True(status.IsValid, status.Problem);
        Assert.Equal("6.12.117+deb13-riscv64", status.Manifest!.KernelVersion);
        Assert.Equal(3, status.Manifest.Files.Count);
        Assert.Contains("\"kernelVersion\": \"6.12.117+deb13-riscv64\"", File.ReadAllText(Path.Combine(status.Directory, "manifest.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorruptedFile_SameSize_IsNotValid()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        WriteKit(cache);
        string image = Path.Combine(cache.KitDirectory(Name), "Image");
        byte[] bytes = File.ReadAllBytes(image);
        bytes[500] ^= 0xFF;
        File.WriteAllBytes(image, bytes);

        GuestKitStatus status = await cache.CheckAsync(Name);

        Assert.False(status.IsValid);
        Assert.Equal("Image does not match its SHA-256", status.Problem);
    }

    [Fact]
    public async Task TruncatedOrMissingFile_IsNotValid()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        WriteKit(cache);
        File.WriteAllBytes(Path.Combine(cache.KitDirectory(Name), "fw_dynamic.bin"), [1, 2]);
        Assert.Equal("fw_dynamic.bin has the wrong size", (await cache.CheckAsync(Name)).Problem);

        File.Delete(Path.Combine(cache.KitDirectory(Name), "initramfs.cpio.gz"));
        Assert.False((await cache.CheckAsync(Name)).IsValid);
    }

    [Fact]
    public async Task MissingOrBrokenManifest_OrOldLayout_IsNotValid()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        Assert.Equal("not pulled", (await cache.CheckAsync(Name)).Problem);

        WriteKit(cache, layoutVersion: 0);
        Assert.StartsWith("stale", (await cache.CheckAsync(Name)).Problem, StringComparison.Ordinal);

        string manifest = Path.Combine(cache.KitDirectory(Name), GuestKitPaths.ManifestFileName);
        File.WriteAllText(manifest, "{ not json");
        Assert.Equal("manifest unreadable", (await cache.CheckAsync(Name)).Problem);

        File.Delete(manifest);
        Assert.Equal("no manifest (unfinished)", (await cache.CheckAsync(Name)).Problem);
    }

    [Fact]
    public async Task List_SkipsStagingFolders_InstallReplacesAtomically_LeftoversRemoved()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        WriteKit(cache);
        string staging = cache.CreateStagingDirectory(Name);
        File.WriteAllText(Path.Combine(staging, "partial"), "x");

        var listed = await cache.ListAsync();
        Assert.Equal([Name], listed.Select(k => k.Name));

        cache.Install(staging, Name);
        Assert.True(File.Exists(Path.Combine(cache.KitDirectory(Name), "partial")));
        Assert.False((await cache.CheckAsync(Name)).IsValid); // the new folder has no manifest
        Assert.Single(Directory.GetDirectories(cache.ImagesDirectory));

        cache.CreateStagingDirectory(Name);
        cache.RemoveLeftovers();
        Assert.Single(Directory.GetDirectories(cache.ImagesDirectory));
    }

    [Fact]
    public void DefaultRoot_UsesXdgCacheHomeElseHome()
    {
        Assert.Equal("/x/cache/vessel", GuestKitCache.DefaultRoot(n => n == "XDG_CACHE_HOME" ? "/x/cache" : "/home/u"));
        Assert.Equal("/home/u/.cache/vessel", GuestKitCache.DefaultRoot(n => n == "HOME" ? "/home/u" : null));
        Assert.Equal("/home/u/.cache/vessel", GuestKitCache.DefaultRoot(n => n == "HOME" ? "/home/u" : "relative"));
    }

    [Fact]
    public async Task Lock_IsExclusiveBetweenHolders()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        bool waited = false;
        IDisposable first = await cache.LockAsync(null, CancellationToken.None);
        Task<IDisposable> second = cache.LockAsync(() => waited = true, CancellationToken.None);
        await Task.Delay(400);
        Assert.False(second.IsCompleted);
        Assert.True(waited);
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public void PruneDownloads_KeepsOnlyNamedFiles()
    {
        using var root = new TempDirectory();
        var cache = new GuestKitCache(root.Path);
        Directory.CreateDirectory(cache.DownloadsDirectory);
        File.WriteAllText(Path.Combine(cache.DownloadsDirectory, "keep.deb"), "k");
        File.WriteAllText(Path.Combine(cache.DownloadsDirectory, "old.deb"), "o");

        cache.PruneDownloads(["keep.deb"]);

        Assert.Equal(["keep.deb"], Directory.GetFiles(cache.DownloadsDirectory).Select(Path.GetFileName));
    }
}
