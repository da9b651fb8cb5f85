using System.Text.RegularExpressions;

namespace Vessel.EndToEnd.Tests;

/// <summary>Two VMs in separate `vessel run` processes on one virtual switch (`--net switch:NAME`).</summary>
[Collection(GuestKitCollection.Name)]
public sealed partial class SwitchNetworkTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(5);

    [GuestKitFact]
    public async Task TwoVmsOnASwitchPingEachOtherAndCopyTenMegabytes()
    {
        string lan = $"e2e{Guid.NewGuid():N}"[..16];
        string pcap = Path.Combine(Path.GetTempPath(), $"vessel-{lan}.pcap");
        try
        {
            await using var a = VesselProcess.Start("run", "--net", $"switch:{lan},pcap={pcap}", "--append", "console=ttyS0");
            await using var b = VesselProcess.Start("run", "--net", $"switch:{lan}", "--append", "console=ttyS0");
            await a.SendAsync("ip addr add 192.168.77.1/24 dev eth0; head -c 10485760 /dev/urandom > /tmp/blob; md5sum /tmp/blob; " +
                "nc -l -p 5000 < /tmp/blob & echo A-$((1+1))-READY\n");
            await b.SendAsync("ip addr add 192.168.77.2/24 dev eth0; echo B-$((1+1))-READY\n");
            int aReady = await a.WaitForAsync("A-2-READY", Boot);
            await b.WaitForAsync("B-2-READY", Boot);
            string sent = Md5Line().Match(a.Output[..aReady]).Groups[1].Value;
            Assert.NotEmpty(sent);

            await b.SendAsync("ping -c 3 192.168.77.1; nc 192.168.77.1 5000 > /tmp/got; md5sum /tmp/got; ls -l /tmp/got; echo B-$((2+1))-DONE\n");
            int bDone = await b.WaitForAsync("B-3-DONE", TimeSpan.FromMinutes(8));
            string output = b.Output[..bDone];
            Assert.Contains("3 packets received", output);
            Assert.Contains($"{sent}  /tmp/got", output);

            await a.SendAsync("poweroff -f\n");
            await b.SendAsync("poweroff -f\n");
            Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromMinutes(1)));

            // The capture of A's NIC is a pcap file (magic a1b2c3d4, Ethernet) holding the exchange.
            byte[] capture = await File.ReadAllBytesAsync(pcap);
            Assert.True(capture.Length > 10 << 20, $"capture has only {capture.Length} bytes");
            Assert.Equal(0xa1b2c3d4u, BitConverter.ToUInt32(capture, 0));
            Assert.Equal(1u, BitConverter.ToUInt32(capture, 20));
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [GeneratedRegex(@"([0-9a-f]{32})  /tmp/blob")]
    private static partial Regex Md5Line();
}
