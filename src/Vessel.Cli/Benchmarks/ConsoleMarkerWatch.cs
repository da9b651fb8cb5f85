using System.Diagnostics;
using System.Text;

namespace Vessel.Cli.Benchmarks;

/// <summary>Collects a guest's console text and notes when a marker first appears in it, measured from launch.</summary>
public sealed class ConsoleMarkerWatch(string? marker, Stopwatch launched)
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public TimeSpan? MarkerSeen { get; private set; }

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }

    public int Length
    {
        get
        {
            lock (_lock)
            {
                return _text.Length;
            }
        }
    }

    /// <summary>Whether <paramref name="value"/> occurs in the text from index <paramref name="from"/> on.</summary>
    public bool Contains(string value, int from)
    {
        lock (_lock)
        {
            from = Math.Clamp(from, 0, _text.Length);
            return _text.ToString(from, _text.Length - from).Contains(value, StringComparison.Ordinal);
        }
    }

    public void Append(char c) => Append([c]);

    public void Append(ReadOnlySpan<char> chunk)
    {
        lock (_lock)
        {
            int start = _text.Length;
            _text.Append(chunk);
            if (marker is { Length: > 0 } && MarkerSeen is null && EndsWithinTail(start))
            {
                MarkerSeen = launched.Elapsed;
            }
        }
    }

    /// <summary>
    /// Whether the marker ends somewhere in the text appended from <paramref name="start"/> on. Compares in place
    /// (the builder's last chunk is where the indexer is cheap) so the guest's byte-at-a-time UART output costs no
    /// string per byte.
    /// </summary>
    private bool EndsWithinTail(int start)
    {
        char last = marker![^1];
        for (int end = Math.Max(start, marker.Length - 1); end < _text.Length; end++)
        {
            if (_text[end] != last)
            {
                continue;
            }

            int from = end - marker.Length + 1;
            int i = marker.Length - 2;
            while (i >= 0 && _text[from + i] == marker[i])
            {
                i--;
            }

            if (i < 0)
            {
                return true;
            }
        }

        return false;
    }
}
