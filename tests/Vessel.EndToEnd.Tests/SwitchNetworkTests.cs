using System.Text.RegularExpressions;

namespace Vessel.EndToEnd.Tests;

/// <summary>Two VMs in separate `vessel run` processes on one virtual switch (`--net switch:NAME[,dhcp=on]`).</summary>
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

    [GuestKitFact]
    public async Task TwoVmsOnADhcpSwitchLeaseTheirOwnAddressesAndPingEachOther()
    {
        string lan = $"e2ed{Guid.NewGuid():N}"[..16];
        try
        {
            // No --append: the default command line has vessel.dhcp=1, so the kit's init runs udhcpc on eth0.
            await using var a = VesselProcess.Start("run", "--net", $"switch:{lan},dhcp=on");
            await using var b = VesselProcess.Start("run", "--net", $"switch:{lan},dhcp=on");
            await a.SendAsync("ip -4 addr show eth0 | grep inet; echo A-$((1+1))-READY\n");
            await b.SendAsync("ip -4 addr show eth0 | grep inet; echo B-$((1+1))-READY\n");
            int aReady = await a.WaitForAsync("A-2-READY", Boot);
            int bReady = await b.WaitForAsync("B-2-READY", Boot);
            string addressA = LeasedAddress().Match(a.Output[..aReady]).Groups[1].Value;
            string addressB = LeasedAddress().Match(b.Output[..bReady]).Groups[1].Value;
            Assert.NotEmpty(addressA);
            Assert.NotEmpty(addressB);
            Assert.NotEqual(addressA, addressB);

            await a.SendAsync($"ping -c 3 {addressB}; echo A-$((2+1))-DONE\n");
            await b.SendAsync($"ping -c 3 {addressA}; echo B-$((2+1))-DONE\n");
            int aDone = await a.WaitForAsync("A-3-DONE", TimeSpan.FromMinutes(2), aReady);
            int bDone = await b.WaitForAsync("B-3-DONE", TimeSpan.FromMinutes(2), bReady);
            Assert.Contains("3 packets received", a.Output[aReady..aDone]);
            Assert.Contains("3 packets received", b.Output[bReady..bDone]);

            await a.SendAsync("poweroff -f\n");
            await b.SendAsync("poweroff -f\n");
            Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }
        finally
        {
            string directory = Vessel.Networking.SwitchNetwork.DefaultRuntimeDirectory();
            File.Delete(Path.Combine(directory, lan + ".dhcp"));
            File.Delete(Path.Combine(directory, lan + ".leases"));
        }
    }

    [GeneratedRegex(@"inet (10\.0\.3\.\d+)/24")]
    private static partial Regex LeasedAddress();

    [GeneratedRegex(@"([0-9a-f]{32})  /tmp/blob")]
    private static partial Regex Md5Line();
}
