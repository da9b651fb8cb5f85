using System.Net.Sockets;
using System.Text;

namespace Vessel.EndToEnd.Tests;

/// <summary>virtio-rng and virtio-console seen from a real Linux guest.</summary>
[Collection(GuestKitCollection.Name)]
public sealed class VirtioDeviceTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);

    [GuestKitFact]
    public async Task GuestReadsTheHostEntropySourceThroughHwrng()
    {
        await using var vessel = VesselProcess.Start("run");
        await vessel.SendAsync(
            "cat /sys/class/misc/hw_random/rng_current; echo BYTES=$(head -c 4096 /dev/hwrng | wc -c)=; " +
            "head -c 4096 /dev/hwrng | gzip -c | wc -c; echo RNG-$((1+1)); poweroff -f\n");
        int done = await vessel.WaitForAsync("RNG-2", Boot);
        string output = vessel.Output[..done];
        Assert.Contains("virtio_rng.0", output);
        Assert.Contains("BYTES=4096=", output);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GuestKitFact]
    public async Task VirtioConsoleCarriesBytesBothWaysOverTheHostSocket()
    {
        string socketPath = Path.Combine(Path.GetTempPath(), $"vessel-hvc-{Guid.NewGuid():N}.sock");
        await using var vessel = VesselProcess.Start("run", "--virtio-console", socketPath);
        await vessel.WaitForAsync("Vessel guest ready", Boot);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        await vessel.SendAsync(
            "echo guest-to-host > /dev/hvc0; read -r line < /dev/hvc0; " +
            "echo GOT=$line=; poweroff -f\n");

        var received = new StringBuilder();
        byte[] buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        // hvc0 is a tty in cooked mode (each open resets it): the line arrives as "guest-to-host\r\n".
        while (!received.ToString().Contains("guest-to-host\r\n", StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no guest-to-host on the socket; got '{received}'; console:\n{vessel.Output}");
            }

            Assert.NotEqual(0, n);
            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        await client.SendAsync("host-to-guest\n"u8.ToArray(), SocketFlags.None);
        await vessel.WaitForAsync("GOT=host-to-guest=", TimeSpan.FromMinutes(2));
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.False(File.Exists(socketPath), "the socket is removed when the VM exits");
    }

    [GuestKitFact]
    public async Task VirtioConsoleRefusesToReplaceAFileWithData()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vessel-hvc-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, "precious");
        try
        {
            await using var vessel = VesselProcess.Start("run", "--virtio-console", path);
            Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("not a socket", vessel.Output);
            Assert.Equal("precious", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
