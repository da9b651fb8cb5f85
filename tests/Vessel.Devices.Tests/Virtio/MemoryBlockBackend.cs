using Vessel.Storage;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>An in-memory disk for device tests, counting flushes.</summary>
internal sealed class MemoryBlockBackend(int size, bool readOnly = false) : IBlockBackend
{
    public byte[] Data { get; } = new byte[size];

    public int Flushes { get; private set; }

    public ulong Size => (ulong)Data.Length;

    public bool IsReadOnly => readOnly;

    public void Read(ulong offset, Span<byte> buffer) => Data.AsSpan((int)offset, buffer.Length).CopyTo(buffer);

    public void Write(ulong offset, ReadOnlySpan<byte> data) => data.CopyTo(Data.AsSpan((int)offset));

    public void Flush() => Flushes++;

    public void Discard(ulong offset, ulong length) => WriteZeroes(offset, length);

    public void WriteZeroes(ulong offset, ulong length) => Data.AsSpan((int)offset, (int)length).Clear();

    public void Dispose()
    {
    }
}
