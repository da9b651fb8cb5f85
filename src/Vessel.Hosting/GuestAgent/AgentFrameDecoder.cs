using System.Buffers.Binary;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// Splits a byte stream into <see cref="AgentFrame"/>s. Bytes that do not begin a frame with a valid header checksum
/// are skipped one at a time, so the decoder resynchronises after garbage (boot noise, a tty echo, a torn frame);
/// frames with an unknown version, an oversized length or a bad payload checksum are counted and skipped. Memory is
/// bounded by one maximal frame.
/// </summary>
public sealed class AgentFrameDecoder
{
    private byte[] _buffer = new byte[4096];
    private int _count;

    /// <summary>Bytes and frames skipped as invalid so far.</summary>
    public long SkippedBytes { get; private set; }

    public long RejectedFrames { get; private set; }

    /// <summary>Adds bytes from the stream and returns the frames they complete, in order.</summary>
    public IReadOnlyList<AgentFrame> Feed(ReadOnlySpan<byte> data)
    {
        var frames = new List<AgentFrame>();
        while (!data.IsEmpty)
        {
            // Take only what can complete the frame being assembled, so the buffer never holds more than one frame.
            int room = AgentFrame.HeaderSize + AgentFrame.MaxPayload - _count;
            int take = Math.Min(room, data.Length);
            Append(data[..take]);
            data = data[take..];
            Drain(frames);
        }

        return frames;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_count + data.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_count + data.Length, Math.Min(_buffer.Length * 2, AgentFrame.HeaderSize + AgentFrame.MaxPayload)));
        }

        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;
    }

    private void Drain(List<AgentFrame> frames)
    {
        int used = 0;
        while (used < _count)
        {
            int step = TryTake(_buffer.AsSpan(used, _count - used), frames);
            if (step == 0)
            {
                break;
            }

            used += step;
        }

        _buffer.AsSpan(used, _count - used).CopyTo(_buffer);
        _count -= used;
    }

    /// <summary>Bytes consumed from the start of <paramref name="b"/>: a frame, one skipped byte, or 0 when more are needed.</summary>
    private int TryTake(ReadOnlySpan<byte> b, List<AgentFrame> frames)
    {
        ReadOnlySpan<byte> magic = "VAG"u8;
        for (int i = 0; i < Math.Min(3, b.Length); i++)
        {
            if (b[i] != magic[i])
            {
                SkippedBytes++;
                return 1;
            }
        }

        if (b.Length < AgentFrame.HeaderSize)
        {
            return 0;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(b[20..]) != Crc32.Compute(b[..20]))
        {
            SkippedBytes++;
            return 1;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        if (b[3] != AgentFrame.ProtocolVersion || length > AgentFrame.MaxPayload)
        {
            RejectedFrames++;
            return 1;
        }

        if (b.Length < AgentFrame.HeaderSize + (int)length)
        {
            return 0;
        }

        var payload = b.Slice(AgentFrame.HeaderSize, (int)length);
        if (BinaryPrimitives.ReadUInt32LittleEndian(b[16..]) != Crc32.Compute(payload))
        {
            RejectedFrames++;
            return 1;
        }

        frames.Add(new AgentFrame((AgentMessageType)b[4], BinaryPrimitives.ReadUInt32LittleEndian(b[8..]), payload.ToArray()));
        return AgentFrame.HeaderSize + (int)length;
    }
}
