using System.Globalization;
using Vessel.Devices.RateLimiting;
using Vessel.Machine.Abstractions;

namespace Vessel.Machine;

/// <summary>
/// The rate-limit keys of <c>--disk</c> (<c>bps=</c>, <c>iops=</c>) and <c>--net</c> (<c>bps=</c>, <c>pps=</c>), each with
/// an optional <c>_burst</c> (the bucket size). Byte values take sizes (<c>bps=10M</c>); operation values are counts.
/// </summary>
public static class IoRateLimitOption
{
    /// <summary>
    /// Applies <paramref name="key"/>=<paramref name="value"/> to <paramref name="limit"/> when the key is a rate-limit
    /// key; returns false when it is not one. <paramref name="error"/> is set when the key is one but the value is bad.
    /// </summary>
    public static bool TryApply(string key, string value, string opsKey, ref IoRateLimit? limit, out string? error)
    {
        error = null;
        bool bytes = key is "bps" or "bps_burst";
        if (!bytes && key != opsKey && key != opsKey + "_burst")
        {
            return false;
        }

        ulong number;
        if (bytes ? !DataSize.TryParse(value, out number) : !ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            error = $"{key}={value}: expected {(bytes ? "a byte rate such as 10M" : "a whole number of operations")} per second";
            return true;
        }

        if (number == 0 || number > (1UL << 50))
        {
            error = $"{key}={value}: must be between 1 and 2^50";
            return true;
        }

        var current = limit ?? new IoRateLimit();
        limit = key switch
        {
            "bps" => current with { BytesPerSecond = number },
            "bps_burst" => current with { BytesBurst = number },
            _ when key == opsKey => current with { OpsPerSecond = number },
            _ => current with { OpsBurst = number },
        };
        return true;
    }

    /// <summary>A burst without its rate is a mistake worth naming.</summary>
    public static string? Check(IoRateLimit? limit, string opsKey)
    {
        if (limit is null)
        {
            return null;
        }

        if (limit.BytesBurst != 0 && limit.BytesPerSecond == 0)
        {
            return "bps_burst needs bps";
        }

        return limit.OpsBurst != 0 && limit.OpsPerSecond == 0 ? $"{opsKey}_burst needs {opsKey}" : null;
    }
}
