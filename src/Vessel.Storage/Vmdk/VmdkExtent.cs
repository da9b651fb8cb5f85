namespace Vessel.Storage.Vmdk;

/// <summary>
/// One extent of a VMDK disk: a run of <see cref="Sectors"/> sectors stored in one file (or nowhere, for ZERO).
/// Offsets passed in are relative to the extent's start; the caller keeps every access inside the extent.
/// </summary>
internal abstract class VmdkExtent : IDisposable
{
    protected VmdkExtent(string path, ulong sectors, bool readOnly)
    {
        Path = path;
        Sectors = sectors;
        IsReadOnly = readOnly;
    }

    /// <summary>The extent's file, for messages.</summary>
    public string Path { get; }

    public ulong Sectors { get; }

    public ulong Length => Sectors * 512;

    public bool IsReadOnly { get; }

    public abstract void Read(ulong offset, Span<byte> buffer);

    public abstract void Write(ulong offset, ReadOnlySpan<byte> data);

    public abstract void WriteZeroes(ulong offset, ulong length);

    public abstract void Discard(ulong offset, ulong length);

    public abstract void Flush();

    public virtual void Dispose()
    {
    }

    protected void CheckWritable()
    {
        if (IsReadOnly)
        {
            throw new IOException($"{Path}: the VMDK extent is read-only");
        }
    }
}
