using System.Buffers.Binary;
using System.Text;

namespace Vessel.Machine.Abstractions.State;

/// <summary>
/// Reads what <see cref="StateWriter"/> wrote. Every read is bounds-checked against the enclosing section, so a
/// truncated or corrupt state fails with a <see cref="MachineStateException"/> naming the section, never a crash.
/// </summary>
public sealed class StateReader
{
    private readonly byte[] _data;
    private readonly Stack<(int End, string Tag)> _sections = new();
    private int _position;
    private int _end;

    public StateReader(byte[] data)
    {
        _data = data;
        _end = data.Length;
    }

    private string Where => _sections.Count == 0 ? "machine state" : $"state section '{_sections.Peek().Tag}'";

    /// <summary>Opens the next section, which must be <paramref name="tag"/> at a version up to <paramref name="maxVersion"/>; returns its version.</summary>
    public ushort BeginSection(string tag, ushort maxVersion)
    {
        string found = ReadString();
        if (found != tag)
        {
            throw new MachineStateException($"{Where}: expected section '{tag}' but found '{Truncate(found)}'; the state does not match this machine's configuration.");
        }

        ushort version = ReadUInt16();
        if (version == 0 || version > maxVersion)
        {
            throw new MachineStateException($"state section '{tag}' has version {version}; this build reads versions 1 to {maxVersion}.");
        }

        uint length = ReadUInt32();
        if (length > (uint)(_end - _position))
        {
            throw new MachineStateException($"state section '{tag}' claims {length} bytes but only {_end - _position} remain: the state is truncated.");
        }

        _sections.Push((_end, tag));
        _end = _position + (int)length;
        return version;
    }

    /// <summary>Closes the section; every byte of it must have been read.</summary>
    public void EndSection()
    {
        var (outerEnd, tag) = _sections.Pop();
        if (_position != _end)
        {
            throw new MachineStateException($"state section '{tag}' has {_end - _position} unexpected trailing bytes.");
        }

        _end = outerEnd;
    }

    public bool AtEnd => _position == _end;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _end - _position)
        {
            throw new MachineStateException($"{Where} is truncated: needed {count} more bytes, {_end - _position} remain.");
        }

        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    public bool ReadBoolean() => Take(1)[0] switch
    {
        0 => false,
        1 => true,
        var b => throw new MachineStateException($"{Where}: {b} is not a boolean."),
    };

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int ReadInt32() => (int)ReadUInt32();

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long ReadInt64() => (long)ReadUInt64();

    public byte[] ReadBytes() => Take(ReadCount(1)).ToArray();

    public string ReadString()
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Take(ReadCount(1)));
        }
        catch (DecoderFallbackException)
        {
            throw new MachineStateException($"{Where}: a name is not valid UTF-8; the state is corrupt.");
        }
    }

    /// <summary>Reads an array that must have exactly <paramref name="expected"/> elements (fixed by the machine's shape).</summary>
    public void ReadUInt32Array(Span<uint> into)
    {
        ExpectCount(into.Length);
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = ReadUInt32();
        }
    }

    public void ReadUInt64Array(Span<ulong> into)
    {
        ExpectCount(into.Length);
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = ReadUInt64();
        }
    }

    public void ReadBooleanArray(Span<bool> into)
    {
        ExpectCount(into.Length);
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = ReadBoolean();
        }
    }

    /// <summary>Fails unless <paramref name="condition"/> holds, for values a device would otherwise trust.</summary>
    public void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new MachineStateException($"{Where}: {what}.");
        }
    }

    private void ExpectCount(int expected)
    {
        int count = ReadInt32();
        if (count != expected)
        {
            throw new MachineStateException($"{Where}: {count} elements where this machine has {expected}; the state does not match the configuration.");
        }
    }

    private int ReadCount(int elementSize)
    {
        int count = ReadInt32();
        if (count < 0 || (long)count * elementSize > _end - _position)
        {
            throw new MachineStateException($"{Where} is corrupt: a length of {count} runs past its end.");
        }

        return count;
    }

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
