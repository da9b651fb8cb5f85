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

    public void Append(ReadOnlySpan<char> chunk)
    {
        lock (_lock)
        {
            _text.Append(chunk);
            if (marker is not null && MarkerSeen is null)
            {
                // Only the tail can contain a marker that this chunk completed.
                int from = Math.Max(0, _text.Length - chunk.Length - marker.Length);
                if (_text.ToString(from, _text.Length - from).Contains(marker, StringComparison.Ordinal))
                {
                    MarkerSeen = launched.Elapsed;
                }
            }
        }
    }
}
