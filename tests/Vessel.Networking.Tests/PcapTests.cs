using System.Buffers.Binary;

namespace Vessel.Networking.Tests;

public sealed class PcapTests
{
    /// <summary>Reads a classic pcap file by the libpcap file-format definition, checking every header field.</summary>
    private static List<(DateTimeOffset Time, int OriginalLength, byte[] Data)> ReadPcap(byte[] file)
    {
        Assert.True(file.Length >= 24, "no global header");
        Assert.Equal(0xA1B2C3D4u, BinaryPrimitives.ReadUInt32LittleEndian(file));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6)));
        Assert.Equal(65535u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)));
        var records = new List<(DateTimeOffset, int, byte[])>();
        for (int p = 24; p < file.Length;)
        {
            Assert.True(p + 16 <= file.Length, "truncated record header");
            uint seconds = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p));
            uint micros = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p + 4));
            int included = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p + 8));
            int original = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p + 12));
            Assert.True(micros < 1_000_000);
            Assert.True(included <= original && included <= 65535);
            Assert.True(p + 16 + included <= file.Length, "truncated record data");
            records.Add((DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10), original, file.AsSpan(p + 16, included).ToArray()));
            p += 16 + included;
        }
        return records;
    }

    [Fact]
    public void PcapWriter_RoundTripsFramesTimestampsAndTruncatesAtSnaplen()
    {
        var stream = new MemoryStream();
        var time = new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero).AddTicks(1234560);
        byte[] small = GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway);
        byte[] giant = new byte[70000];
        new Random(5).NextBytes(giant);
        using (var writer = new PcapWriter(stream, leaveOpen: true))
        {
            writer.Write(small, time);
            writer.Write(giant, time.AddSeconds(1));
        }
        var records = ReadPcap(stream.ToArray());
        Assert.Equal(2, records.Count);
        Assert.Equal(time, records[0].Time);
        Assert.Equal(small, records[0].Data);
        Assert.Equal(70000, records[1].OriginalLength);
        Assert.Equal(giant[..65535], records[1].Data);
    }

    [Fact]
    public void CapturingPort_RecordsBothDirections()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vessel-pcap-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var port = new CapturingPort(new UserNetwork(), PcapWriter.Create(path)))
            {
                var guest = new FakeGuest(port);
                guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway));
                guest.Expect(f => f.EtherType == 0x0806);
                guest.Send(GuestFrames.IcmpEcho(GuestFrames.Guest, GuestFrames.Gateway, 1, 1, [1, 2, 3, 4]));
                guest.Expect(f => f.Protocol == 1);
            }
            var records = ReadPcap(File.ReadAllBytes(path));
            Assert.Equal(4, records.Count);
            Assert.Equal(GuestFrames.GuestMac, records[0].Data[6..12]); // request from the guest
            Assert.Equal(GuestFrames.GatewayMac, records[1].Data[6..12]); // reply toward the guest
            Assert.Equal(8, records[2].Data[34]); // echo request
            Assert.Equal(0, records[3].Data[34]); // echo reply
            Assert.True(records[3].Time >= records[0].Time);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PcapWriter_UnwritablePath_IsAClearError()
    {
        var error = Assert.Throws<NetworkConfigurationException>(() => PcapWriter.Create("/nonexistent-dir/x.pcap"));
        Assert.Contains("cannot create capture file '/nonexistent-dir/x.pcap'", error.Message, StringComparison.Ordinal);
    }
}
