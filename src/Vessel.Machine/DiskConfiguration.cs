using Vessel.Devices.RateLimiting;

namespace Vessel.Machine;

/// <summary>
/// One virtual disk: an image file, its format (null: detect from content), whether the guest may write, an
/// optional I/O rate limit, and whether its requests run on an I/O thread of their own instead of the hart that
/// submits them.
/// </summary>
public sealed record DiskConfiguration(string Path, string? Format = null, bool ReadOnly = false, IoRateLimit? RateLimit = null, bool IoThread = false)
{
    /// <summary>
    /// Parses QEMU-style <c>FILE[,format=FMT][,readonly=on|off][,iothread=on|off][,bps=RATE][,iops=N][,bps_burst=SIZE][,iops_burst=N]</c>.
    /// Returns null and a message for bad input.
    /// </summary>
    public static DiskConfiguration? Parse(string text, out string? error)
    {
        error = null;
        string[] parts = text.Split(',');
        if (parts[0].Length == 0)
        {
            error = $"--disk {text}: no file name";
            return null;
        }

        string? format = null;
        bool readOnly = false, ioThread = false;
        IoRateLimit? limit = null;
        foreach (string option in parts.Skip(1))
        {
            int eq = option.IndexOf('=');
            string key = eq < 0 ? option : option[..eq];
            string value = eq < 0 ? string.Empty : option[(eq + 1)..];
            if (IoRateLimitOption.TryApply(key, value, "iops", ref limit, out string? limitError))
            {
                if (limitError is not null)
                {
                    error = $"--disk {text}: {limitError}";
                    return null;
                }

                continue;
            }

            switch (key)
            {
                case "format" when value.Length > 0:
                    format = value;
                    break;
                case "readonly" when value is "on" or "off" or "true" or "false" or "":
                    readOnly = value is "on" or "true" or "";
                    break;
                case "iothread" when value is "on" or "off" or "true" or "false" or "":
                    ioThread = value is "on" or "true" or "";
                    break;
                default:
                    error = $"--disk {text}: unknown option '{option}' (expected format=FMT, readonly=on|off, iothread=on|off, bps=, iops=, bps_burst= or iops_burst=)";
                    return null;
            }
        }

        if (IoRateLimitOption.Check(limit, "iops") is { } problem)
        {
            error = $"--disk {text}: {problem}";
            return null;
        }

        return new DiskConfiguration(parts[0], format, readOnly, limit, ioThread);
    }
}
