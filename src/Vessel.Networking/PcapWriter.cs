using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// Writes frames in the classic libpcap file format (LINKTYPE_ETHERNET, microsecond timestamps, snaplen 65535),
/// readable by tcpdump and Wireshark. Thread-safe: both directions of a link may write concurrently.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    public const int SnapLength = 65535;
    private const uint Magic = 0xA1B2_C3D4; // microsecond-resolution magic, written in little-endian byte order
    private const uint LinkTypeEthernet = 1;
    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly Lock gate = new();
    private readonly byte[] recordHeader = new byte[16];
    private bool disposed;

    public PcapWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0); // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        stream.Write(header);
        stream.Flush();
    }

    /// <summary>Creates (or truncates) a capture file.</summary>
    public static PcapWriter Create(string path)
    {
        try
        {
            return new PcapWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new NetworkConfigurationException($"cannot create capture file '{path}': {e.Message}", e);
        }
    }

    public void Write(ReadOnlySpan<byte> frame) => Write(frame, DateTimeOffset.UtcNow);

    public void Write(ReadOnlySpan<byte> frame, DateTimeOffset timestamp)
    {
        long microseconds = (timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        int captured = Math.Min(frame.Length, SnapLength);
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(recordHeader, (uint)(microseconds / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(recordHeader.AsSpan(4), (uint)(microseconds % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(recordHeader.AsSpan(8), (uint)captured);
            BinaryPrimitives.WriteUInt32LittleEndian(recordHeader.AsSpan(12), (uint)frame.Length);
            stream.Write(recordHeader);
            stream.Write(frame[..captured]);
            // Hand each record to the OS so a capture is usable even if the VM process dies.
            stream.Flush();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            stream.Flush();
            if (!leaveOpen)
            {
                stream.Dispose();
            }
        }
    }
}
