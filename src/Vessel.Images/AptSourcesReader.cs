namespace Vessel.Images;

/// <summary>
/// Reads the host's apt sources in both formats of sources.list(5): the one-line format of
/// <c>/etc/apt/sources.list</c> and <c>sources.list.d/*.list</c>, and the deb822 format of
/// <c>sources.list.d/*.sources</c>. Files are read in apt's order: sources.list, then sources.list.d by name.
/// </summary>
public static class AptSourcesReader
{
    /// <summary>Every entry configured under <paramref name="etcAptDirectory"/>, in apt's order. Unreadable files are skipped.</summary>
    public static IReadOnlyList<AptSourceEntry> ReadAll(string etcAptDirectory = "/etc/apt")
    {
        var entries = new List<AptSourceEntry>();
        string main = Path.Combine(etcAptDirectory, "sources.list");
        if (File.Exists(main))
        {
            entries.AddRange(ParseOneLine(ReadOrEmpty(main), main));
        }

        string parts = Path.Combine(etcAptDirectory, "sources.list.d");
        if (Directory.Exists(parts))
        {
            // apt only reads files whose names end in .list or .sources (e.g. "x.list.disabled" is ignored).
            foreach (string file in Directory.GetFiles(parts).Order(StringComparer.Ordinal))
            {
                if (file.EndsWith(".list", StringComparison.Ordinal))
                {
                    entries.AddRange(ParseOneLine(ReadOrEmpty(file), file));
                }
                else if (file.EndsWith(".sources", StringComparison.Ordinal))
                {
                    entries.AddRange(ParseDeb822(ReadOrEmpty(file), file));
                }
            }
        }

        return entries;
    }

    /// <summary>
    /// Parses the one-line format: <c>deb [ key=value … ] URI SUITE [COMPONENT…]</c>; '#' starts a comment.
    /// </summary>
    public static IReadOnlyList<AptSourceEntry> ParseOneLine(string text, string origin)
    {
        var entries = new List<AptSourceEntry>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            // Options sit in brackets right after the type; they may be written "[a=b c=d]" or "[ a=b ]".
            string type;
            string? signedBy = null;
            string rest;
            int space = line.IndexOfAny([' ', '\t', '[']);
            if (space < 0)
            {
                continue;
            }

            type = line[..space];
            rest = line[space..].TrimStart();
            if (rest.StartsWith('['))
            {
                int close = rest.IndexOf(']');
                if (close < 0)
                {
                    continue;
                }

                foreach (string option in rest[1..close].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = option.IndexOf('=');
                    if (eq > 0 && option[..eq].Equals("signed-by", StringComparison.OrdinalIgnoreCase))
                    {
                        signedBy = option[(eq + 1)..];
                    }
                }

                rest = rest[(close + 1)..];
            }

            string[] words = rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || (type != "deb" && type != "deb-src"))
            {
                continue;
            }

            entries.Add(new AptSourceEntry([type], [words[0]], [words[1]], words[2..], signedBy, Enabled: true, $"{origin}:{i + 1}"));
        }

        return entries;
    }

    /// <summary>
    /// Parses the deb822 format: stanzas of <c>Field: value</c> lines separated by blank lines, continuation lines
    /// starting with whitespace, '#' lines as comments; field names are case-insensitive.
    /// </summary>
    public static IReadOnlyList<AptSourceEntry> ParseDeb822(string text, string origin)
    {
        var entries = new List<AptSourceEntry>();
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int stanzaLine = 0;
        string[] lines = text.Split('\n');
        for (int i = 0; i <= lines.Length; i++)
        {
            string line = i < lines.Length ? lines[i].TrimEnd('\r') : string.Empty;
            if (line.StartsWith('#'))
            {
                continue;
            }

            if (line.Trim().Length == 0)
            {
                if (fields.Count > 0)
                {
                    entries.Add(ToEntry(fields, $"{origin}:{stanzaLine}"));
                    fields.Clear();
                }

                continue;
            }

            if (fields.Count == 0)
            {
                stanzaLine = i + 1;
            }

            if (char.IsWhiteSpace(line[0]))
            {
                // A continuation line (e.g. an embedded Signed-By key block): keep only the first line's value.
                continue;
            }

            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return entries;
    }

    private static AptSourceEntry ToEntry(Dictionary<string, string> fields, string origin)
    {
        string[] Words(string name) => fields.TryGetValue(name, out string? value)
            ? value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            : [];

        string? signedBy = fields.TryGetValue("Signed-By", out string? s) && s.Length > 0 ? s : null;
        bool enabled = !fields.TryGetValue("Enabled", out string? e) || !e.Equals("no", StringComparison.OrdinalIgnoreCase);
        return new AptSourceEntry(Words("Types"), Words("URIs"), Words("Suites"), Words("Components"), signedBy, enabled, origin);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
