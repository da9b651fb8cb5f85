using System.Text;

namespace Vessel.EndToEnd.Tests;

/// <summary>virtio-blk disks seen from a real Linux guest (`vessel run --disk`).</summary>
[Collection(GuestKitCollection.Name)]
public sealed class DiskTests : IDisposable
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private readonly string _disk = Path.Combine(Path.GetTempPath(), $"vessel-e2e-{Guid.NewGuid():N}.raw");

    public DiskTests()
    {
        using var f = File.Create(_disk);
        f.SetLength(32 << 20);
    }

    public void Dispose() => File.Delete(_disk);

    [GuestKitFact]
    public async Task GuestWritesReachTheImageAndFlushesComplete()
    {
        await using var vessel = VesselProcess.Start("run", "--disk", _disk);
        await vessel.SendAsync(
            "cat /sys/block/vda/size; echo vessel-disk-payload | dd of=/dev/vda bs=512 seek=8 conv=sync,fsync 2>/dev/null; " +
            "dd if=/dev/vda bs=512 skip=8 count=1 2>/dev/null | head -c 19; echo; echo DONE-$((1+1)); poweroff -f\n");
        await vessel.WaitForAsync("DONE-2", Boot);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("65536", vessel.Output); // 32 MiB in 512-byte sectors
        byte[] sector = new byte[19];
        using (var f = File.OpenRead(_disk))
        {
            f.Position = 8 * 512;
            f.ReadExactly(sector);
        }

        Assert.Equal("vessel-disk-payload", Encoding.ASCII.GetString(sector));
    }

    [GuestKitFact]
    public async Task BootsFromAnExt4RootDiskBuiltByBuildRootfs()
    {
        string root = _disk + ".root";
        try
        {
            await using (var build = VesselProcess.Start("images", "build-rootfs", root, "--size", "64M"))
            {
                Assert.Equal(0, await build.WaitForExitAsync(TimeSpan.FromMinutes(2)));
            }

            await using var vessel = VesselProcess.Start("run", "--disk", root, "--append", "console=ttyS0 root=/dev/vda rw");
            await vessel.SendAsync("grep ' / ' /proc/mounts; echo kept > /root/kept.txt; sync; echo ROOT-$((1+1))-OK; poweroff -f\n");
            await vessel.WaitForAsync("ROOT-2-OK", Boot);
            Assert.Contains("/dev/vda / ext4 rw", vessel.Output);
            Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }
        finally
        {
            File.Delete(root);
        }
    }

    [GuestKitFact]
    public async Task ReadOnlyDisksRejectWrites()
    {
        await using var vessel = VesselProcess.Start("run", "--disk", $"{_disk},readonly=on");
        await vessel.SendAsync("cat /sys/block/vda/ro; echo x | dd of=/dev/vda conv=fsync; echo STATUS-$?-END; poweroff -f\n");
        await vessel.WaitForAsync("-END", Boot);
        Assert.DoesNotContain("STATUS-0-END", vessel.Output);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.All(File.ReadAllBytes(_disk).Take(4096), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task AMissingDiskIsReported()
    {
        await using var vessel = VesselProcess.Start("run", "--bios", "/nonexistent", "--kernel", "/nonexistent", "--disk", "/nonexistent/disk.img");
        Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task BadDiskOptionsAreRejected()
    {
        await using var vessel = VesselProcess.Start("run", "--disk", "x.img,colour=blue");
        Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("unknown option", vessel.Output);
    }
}
