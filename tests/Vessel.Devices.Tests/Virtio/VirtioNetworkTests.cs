using System.Buffers.Binary;
using Vessel.Devices.Virtio;
using Vessel.Networking;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>virtio-net (virtio 1.2 §5.1): config, transmit with checksum completion, receive with mergeable buffers.</summary>
public sealed class VirtioNetworkTests : IDisposable
{
    private const ulong Csum = 1UL << 0, Mrg = 1UL << 15;
    private static readonly byte[] Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    private readonly List<byte[]> _sent = [];
    private readonly VirtioTestDriver _driver;

    public VirtioNetworkTests()
    {
        _driver = new VirtioTestDriver(m => new VirtioNetwork(m, Mac, frame => _sent.Add(frame.ToArray())), queues: 2);
    }

    private VirtioNetwork Nic => (VirtioNetwork)_driver.Device;

    public void Dispose() => _driver.Dispose();

    private static byte[] Frame(int length, byte seed)
    {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++)
        {
            f[i] = (byte)(seed + i);
        }

        return f;
    }

    [Fact]
    public void ConfigHasMacLinkUpAndMtu()
    {
        Assert.Equal(1u, _driver.Reg(0x008));
        byte[] config = new byte[12];
        for (int i = 0; i < 12; i++)
        {
            _driver.Transport.Read(0x100 + (ulong)i, 1, out ulong b);
            config[i] = (byte)b;
        }

        Assert.Equal(Mac, config[..6]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(6))); // VIRTIO_NET_S_LINK_UP
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(10)));
        ulong features = _driver.OfferedFeatures();
        Assert.Equal(Mrg | Csum | (1UL << 5) | (1UL << 16), features & (Mrg | Csum | (1UL << 5) | (1UL << 16)));
    }

    [Fact]
    public void TransmitStripsTheHeaderAndGathersSegments()
    {
        _driver.Initialize(Mrg);
        byte[] frame = Frame(100, 1);
        ulong h = VirtioTestDriver.Buffer(1, 0), d = VirtioTestDriver.Buffer(1, 1);
        _driver.Memory.GetSpan(h, 12).Clear();
        frame.CopyTo(_driver.Memory.GetSpan(d, 100));
        _driver.Post(1, [(h, 12, false), (d, 40, false), (d + 40, 60, false)]);
        Assert.Equal(frame, Assert.Single(_sent));
        Assert.Single(_driver.TakeUsed(1));
        Assert.Equal(1, Nic.TransmittedFrames);
    }

    [Fact]
    public void TransmitCompletesAPartialChecksum()
    {
        _driver.Initialize(Csum);
        // An IPv4/UDP frame whose UDP checksum field holds the pseudo-header sum, as Linux leaves it.
        byte[] frame = new byte[14 + 20 + 8 + 5];
        frame[12] = 0x08;
        frame[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 33);
        frame[23] = 17;
        byte[] src = [10, 0, 2, 15], dst = [10, 0, 2, 2];
        src.CopyTo(frame, 26);
        dst.CopyTo(frame, 30);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 1234);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), 53);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), 13);
        "hello"u8.CopyTo(frame.AsSpan(42));
        byte[] pseudo = [.. src, .. dst, 0, 17, 0, 13];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(40), (ushort)~InternetChecksum.Compute(pseudo));

        ulong h = VirtioTestDriver.Buffer(1, 0);
        var header = _driver.Memory.GetSpan(h, 12);
        header.Clear();
        header[0] = 1; // NEEDS_CSUM
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 34); // csum_start: UDP header
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 6);  // csum_offset: UDP checksum field
        frame.CopyTo(_driver.Memory.GetSpan(h + 12, frame.Length));
        _driver.Post(1, [(h, (uint)(12 + frame.Length), false)]);

        byte[] sent = Assert.Single(_sent);
        // A correct UDP checksum makes pseudo-header + UDP segment sum to 0xFFFF (checksum 0).
        byte[] check = [.. pseudo, .. sent.AsSpan(34).ToArray()];
        Assert.Equal(0, InternetChecksum.Compute(check));
    }

    [Fact]
    public void MalformedTransmitIsDroppedAndCounted()
    {
        _driver.Initialize();
        ulong h = VirtioTestDriver.Buffer(1, 0);
        _driver.Memory.GetSpan(h, 64).Clear();
        _driver.Post(1, [(h, 20, false)]); // header + 8 bytes: a runt
        _driver.Memory.GetSpan(h, 1)[0] = 1; // NEEDS_CSUM without the CSUM feature
        _driver.Post(1, [(h, 64, false)]);
        Assert.Empty(_sent);
        Assert.Equal(2, Nic.TransmitDropped);
        Assert.Equal(2, _driver.TakeUsed(1).Count);
        Assert.False(_driver.NeedsReset);
    }

    [Fact]
    public void ReceiveWaitsForBuffersAndFillsHeaderAndFrame()
    {
        _driver.Initialize(Mrg);
        byte[] frame = Frame(60, 7);
        Assert.True(Nic.TryReceive(frame));
        Assert.Empty(_driver.TakeUsed(0));
        ulong b = VirtioTestDriver.Buffer(0, 0);
        _driver.Post(0, [(b, 2048, true)]);
        var used = Assert.Single(_driver.TakeUsed(0));
        Assert.Equal(72u, used.Length);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(_driver.Memory.GetSpan(b + 10, 2))); // num_buffers
        Assert.Equal(frame, _driver.Memory.GetSpan(b + 12, 60).ToArray());
        Assert.True(_driver.Irq.Level);
    }

    [Fact]
    public void LargeFrameSpansSeveralMergeableBuffers()
    {
        _driver.Initialize(Mrg);
        for (int i = 0; i < 4; i++)
        {
            _driver.Post(0, [(VirtioTestDriver.Buffer(0, i), 1000, true)], notify: false);
        }

        byte[] frame = Frame(2500, 3);
        Assert.True(Nic.TryReceive(frame));
        var used = _driver.TakeUsed(0);
        Assert.Equal([1000u, 1000u, 512u], used.Select(u => u.Length));
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(_driver.Memory.GetSpan(VirtioTestDriver.Buffer(0, 0) + 10, 2)));
        byte[] got = [
            .. _driver.Memory.GetSpan(VirtioTestDriver.Buffer(0, 0) + 12, 988).ToArray(),
            .. _driver.Memory.GetSpan(VirtioTestDriver.Buffer(0, 1), 1000).ToArray(),
            .. _driver.Memory.GetSpan(VirtioTestDriver.Buffer(0, 2), 512).ToArray()];
        Assert.Equal(frame, got);
    }

    [Fact]
    public void WithoutMergeableBuffersATooSmallBufferDropsTheFrameNotTheBuffer()
    {
        _driver.Initialize();
        _driver.Post(0, [(VirtioTestDriver.Buffer(0, 0), 100, true)]);
        Assert.True(Nic.TryReceive(Frame(200, 1)));
        Assert.Empty(_driver.TakeUsed(0));
        Assert.Equal(1, Nic.ReceiveDropped);
        Assert.True(Nic.TryReceive(Frame(60, 1)));
        Assert.Equal(72u, Assert.Single(_driver.TakeUsed(0)).Length);
    }

    [Fact]
    public void ReceiveQueueOverflowDropsInsteadOfGrowing()
    {
        _driver.Initialize(Mrg);
        int accepted = 0;
        for (int i = 0; i < 2000; i++)
        {
            accepted += Nic.TryReceive(Frame(60, (byte)i)) ? 1 : 0;
        }

        Assert.True(accepted < 2000);
        Assert.Equal(2000 - accepted, Nic.ReceiveDropped);
        Assert.False(Nic.TryReceive(new byte[10])); // runt from the backend
    }
}
