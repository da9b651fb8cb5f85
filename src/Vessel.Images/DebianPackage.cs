namespace Vessel.Images;

/// <summary>One binary package stanza of an archive's Packages index (Debian Policy §5.3, plus Filename/Size/SHA256).</summary>
/// <param name="Name">The Package field.</param>
/// <param name="Version">The Version field, e.g. "6.12.117-1".</param>
/// <param name="Architecture">e.g. "riscv64" or "all".</param>
/// <param name="Depends">The Depends field as written (may be empty).</param>
/// <param name="Filename">Path of the .deb under the archive root, e.g. "pool/main/o/opensbi/opensbi_1.6-1_all.deb".</param>
/// <param name="Size">Size of the .deb in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the .deb.</param>
public sealed record DebianPackage(string Name, string Version, string Architecture, string Depends, string Filename, long Size, string Sha256)
{
    /// <summary>
    /// The package names in Depends, first alternative of each clause, without version constraints or arch
    /// qualifiers: "a (>= 1) | b, c:any" gives ["a", "c"].
    /// </summary>
    public IReadOnlyList<string> DependencyNames =>
        Depends.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(clause => clause.Split('|')[0].Trim())
            .Select(first => first.Split([' ', '(', '['], 2)[0].Split(':')[0])
            .Where(name => name.Length > 0)
            .ToArray();
}
