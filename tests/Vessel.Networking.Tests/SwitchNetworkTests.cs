namespace Vessel.Networking.Tests;

public sealed class SwitchNetworkTests : IDisposable
{
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"vsw-{Guid.NewGuid():N}"[..16]);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static byte[] Frame(byte[] destination, byte source, byte tag)
    {
        var frame = new byte[60];
        destination.CopyTo(frame, 0);
        byte[] mac = [0x52, 0x54, 0, 0, 0, source];
        mac.CopyTo(frame, 6);
        frame[12] = 0x88;
        frame[13] = 0xB5; // IEEE local experimental EtherType
        frame[14] = tag;
        return frame;
    }

    private static byte[] Mac(byte id) => [0x52, 0x54, 0, 0, 0, id];

    private static void AssertReceives(FakeGuest guest, byte tag) =>
        guest.Expect(f => f.Raw[14] == tag, 3000);

    private static void AssertSilent(FakeGuest guest, byte tag)
    {
        ParsedFrame? frame;
        while ((frame = guest.TryNext(TimeSpan.FromMilliseconds(300))) != null)
        {
            Assert.NotEqual(tag, frame.Raw[14]);
        }
    }

    [Fact]
    public void ThreePorts_BroadcastFloods_UnicastIsLearned()
    {
        using SwitchPort a = SwitchNetwork.Connect("lab", directory), b = SwitchNetwork.Connect("lab", directory), c = SwitchNetwork.Connect("lab", directory);
        Assert.True(a.IsHub);
        Assert.False(b.IsHub);
        var ga = new FakeGuest(a);
        var gb = new FakeGuest(b);
        var gc = new FakeGuest(c);
        Thread.Sleep(100); // hellos reach the hub

        a.Send(Frame(Broadcast, 1, 10));
        AssertReceives(gb, 10);
        AssertReceives(gc, 10);
        AssertSilent(ga, 10);

        b.Send(Frame(Mac(1), 2, 11)); // A's MAC is known from the broadcast
        AssertReceives(ga, 11);
        AssertSilent(gc, 11);

        a.Send(Frame(Mac(9), 1, 12)); // unknown unicast floods
        AssertReceives(gb, 12);
        AssertReceives(gc, 12);

        a.Send(Frame(Mac(2), 1, 13)); // B's MAC was learned from its reply
        AssertReceives(gb, 13);
        AssertSilent(gc, 13);
        Assert.Equal(0, a.DroppedFrames + b.DroppedFrames + c.DroppedFrames);
    }

    [Fact]
    public void WhenTheHubPortCloses_AnotherPortTakesOver()
    {
        SwitchPort first = SwitchNetwork.Connect("failover", directory);
        using SwitchPort b = SwitchNetwork.Connect("failover", directory), c = SwitchNetwork.Connect("failover", directory);
        var gc = new FakeGuest(c);
        first.Dispose();
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(b.IsHub || c.IsHub))
        {
            Assert.True(DateTime.UtcNow < deadline, "no port took over the hub");
            Thread.Sleep(100);
        }
        Thread.Sleep(1500); // one keep-alive round so the new hub knows both ports
        b.Send(Frame(Broadcast, 2, 20));
        AssertReceives(gc, 20);
    }

    [Fact]
    public void BadNamesAndFrames_AreRejectedCleanly()
    {
        Assert.Throws<NetworkConfigurationException>(() => SwitchNetwork.Connect("../etc", directory));
        Assert.Throws<NetworkConfigurationException>(() => SwitchNetwork.Connect("", directory));
        using SwitchPort port = SwitchNetwork.Connect("ok-name_1", directory);
        port.Send(new byte[5]);
        port.Send(new byte[70_000]);
        Assert.Equal(2, port.DroppedFrames);
    }
}
