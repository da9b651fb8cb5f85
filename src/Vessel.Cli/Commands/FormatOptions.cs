namespace Vessel.Cli.Commands;

/// <summary>
/// Format-specific options in qemu-img's <c>-o key=value[,key=value...]</c> syntax, e.g. <c>-o subformat=streamOptimized</c>.
/// </summary>
public static class FormatOptions
{
    /// <summary>Parses <paramref name="text"/> (null: no options); false with a message when the syntax is wrong.</summary>
    public static bool TryParse(string? text, out Dictionary<string, string> options, out string error)
    {
        options = new Dictionary<string, string>(StringComparer.Ordinal);
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == item.Length - 1)
            {
                error = $"invalid option '{item}' (expected key=value)";
                return false;
            }

            string key = item[..equals].Trim();
            if (!options.TryAdd(key, item[(equals + 1)..].Trim()))
            {
                error = $"option '{key}' given twice";
                return false;
            }
        }

        return true;
    }

    /// <summary>Null when every option is in <paramref name="known"/>, else a message naming the first unknown one.</summary>
    public static string? Unknown(IReadOnlyDictionary<string, string> options, string format, params string[] known)
    {
        foreach (string key in options.Keys)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                return known.Length == 0
                    ? $"format '{format}' takes no -o options (got '{key}')"
                    : $"unknown option '{key}' for format '{format}' (known: {string.Join(", ", known)})";
            }
        }

        return null;
    }
}
