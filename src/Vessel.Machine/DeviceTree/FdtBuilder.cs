using System.Buffers.Binary;
using System.Text;

namespace Vessel.Machine.DeviceTree;

/// <summary>
/// Writes a flattened devicetree blob (Devicetree Specification v0.4, chapter 5: header, memory reservation
/// block, structure block, strings block; all big-endian). Nodes are opened and closed in order; property
/// names are de-duplicated in the strings block.
/// </summary>
public sealed class FdtBuilder
{
    private const uint Magic = 0xD00D_FEED;
    private const uint BeginNodeToken = 1;
    private const uint EndNodeToken = 2;
    private const uint PropToken = 3;
    private const uint EndToken = 9;
    private const int HeaderSize = 40;

    private readonly MemoryStream _structure = new();
    private readonly MemoryStream _strings = new();
    private readonly Dictionary<string, int> _stringOffsets = new(StringComparer.Ordinal);
    private int _depth;
    private uint _nextPhandle = 1;

    /// <summary>Allocates a new phandle value for a node that others reference.</summary>
    public uint AllocatePhandle() => _nextPhandle++;

    public FdtBuilder BeginNode(string name)
    {
        WriteToken(BeginNodeToken);
        WriteAlignedString(_structure, name);
        _depth++;
        return this;
    }

    public FdtBuilder EndNode()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("EndNode without a matching BeginNode.");
        }

        WriteToken(EndNodeToken);
        _depth--;
        return this;
    }

    public FdtBuilder Property(string name, ReadOnlySpan<byte> value)
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("Properties belong inside a node.");
        }

        WriteToken(PropToken);
        WriteUInt32(_structure, (uint)value.Length);
        WriteUInt32(_structure, (uint)StringOffset(name));
        _structure.Write(value);
        Pad(_structure);
        return this;
    }

    /// <summary>A property with no value (a boolean such as <c>interrupt-controller</c>).</summary>
    public FdtBuilder Property(string name) => Property(name, ReadOnlySpan<byte>.Empty);

    /// <summary>A string, or a string list when several are given (each NUL-terminated).</summary>
    public FdtBuilder Property(string name, params string[] values)
    {
        var bytes = new List<byte>();
        foreach (string v in values)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(v));
            bytes.Add(0);
        }

        return Property(name, bytes.ToArray());
    }

    /// <summary>One or more 32-bit cells.</summary>
    public FdtBuilder PropertyCells(string name, params uint[] cells)
    {
        var bytes = new byte[cells.Length * 4];
        for (int i = 0; i < cells.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), cells[i]);
        }

        return Property(name, bytes);
    }

    /// <summary>64-bit values, each as two cells (for #address-cells = #size-cells = 2).</summary>
    public FdtBuilder PropertyU64(string name, params ulong[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return Property(name, bytes);
    }

    /// <summary>Finishes the blob. <paramref name="bootCpuId"/> goes into the header's boot_cpuid_phys.</summary>
    public byte[] Build(uint bootCpuId = 0)
    {
        if (_depth != 0)
        {
            throw new InvalidOperationException($"{_depth} node(s) are still open.");
        }

        var structure = new MemoryStream();
        structure.Write(_structure.GetBuffer(), 0, (int)_structure.Length);
        WriteUInt32(structure, EndToken);

        const int reserveMapOffset = HeaderSize; // 8-byte aligned
        const int reserveMapSize = 16;           // just the terminating empty entry
        int structOffset = reserveMapOffset + reserveMapSize;
        int stringsOffset = structOffset + (int)structure.Length;
        int total = stringsOffset + (int)_strings.Length;

        var blob = new byte[total];
        Span<byte> header = blob;
        BinaryPrimitives.WriteUInt32BigEndian(header[0..], Magic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)structOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)stringsOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[16..], reserveMapOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[20..], 17); // version
        BinaryPrimitives.WriteUInt32BigEndian(header[24..], 16); // last compatible version
        BinaryPrimitives.WriteUInt32BigEndian(header[28..], bootCpuId);
        BinaryPrimitives.WriteUInt32BigEndian(header[32..], (uint)_strings.Length);
        BinaryPrimitives.WriteUInt32BigEndian(header[36..], (uint)structure.Length);
        structure.GetBuffer().AsSpan(0, (int)structure.Length).CopyTo(blob.AsSpan(structOffset));
        _strings.GetBuffer().AsSpan(0, (int)_strings.Length).CopyTo(blob.AsSpan(stringsOffset));
        return blob;
    }

    private int StringOffset(string name)
    {
        if (!_stringOffsets.TryGetValue(name, out int offset))
        {
            offset = (int)_strings.Length;
            _strings.Write(Encoding.UTF8.GetBytes(name));
            _strings.WriteByte(0);
            _stringOffsets[name] = offset;
        }

        return offset;
    }

    private void WriteToken(uint token) => WriteUInt32(_structure, token);

    private static void WriteUInt32(Stream s, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        s.Write(b);
    }

    private static void WriteAlignedString(Stream s, string value)
    {
        s.Write(Encoding.UTF8.GetBytes(value));
        s.WriteByte(0);
        Pad(s);
    }

    private static void Pad(Stream s)
    {
        while ((s.Length & 3) != 0)
        {
            s.WriteByte(0);
        }
    }
}
