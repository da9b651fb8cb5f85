using System.Buffers.Binary;
using System.Text;

namespace Vessel.Machine.Abstractions.State;

/// <summary>
/// Writes device and hart state as tagged, versioned, length-prefixed sections of little-endian fields
/// (DESIGN.md §5), so a reader can name the section it failed on and refuse versions it does not know.
/// </summary>
public sealed class StateWriter
{
    private readonly MemoryStream _stream = new();
    private readonly Stack<long> _open = new();

    /// <summary>Starts a section; every <see cref="BeginSection"/> needs its <see cref="EndSection"/>.</summary>
    public void BeginSection(string tag, ushort version)
    {
        WriteString(tag);
        WriteUInt16(version);
        _open.Push(_stream.Position);
        WriteUInt32(0); // payload length, patched by EndSection
    }

    public void EndSection()
    {
        long lengthAt = _open.Pop();
        long end = _stream.Position;
        _stream.Position = lengthAt;
        WriteUInt32((uint)(end - lengthAt - 4));
        _stream.Position = end;
    }

    public void WriteBoolean(bool value) => _stream.WriteByte(value ? (byte)1 : (byte)0);

    public void WriteByte(byte value) => _stream.WriteByte(value);

    public void WriteUInt16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        _stream.Write(b);
    }

    public void WriteUInt32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _stream.Write(b);
    }

    public void WriteInt32(int value) => WriteUInt32((uint)value);

    public void WriteUInt64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _stream.Write(b);
    }

    public void WriteInt64(long value) => WriteUInt64((ulong)value);

    /// <summary>A length-prefixed byte block.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        _stream.Write(value);
    }

    public void WriteString(string value) => WriteBytes(Encoding.UTF8.GetBytes(value));

    public void WriteUInt32Array(ReadOnlySpan<uint> values)
    {
        WriteInt32(values.Length);
        foreach (uint v in values)
        {
            WriteUInt32(v);
        }
    }

    public void WriteUInt64Array(ReadOnlySpan<ulong> values)
    {
        WriteInt32(values.Length);
        foreach (ulong v in values)
        {
            WriteUInt64(v);
        }
    }

    public void WriteBooleanArray(ReadOnlySpan<bool> values)
    {
        WriteInt32(values.Length);
        foreach (bool v in values)
        {
            WriteBoolean(v);
        }
    }

    /// <summary>The bytes written so far; all sections must be closed.</summary>
    public byte[] ToArray()
    {
        if (_open.Count != 0)
        {
            throw new InvalidOperationException($"{_open.Count} state section(s) left open.");
        }

        return _stream.ToArray();
    }
}
