using System.Globalization;

namespace Vessel.Images;

/// <summary>
/// A Debian archive Release file (the signed text of <c>dists/SUITE/InRelease</c>, see
/// https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files): its fields and the SHA256 list of the
/// index files it vouches for.
/// </summary>
public sealed class ReleaseFile
{
    private readonly Dictionary<string, string> _fields;
    private readonly Dictionary<string, (string Sha256, long Size)> _sha256;

    private ReleaseFile(Dictionary<string, string> fields, Dictionary<string, (string Sha256, long Size)> sha256)
    {
        _fields = fields;
        _sha256 = sha256;
    }

    public string? Codename => Field("Codename");

    public string? Suite => Field("Suite");

    public string? Date => Field("Date");

    /// <summary>True when the archive serves index files under <c>by-hash/SHA256/</c> (immune to mirror updates mid-download).</summary>
    public bool AcquireByHash => string.Equals(Field("Acquire-By-Hash"), "yes", StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<string> Architectures => Words("Architectures");

    public IReadOnlyList<string> Components => Words("Components");

    public string? Field(string name) => _fields.TryGetValue(name, out string? value) ? value : null;

    /// <summary>The SHA-256 and size the Release file gives for an index path such as "main/binary-riscv64/Packages.xz".</summary>
    public bool TryGetSha256(string path, out string sha256, out long size)
    {
        if (_sha256.TryGetValue(path, out var entry))
        {
            (sha256, size) = entry;
            return true;
        }

        sha256 = string.Empty;
        size = 0;
        return false;
    }

    /// <summary>Parses the (already verified) Release text: "Field: value" lines, the SHA256 field's lines being "hash size path".</summary>
    public static ReleaseFile Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var sha256 = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        string? current = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (char.IsWhiteSpace(line[0]))
            {
                if (current is not null && current.Equals("SHA256", StringComparison.OrdinalIgnoreCase))
                {
                    string[] parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                    {
                        sha256[parts[2]] = (parts[0].ToLowerInvariant(), size);
                    }
                }

                continue;
            }

            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            current = line[..colon];
            fields[current] = line[(colon + 1)..].Trim();
        }

        return new ReleaseFile(fields, sha256);
    }

    private string[] Words(string name) =>
        Field(name)?.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries) ?? [];
}
