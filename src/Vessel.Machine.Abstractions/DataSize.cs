using System.Globalization;

namespace Vessel.Machine.Abstractions;

/// <summary>Sizes written the way QEMU users write them: <c>512M</c>, <c>2G</c>, <c>64K</c>, or plain bytes.</summary>
public static class DataSize
{
    public static bool TryParse(string? text, out ulong bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        int shift = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            _ => 0,
        };
        string digits = shift == 0 ? text : text[..^1];
        if (digits.EndsWith('B') || digits.EndsWith('b'))
        {
            return false;
        }

        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ||
            (shift > 0 && value > (ulong.MaxValue >> shift)))
        {
            return false;
        }

        bytes = value << shift;
        return true;
    }

    public static string Format(ulong bytes) => bytes switch
    {
        0 => "0",
        _ when bytes % (1UL << 40) == 0 => $"{bytes >> 40}T",
        _ when bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        _ when bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        _ when bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
