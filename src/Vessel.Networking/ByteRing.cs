namespace Vessel.Networking;

/// <summary>A fixed-capacity FIFO of bytes (a ring) with random-access reads, for TCP send buffers that are acknowledged later.</summary>
internal sealed class ByteRing
{
    private readonly byte[] buffer;
    private int head;

    public ByteRing(int capacity) => buffer = new byte[capacity];

    public int Count { get; private set; }

    public int Capacity => buffer.Length;

    public int Free => buffer.Length - Count;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length > Free)
        {
            throw new InvalidOperationException($"ring overflow: {data.Length} bytes into {Free} free");
        }
        int tail = (head + Count) % buffer.Length;
        int first = Math.Min(data.Length, buffer.Length - tail);
        data[..first].CopyTo(buffer.AsSpan(tail));
        data[first..].CopyTo(buffer);
        Count += data.Length;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes after the head, without removing them.</summary>
    public void CopyTo(int offset, Span<byte> destination)
    {
        if (offset < 0 || offset + destination.Length > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }
        int start = (head + offset) % buffer.Length;
        int first = Math.Min(destination.Length, buffer.Length - start);
        buffer.AsSpan(start, first).CopyTo(destination);
        buffer.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    public void Discard(int count)
    {
        if (count < 0 || count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        head = (head + count) % buffer.Length;
        Count -= count;
    }
}
