using System.Globalization;

namespace Vessel.Images;

/// <summary>
/// A parsed Packages index (deb822 stanzas, https://wiki.debian.org/DebianRepository/Format#A.22Packages.22_Indices).
/// Only the fields the guest kit needs are kept. A suite lists one version per package and architecture; if a name
/// repeats, the first stanza wins.
/// </summary>
public sealed class PackageIndex
{
    private readonly Dictionary<string, DebianPackage> _packages;

    private PackageIndex(Dictionary<string, DebianPackage> packages) => _packages = packages;

    public int Count => _packages.Count;

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DebianPackage? package) =>
        _packages.TryGetValue(name, out package);

    /// <summary>The package called <paramref name="name"/>, or a <see cref="GuestKitException"/> naming what is missing.</summary>
    public DebianPackage Get(string name) =>
        _packages.TryGetValue(name, out DebianPackage? package)
            ? package
            : throw new GuestKitException($"package '{name}' is not in the archive's package index.");

    /// <summary>
    /// Follows a kernel metapackage such as "linux-image-riscv64" to the concrete image package it depends on
    /// (e.g. "linux-image-6.12.117+deb13-riscv64").
    /// </summary>
    public DebianPackage ResolveKernelPackage(string metapackage)
    {
        DebianPackage meta = Get(metapackage);
        string? concrete = meta.DependencyNames.FirstOrDefault(
            d => d.StartsWith("linux-image-", StringComparison.Ordinal) && d != metapackage);
        return concrete is null
            ? throw new GuestKitException($"package '{metapackage}' {meta.Version} depends on no linux-image package.")
            : Get(concrete);
    }

    public static PackageIndex Parse(TextReader reader)
    {
        var packages = new Dictionary<string, DebianPackage>(StringComparer.Ordinal);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            string? line = reader.ReadLine();
            if (line is null || line.Length == 0)
            {
                if (fields.Count > 0)
                {
                    Add(packages, fields);
                    fields.Clear();
                }

                if (line is null)
                {
                    break;
                }

                continue;
            }

            if (char.IsWhiteSpace(line[0]))
            {
                continue; // continuation of a multi-line field (Description, …): not needed
            }

            int colon = line.IndexOf(':');
            if (colon > 0)
            {
                string name = line[..colon];
                if (IsKept(name))
                {
                    fields[name] = line[(colon + 1)..].Trim();
                }
            }
        }

        return new PackageIndex(packages);
    }

    private static bool IsKept(string field) => field switch
    {
        "Package" or "Version" or "Architecture" or "Depends" or "Filename" or "Size" or "SHA256" => true,
        _ => false,
    };

    private static void Add(Dictionary<string, DebianPackage> packages, Dictionary<string, string> fields)
    {
        if (!fields.TryGetValue("Package", out string? name) || packages.ContainsKey(name)
            || !fields.TryGetValue("Filename", out string? filename)
            || !fields.TryGetValue("SHA256", out string? sha256)
            || !fields.TryGetValue("Size", out string? sizeText)
            || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
        {
            return;
        }

        packages[name] = new DebianPackage(
            name,
            fields.GetValueOrDefault("Version", string.Empty),
            fields.GetValueOrDefault("Architecture", string.Empty),
            fields.GetValueOrDefault("Depends", string.Empty),
            filename,
            size,
            sha256.ToLowerInvariant());
    }
}
