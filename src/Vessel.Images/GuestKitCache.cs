namespace Vessel.Images;

/// <summary>
/// The on-disk cache of guest kits: <c>$XDG_CACHE_HOME/vessel</c> (default <c>~/.cache/vessel</c>, per the XDG Base
/// Directory Specification) holding <c>images/NAME/</c> (the kits) and <c>downloads/</c> (verified .deb files kept
/// for rebuilds). Kits are built in a staging folder and moved into place whole, manifest last, so a crash never
/// leaves a half-built kit that looks complete.
/// </summary>
public sealed class GuestKitCache
{
    private const string StagingPrefix = ".staging-";
    private const string OldPrefix = ".old-";

    public GuestKitCache(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    public string ImagesDirectory => Path.Combine(Root, "images");

    public string DownloadsDirectory => Path.Combine(Root, "downloads");

    /// <summary>The default cache root: <c>$XDG_CACHE_HOME/vessel</c> if that is an absolute path, else <c>$HOME/.cache/vessel</c>.</summary>
    public static string DefaultRoot(Func<string, string?>? getEnvironmentVariable = null)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        string? xdg = getEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "vessel");
        }

        string home = getEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "vessel");
    }

    public string KitDirectory(string name) => Path.Combine(ImagesDirectory, name);

    /// <summary>
    /// Checks a kit: its manifest parses and is of the current format and layout, and every required file is listed
    /// and present with the recorded size and SHA-256.
    /// </summary>
    public async Task<GuestKitStatus> CheckAsync(string name, CancellationToken cancellationToken = default)
    {
        string directory = KitDirectory(name);
        long size = Directory.Exists(directory)
            ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;
        GuestKitStatus Result(GuestKitManifest? manifest, string? problem) => new(name, directory, manifest, problem, size);

        string manifestPath = Path.Combine(directory, GuestKitPaths.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            return Result(null, Directory.Exists(directory) ? "no manifest (unfinished)" : "not pulled");
        }

        GuestKitManifest? manifest = GuestKitManifest.FromJson(await File.ReadAllTextAsync(manifestPath, cancellationToken).ConfigureAwait(false));
        if (manifest is null || manifest.Files is null)
        {
            return Result(null, "manifest unreadable");
        }

        if (manifest.Format != GuestKitManifest.CurrentFormat)
        {
            return Result(manifest, $"manifest format {manifest.Format}, expected {GuestKitManifest.CurrentFormat}");
        }

        foreach (string required in GuestKitPaths.RequiredFiles)
        {
            if (!manifest.Files.ContainsKey(required))
            {
                return Result(manifest, $"manifest lists no {required}");
            }
        }

        foreach (var (file, entry) in manifest.Files)
        {
            string path = Path.Combine(directory, file);
            if (file.Contains('/') || file.Contains('\\') || !File.Exists(path))
            {
                return Result(manifest, $"{file} missing");
            }

            if (new FileInfo(path).Length != entry.Size)
            {
                return Result(manifest, $"{file} has the wrong size");
            }

            if (await FileHash.Sha256Async(path, cancellationToken).ConfigureAwait(false) != entry.Sha256)
            {
                return Result(manifest, $"{file} does not match its SHA-256");
            }
        }

        if (manifest.LayoutVersion != InitramfsBuilder.LayoutVersion)
        {
            return Result(manifest, $"stale (layout {manifest.LayoutVersion}, current {InitramfsBuilder.LayoutVersion})");
        }

        return Result(manifest, null);
    }

    /// <summary>Every kit folder in the cache, checked, by name.</summary>
    public async Task<IReadOnlyList<GuestKitStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(ImagesDirectory))
        {
            return [];
        }

        var result = new List<GuestKitStatus>();
        foreach (string directory in Directory.GetDirectories(ImagesDirectory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(directory);
            if (!name.StartsWith('.'))
            {
                result.Add(await CheckAsync(name, cancellationToken).ConfigureAwait(false));
            }
        }

        return result;
    }

    /// <summary>A new, empty staging folder beside the kits (same file system, so it can be moved into place).</summary>
    public string CreateStagingDirectory(string name)
    {
        string path = Path.Combine(ImagesDirectory, $"{StagingPrefix}{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Moves a finished staging folder into place as kit <paramref name="name"/>, replacing any old one.</summary>
    public void Install(string stagingDirectory, string name)
    {
        string target = KitDirectory(name);
        string? old = null;
        if (Directory.Exists(target))
        {
            old = Path.Combine(ImagesDirectory, $"{OldPrefix}{name}-{Guid.NewGuid():N}");
            Directory.Move(target, old);
        }

        Directory.Move(stagingDirectory, target);
        if (old is not null)
        {
            TryDelete(old);
        }
    }

    /// <summary>Deletes staging and replaced folders that an interrupted pull left behind. Call while holding the lock.</summary>
    public void RemoveLeftovers()
    {
        if (!Directory.Exists(ImagesDirectory))
        {
            return;
        }

        foreach (string directory in Directory.GetDirectories(ImagesDirectory))
        {
            string name = Path.GetFileName(directory);
            if (name.StartsWith(StagingPrefix, StringComparison.Ordinal) || name.StartsWith(OldPrefix, StringComparison.Ordinal))
            {
                TryDelete(directory);
            }
        }
    }

    /// <summary>Deletes downloaded files other than <paramref name="keep"/> (file names), e.g. superseded kernel packages.</summary>
    public void PruneDownloads(IEnumerable<string> keep)
    {
        if (!Directory.Exists(DownloadsDirectory))
        {
            return;
        }

        var keepSet = new HashSet<string>(keep, StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(DownloadsDirectory))
        {
            if (!keepSet.Contains(Path.GetFileName(file)))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>
    /// Takes the cache's exclusive lock (an advisory lock on <c>images/.lock</c>), waiting while another process
    /// holds it. Dispose the result to release it.
    /// </summary>
    public async Task<IDisposable> LockAsync(Action? waiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(ImagesDirectory);
        string path = Path.Combine(ImagesDirectory, ".lock");
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (!told)
                {
                    waiting?.Invoke();
                    told = true;
                }

                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next RemoveLeftovers.
        }
    }
}
