using System.Diagnostics;

namespace Vessel.Images;

/// <summary>
/// The guest kit (DESIGN.md §7): Debian's riscv64 kernel <c>Image</c>, OpenSBI <c>fw_dynamic.bin</c> and an
/// initramfs built from busybox-static and the kernel's virtio/ext4/9p/vsock modules, cached under
/// <c>$XDG_CACHE_HOME/vessel/images/debian-SUITE-ARCH/</c>. Everything is downloaded from the host's Debian mirror
/// with signature and checksum verification (<see cref="DebianArchiveClient"/>).
/// </summary>
public sealed class GuestKit
{
    private const string StepIndex = "Reading package index";
    private const string StepUnpack = "Unpacking packages";
    private const string StepModules = "Resolving kernel modules";
    private const string StepInitramfs = "Building initramfs";
    private const string StepWaiting = "Waiting for another pull to finish";

    public GuestKit(GuestKitOptions? options = null)
    {
        Options = options ?? new GuestKitOptions();
        Cache = new GuestKitCache(Options.CacheRoot);
    }

    public GuestKitOptions Options { get; }

    public GuestKitCache Cache { get; }

    /// <summary>
    /// The default kit (Debian trixie riscv64 in the default cache), pulled first if it is missing, damaged or stale.
    /// This is what <c>vessel run</c> calls; it works offline once the kit is cached.
    /// </summary>
    public static async Task<GuestKitPaths> EnsureAsync(IProgress<GuestKitProgress>? progress = null, CancellationToken cancellationToken = default) =>
        (await new GuestKit().PullAsync(force: false, progress, cancellationToken).ConfigureAwait(false)).Paths;

    /// <summary>The cached kit if it is valid and current, without any download; else null.</summary>
    public async Task<GuestKitPaths?> TryGetCachedAsync(CancellationToken cancellationToken = default)
    {
        GuestKitStatus status = await Cache.CheckAsync(Options.KitName, cancellationToken).ConfigureAwait(false);
        return status.IsValid && IsCurrent(status.Manifest!)
            ? GuestKitPaths.In(status.Directory, status.Manifest!.KernelVersion)
            : null;
    }

