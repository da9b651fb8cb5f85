using Vessel.Storage;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>An in-memory disk for device tests, counting flushes; writes can be held back.</summary>
internal sealed class MemoryBlockBackend(int size, bool readOnly = false) : IBlockBackend
{
    public byte[] Data { get; } = new byte[size];

    public int Flushes { get; private set; }

    public ulong Size => (ulong)Data.Length;

    public bool IsReadOnly => readOnly;

    public void Read(ulong offset, Span<byte> buffer) => Data.AsSpan((int)offset, buffer.Length).CopyTo(buffer);

    /// <summary>When set, writes wait for it: a slow disk, to see who waits for the backend.</summary>
    public ManualResetEventSlim? WriteGate { get; init; }

    /// <summary>The thread that ran the last write.</summary>
    public Thread? Writer { get; private set; }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        Writer = Thread.CurrentThread;
        WriteGate?.Wait();
        data.CopyTo(Data.AsSpan((int)offset));
    }

    public void Flush() => Flushes++;

    public void Discard(ulong offset, ulong length) => WriteZeroes(offset, length);

    public void WriteZeroes(ulong offset, ulong length) => Data.AsSpan((int)offset, (int)length).Clear();

    public void Dispose()
    {
    }
}
