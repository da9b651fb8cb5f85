using System.Buffers.Binary;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// One message of the guest agent protocol, version 1 (the agent's side is src/Vessel.Images/GuestAgent/vessel-agent.c,
/// whose header comment is the full specification). Little-endian header of 24 bytes: "VAG", version, type, three
/// zero bytes, request id, payload length (at most <see cref="MaxPayload"/>), CRC-32 of the payload, CRC-32 of the
/// first 20 header bytes; then the payload. The header checksum lets a reader reject garbage at once instead of
/// waiting for a bogus payload length.
/// </summary>
public sealed record AgentFrame(AgentMessageType Type, uint Id, byte[] Payload)
{
    public const byte ProtocolVersion = 1;
    public const int HeaderSize = 24;
    public const int MaxPayload = 4 << 20;

    /// <summary>The frame as bytes on the wire.</summary>
    public byte[] Encode()
    {
        if (Payload.Length > MaxPayload)
        {
            throw new ArgumentException($"agent frame payload of {Payload.Length} bytes is over the {MaxPayload}-byte limit");
        }

        byte[] bytes = new byte[HeaderSize + Payload.Length];
        var header = bytes.AsSpan(0, HeaderSize);
        "VAG"u8.CopyTo(header);
        header[3] = ProtocolVersion;
        header[4] = (byte)Type;
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Id);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)Payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], Crc32.Compute(Payload));
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Crc32.Compute(header[..20]));
        Payload.CopyTo(bytes, HeaderSize);
        return bytes;
    }
}
