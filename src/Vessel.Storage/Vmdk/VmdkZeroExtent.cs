namespace Vessel.Storage.Vmdk;

/// <summary>A ZERO extent (spec "Extent Descriptions"): no file, reads as zeroes, cannot be written.</summary>
internal sealed class VmdkZeroExtent(string descriptorPath, ulong sectors) : VmdkExtent(descriptorPath, sectors, readOnly: true)
{
    public override void Read(ulong offset, Span<byte> buffer) => buffer.Clear();

    public override void Write(ulong offset, ReadOnlySpan<byte> data) =>
        throw new IOException($"{Path}: cannot write to a ZERO extent");

    public override void WriteZeroes(ulong offset, ulong length)
    {
        // Already reads as zeroes.
    }

    public override void Discard(ulong offset, ulong length)
    {
    }

    public override void Flush()
    {
    }
}