    /// <summary>
    /// Builds the kit unless a valid, current one is cached (or <paramref name="force"/> is set). Throws
    /// <see cref="GuestKitException"/> with a one-line reason on failure; the previous kit, if any, is left as it was.
    /// </summary>
    public async Task<GuestKitPullResult> PullAsync(bool force, IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        bool waited = false;
        using IDisposable lockHandle = await Cache.LockAsync(
            () =>
            {
                waited = true;
                progress?.Report(new GuestKitProgress(StepWaiting, 0, null, Done: false));
            },
            cancellationToken).ConfigureAwait(false);
        if (waited)
        {
            progress?.Report(new GuestKitProgress(StepWaiting, 0, null, Done: true));
        }

        Cache.RemoveLeftovers();

        if (!force)
        {
            GuestKitStatus status = await Cache.CheckAsync(Options.KitName, cancellationToken).ConfigureAwait(false);
            if (status.IsValid && IsCurrent(status.Manifest!))
            {
                return new GuestKitPullResult(GuestKitPaths.In(status.Directory, status.Manifest!.KernelVersion), status.Manifest, Built: false, clock.Elapsed);
            }
        }

        string staging = Cache.CreateStagingDirectory(Options.KitName);
        try
        {
            GuestKitManifest manifest = await BuildAsync(staging, progress, cancellationToken).ConfigureAwait(false);
            Cache.Install(staging, Options.KitName);
            Cache.PruneDownloads(manifest.Packages.Select(p => Path.GetFileName(p.Filename)));
            return new GuestKitPullResult(GuestKitPaths.In(Cache.KitDirectory(Options.KitName), manifest.KernelVersion), manifest, Built: true, clock.Elapsed);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GuestKitException($"could not build the guest kit in {Cache.Root}: {ex.Message}", ex);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                try
                {
                    Directory.Delete(staging, recursive: true);
                }
                catch (IOException)
                {
                    // RemoveLeftovers cleans it up next time.
                }
            }
        }
    }

    private bool IsCurrent(GuestKitManifest manifest) =>
        manifest.Suite == Options.Suite && manifest.Architecture == Options.Architecture
        && manifest.RequestedModules.SequenceEqual(Options.Modules, StringComparer.Ordinal);

    private async Task<GuestKitManifest> BuildAsync(string staging, IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        DebianMirror mirror = Options.Mirror ?? DebianMirror.FromHost();
        string work = Path.Combine(staging, "work");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(Cache.DownloadsDirectory);

        using var archive = new DebianArchiveClient(mirror);
        ReleaseFile release = await archive.FetchReleaseAsync(Options.Suite, work, progress, cancellationToken).ConfigureAwait(false);
        PackageIndex index = await archive.FetchPackageIndexAsync(
            release, Options.Suite, Options.Component, Options.Architecture, work, progress, cancellationToken).ConfigureAwait(false);

        progress?.Report(new GuestKitProgress(StepIndex, 0, null, Done: false));
        DebianPackage kernelPackage = index.ResolveKernelPackage(Options.KernelMetapackage);
        string kernelVersion = kernelPackage.Name["linux-image-".Length..];
        DebianPackage firmwarePackage = index.Get(Options.FirmwarePackage);
        DebianPackage busyboxPackage = index.Get(Options.BusyboxPackage);
        DebianPackage[] packages = [kernelPackage, firmwarePackage, busyboxPackage];
        progress?.Report(new GuestKitProgress(StepIndex, 0, null, Done: true));

        string[] debs = await Task.WhenAll(packages.Select(
            p => archive.DownloadPackageAsync(p, Cache.DownloadsDirectory, progress, cancellationToken))).ConfigureAwait(false);

        progress?.Report(new GuestKitProgress(StepUnpack, 0, null, Done: false));
        string[] trees = packages.Select(p => Path.Combine(work, p.Name)).ToArray();
        await Task.WhenAll(debs.Select((deb, i) => DebExtractor.ExtractAsync(deb, trees[i], cancellationToken))).ConfigureAwait(false);
        progress?.Report(new GuestKitProgress(StepUnpack, 0, null, Done: true));

        GuestKitPaths output = GuestKitPaths.In(staging, kernelVersion);
        string kernelImage = FindFile(trees[0], kernelPackage, $"boot/vmlinux-{kernelVersion}");
        CheckRiscVImage(kernelImage, kernelPackage);
        File.Move(kernelImage, output.Kernel);
        File.Move(FindFile(trees[1], firmwarePackage, Options.FirmwarePath), output.Firmware);
        byte[] busybox = await File.ReadAllBytesAsync(FindFile(trees[2], busyboxPackage, "usr/bin/busybox", "bin/busybox"), cancellationToken).ConfigureAwait(false);

        progress?.Report(new GuestKitProgress(StepModules, 0, null, Done: false));
        string modulesDirectory = FindDirectory(trees[0], kernelPackage, $"usr/lib/modules/{kernelVersion}", $"lib/modules/{kernelVersion}");
        var resolver = new KernelModuleResolver(modulesDirectory);
        KernelModuleSelection modules = await resolver.ResolveAsync(Options.Modules, cancellationToken).ConfigureAwait(false);
        string builtinPath = Path.Combine(modulesDirectory, "modules.builtin");
        string? builtin = File.Exists(builtinPath) ? await File.ReadAllTextAsync(builtinPath, cancellationToken).ConfigureAwait(false) : null;
        progress?.Report(new GuestKitProgress(StepModules, 0, null, Done: true));

        progress?.Report(new GuestKitProgress(StepInitramfs, 0, null, Done: false));
        var builder = new InitramfsBuilder { Busybox = busybox, KernelVersion = kernelVersion, Modules = modules, ModulesBuiltin = builtin };
        await using (var stream = new FileStream(output.Initramfs, FileMode.CreateNew, FileAccess.Write))
        {
            builder.WriteCompressed(stream);
            stream.Flush(flushToDisk: true);
        }

        Directory.Delete(work, recursive: true);
        var files = new Dictionary<string, GuestKitManifest.FileEntry>(StringComparer.Ordinal);
        foreach (string name in GuestKitPaths.RequiredFiles)
        {
            string path = Path.Combine(staging, name);
            files[name] = new GuestKitManifest.FileEntry(await FileHash.Sha256Async(path, cancellationToken).ConfigureAwait(false), new FileInfo(path).Length);
        }

        var manifest = new GuestKitManifest
        {
            LayoutVersion = InitramfsBuilder.LayoutVersion,
            Name = Options.KitName,
            Suite = Options.Suite,
            Architecture = Options.Architecture,
            Mirror = mirror.BaseUri.ToString(),
            CreatedUtc = DateTimeOffset.UtcNow,
            KernelVersion = kernelVersion,
            Packages = packages.Select(p => new GuestKitManifest.Package(p.Name, p.Version, p.Filename, p.Sha256)).ToArray(),
            RequestedModules = Options.Modules.ToArray(),
            Modules = modules.Modules.Select(m => m.Name).ToArray(),
            BuiltInModules = modules.BuiltIn,
            MissingModules = modules.Missing,
            Files = files,
        };
        await AtomicFile.WriteAllTextAsync(Path.Combine(staging, GuestKitPaths.ManifestFileName), manifest.ToJson(), cancellationToken).ConfigureAwait(false);
        progress?.Report(new GuestKitProgress(StepInitramfs, 0, null, Done: true));
        return manifest;
    }

    private static string FindFile(string tree, DebianPackage package, params string[] candidates) =>
        candidates.Select(c => Path.Combine(tree, c)).FirstOrDefault(File.Exists)
        ?? throw new GuestKitException($"package {package.Name} {package.Version} has no {string.Join(" or ", candidates.Select(c => "/" + c))}.");

    private static string FindDirectory(string tree, DebianPackage package, params string[] candidates) =>
        candidates.Select(c => Path.Combine(tree, c)).FirstOrDefault(Directory.Exists)
        ?? throw new GuestKitException($"package {package.Name} {package.Version} has no {string.Join(" or ", candidates.Select(c => "/" + c))}.");

    /// <summary>Checks the RISC-V Linux Image header (Documentation/arch/riscv/boot-image-header.rst): "RISCV\0\0\0" at 48, "RSC\x05" at 56.</summary>
    private static void CheckRiscVImage(string path, DebianPackage package)
    {
        Span<byte> header = stackalloc byte[64];
        using (var stream = File.OpenRead(path))
        {
            stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }

        if (!header[48..56].SequenceEqual("RISCV\0\0\0"u8) || !header[56..60].SequenceEqual("RSC\x05"u8))
        {
            throw new GuestKitException($"{Path.GetFileName(path)} in {package.Name} {package.Version} is not a RISC-V Linux Image.");
        }
    }
}
