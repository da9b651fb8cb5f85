using System.Text;
using System.Text.RegularExpressions;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Crash safety of qcow2 disks: SIGKILL of the VM process in the middle of heavy guest writes leaves an image that
/// <c>qemu-img check</c> finds free of corruption (leaked clusters allowed), holding every write the guest flushed.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed partial class DiskCrashTests : IDisposable
{
    private const int BlockSize = 64 << 10;
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GuestKitFact]
    public async Task KillDuringHeavyWritesLosesNoFlushedWriteAndCorruptsNothing()
    {
        string image = Path.Combine(_dir, "disk.qcow2");
        Assert.Equal(0, HostCommand.Run("qemu-img", "create", "-q", "-f", "qcow2", image, "256M").ExitCode);

        await using var vessel = VesselProcess.Start("run", "--disk", image);
        // Each iteration writes 64 KiB blocks (new clusters and rewrites) and flushes; FLUSHED-n follows the fsync.
        // Unflushed background writers keep the device busy allocating when the kill lands.
        await vessel.SendAsync(
            "(i=0; while true; do yes junk-$i | head -c 65536 | dd of=/dev/vda bs=65536 seek=$((2000 + i % 1500)) 2>/dev/null; i=$((i+1)); done) &\n" +
            "i=0; while true; do yes block-$i | head -c 65536 | dd of=/dev/vda bs=65536 seek=$i conv=fsync 2>/dev/null && echo FLUSHED-$i; i=$((i+1)); done\n");
        await vessel.WaitForAsync("FLUSHED-25\r\n", TimeSpan.FromMinutes(6));
        await vessel.KillAsync();

        var check = HostCommand.Run("qemu-img", "check", image);
        Assert.True(check.ExitCode is 0 or 3, $"qemu-img check exit {check.ExitCode} (2 = corruption):\n{check.Output}");
        Assert.DoesNotContain("ERROR", check.Output);

        string raw = Path.Combine(_dir, "disk.raw");
        Assert.Equal(0, HostCommand.Run("qemu-img", "convert", "-O", "raw", image, raw).ExitCode);
        var flushed = FlushedMarker().Matches(vessel.Output).Select(m => int.Parse(m.Groups[1].Value)).Distinct().ToList();
        Assert.NotEmpty(flushed);
        using var disk = File.OpenRead(raw);
        byte[] block = new byte[BlockSize];
        foreach (int i in flushed)
        {
            disk.Position = (long)i * BlockSize;
            disk.ReadExactly(block);
            string expected = $"block-{i}\n";
            Assert.True(
                Encoding.ASCII.GetString(block, 0, expected.Length) == expected && Encoding.ASCII.GetString(block, BlockSize - 64, 64).Contains(expected[..^1]),
                $"flushed block {i} is not on the disk after the kill");
        }
    }

    [GeneratedRegex(@"FLUSHED-(\d+)\r\n")]
    private static partial Regex FlushedMarker();
}
