using System.IO.Compression;
using System.Text;

namespace Vessel.Images;

/// <summary>
/// Picks modules out of a kernel's <c>/lib/modules/VERSION</c> tree the way depmod and modprobe would: each wanted
/// module plus its hard dependencies (the <c>depends=</c> of its .modinfo) and soft "pre:"/"post:" dependencies,
/// skipping what <c>modules.builtin</c> / <c>modules.builtin.modinfo</c> say is built into the kernel.
/// </summary>
public sealed class KernelModuleResolver
{
    private readonly string _root;
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _builtIn = new(StringComparer.Ordinal);
    private readonly HashSet<string> _builtInAliases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KernelModule> _loaded = new(StringComparer.Ordinal);

    /// <param name="modulesDirectory">The <c>lib/modules/VERSION</c> folder (holding kernel/ and modules.builtin).</param>
    public KernelModuleResolver(string modulesDirectory)
    {
        _root = modulesDirectory;
        foreach (string file in Directory.EnumerateFiles(modulesDirectory, "*.ko*", SearchOption.AllDirectories))
        {
            if (IsModuleFile(file))
            {
                _files.TryAdd(KernelModuleInfo.NameFromPath(file), Path.GetRelativePath(modulesDirectory, file));
            }
        }

        string builtin = Path.Combine(modulesDirectory, "modules.builtin");
        if (File.Exists(builtin))
        {
            foreach (string line in File.ReadLines(builtin))
            {
                if (line.Trim().Length > 0)
                {
                    _builtIn.Add(KernelModuleInfo.NameFromPath(line.Trim()));
                }
            }
        }

        // modules.builtin.modinfo: NUL-separated "module.key=value" strings of the built-in modules.
        string builtinInfo = Path.Combine(modulesDirectory, "modules.builtin.modinfo");
        if (File.Exists(builtinInfo))
        {
            foreach (string entry in Encoding.UTF8.GetString(File.ReadAllBytes(builtinInfo)).Split('\0'))
            {
                int dot = entry.IndexOf('.');
                if (dot > 0 && entry.AsSpan(dot + 1).StartsWith("alias="))
                {
                    _builtIn.Add(KernelModuleInfo.NormalizeName(entry[..dot]));
                    _builtInAliases.Add(entry[(dot + "alias=".Length + 1)..]);
                }
            }
        }
    }

    /// <summary>Number of module files in the tree.</summary>
    public int ModuleFileCount => _files.Count;

    /// <summary>True when the kernel has <paramref name="name"/> built in.</summary>
    public bool IsBuiltIn(string name) => _builtIn.Contains(KernelModuleInfo.NormalizeName(name));

    /// <summary>Resolves <paramref name="wanted"/> (module names, '-' and '_' alike) to files in load order.</summary>
    public async Task<KernelModuleSelection> ResolveAsync(IEnumerable<string> wanted, CancellationToken cancellationToken = default)
    {
        var order = new List<KernelModule>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var builtIn = new List<string>();
        var missing = new List<string>();

        async Task VisitAsync(string name, bool required)
        {
            if (!visited.Add(name))
            {
                return;
            }

            KernelModule? module = await FindAsync(name, cancellationToken).ConfigureAwait(false);
            if (module is null)
            {
                if (IsBuiltIn(name) || _builtInAliases.Contains(name))
                {
                    builtIn.Add(name);
                }
                else if (required)
                {
                    missing.Add(name);
                }

                return;
            }

            if (module.Name != name && !visited.Add(module.Name))
            {
                return; // reached through an alias, but already placed
            }

            foreach (string pre in module.Info.SoftPre)
            {
                await VisitAsync(pre, required: false).ConfigureAwait(false);
            }

            foreach (string dep in module.Info.Depends)
            {
                await VisitAsync(dep, required: true).ConfigureAwait(false);
            }

            order.Add(module);
            foreach (string post in module.Info.SoftPost)
            {
                await VisitAsync(post, required: false).ConfigureAwait(false);
            }
        }

        foreach (string name in wanted)
        {
            await VisitAsync(KernelModuleInfo.NormalizeName(name), required: true).ConfigureAwait(false);
        }

        return new KernelModuleSelection(order, builtIn, missing);
    }

    /// <summary>
    /// The module file for a name or (for soft dependencies such as "crypto-crc32c") an alias. Aliases are only
    /// looked up in likely files — the name itself, without a "crypto-" prefix, and its "_generic" implementation —
    /// since indexing every alias would mean decompressing thousands of modules.
    /// </summary>
    private async Task<KernelModule?> FindAsync(string nameOrAlias, CancellationToken cancellationToken)
    {
        string normalized = KernelModuleInfo.NormalizeName(nameOrAlias);
        if (_files.ContainsKey(normalized))
        {
            return await LoadAsync(normalized, cancellationToken).ConfigureAwait(false);
        }

        if (IsBuiltIn(normalized) || _builtInAliases.Contains(nameOrAlias))
        {
            return null;
        }

        string stem = normalized.StartsWith("crypto_", StringComparison.Ordinal) ? normalized["crypto_".Length..] : normalized;
        foreach (string candidate in new[] { stem, stem + "_generic" })
        {
            if (_files.ContainsKey(candidate))
            {
                KernelModule module = await LoadAsync(candidate, cancellationToken).ConfigureAwait(false);
                if (module.Info.Aliases.Contains(nameOrAlias, StringComparer.Ordinal) || module.Name == normalized)
                {
                    return module;
                }
            }
        }

        return null;
    }

    private async Task<KernelModule> LoadAsync(string name, CancellationToken cancellationToken)
    {
        if (_loaded.TryGetValue(name, out KernelModule? cached))
        {
            return cached;
        }

        string relative = _files[name];
        string path = Path.Combine(_root, relative);
        byte[] image;
        string plainRelative;
        if (relative.EndsWith(".ko.xz", StringComparison.Ordinal))
        {
            image = await XzDecompressor.DecompressAsync(path, cancellationToken).ConfigureAwait(false);
            plainRelative = relative[..^3];
        }
        else if (relative.EndsWith(".ko.gz", StringComparison.Ordinal))
        {
            await using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            await gzip.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            image = buffer.ToArray();
            plainRelative = relative[..^3];
        }
        else
        {
            image = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            plainRelative = relative;
        }

        KernelModuleInfo info;
        try
        {
            info = KernelModuleInfo.Parse(image, name);
        }
        catch (InvalidDataException ex)
        {
            throw new GuestKitException($"kernel module {relative}: {ex.Message}.", ex);
        }

        var module = new KernelModule(info.Name, plainRelative.Replace('\\', '/'), image, info);
        _loaded[name] = module;
        return module;
    }

    private static bool IsModuleFile(string path) =>
        path.EndsWith(".ko", StringComparison.Ordinal) || path.EndsWith(".ko.xz", StringComparison.Ordinal)
        || path.EndsWith(".ko.gz", StringComparison.Ordinal);
}
