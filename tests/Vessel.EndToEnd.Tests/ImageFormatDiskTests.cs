using System.Text;
using Vessel.Storage;

namespace Vessel.EndToEnd.Tests;

/// <summary>A real Linux guest writing to VMDK and VDI disks made by <c>vessel img create</c>.</summary>
[Collection(GuestKitCollection.Name)]
public sealed class ImageFormatDiskTests : IDisposable
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private readonly string _folder = Directory.CreateTempSubdirectory("vessel-e2e-formats-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [GuestKitFact]
    public async Task GuestWritesReachVmdkAndVdiImages()
    {
        string vmdk = Path.Combine(_folder, "disk.vmdk");
        string flat = Path.Combine(_folder, "flat.vmdk");
        string vdi = Path.Combine(_folder, "disk.vdi");
        foreach (string[] create in new[]
        {
            new[] { "img", "create", "-f", "vmdk", vmdk, "32M" },
            new[] { "img", "create", "-f", "vmdk", "-o", "subformat=monolithicFlat", flat, "16M" },
            new[] { "img", "create", "-f", "vdi", vdi, "24M" },
        })
        {
            await using var tool = VesselProcess.Start(create);
            Assert.Equal(0, await tool.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }

        await using (var vessel = VesselProcess.Start("run", "--disk", vmdk, "--disk", flat, "--disk", vdi))
        {
            // Each disk gets its name written at a sector in a not yet allocated grain / block.
            await vessel.SendAsync(
                "cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vdc/size; " +
                "echo payload-vmdk | dd of=/dev/vda bs=512 seek=60000 conv=sync,fsync 2>/dev/null; " +
                "echo payload-flat | dd of=/dev/vdb bs=512 seek=20000 conv=sync,fsync 2>/dev/null; " +
                "echo payload-vdi | dd of=/dev/vdc bs=512 seek=30000 conv=sync,fsync 2>/dev/null; " +
                "echo DONE-$((1+1)); poweroff -f\n");
            await vessel.WaitForAsync("DONE-2", Boot);
            Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("65536", vessel.Output); // 32 MiB in sectors
            Assert.Contains("32768", vessel.Output);
            Assert.Contains("49152", vessel.Output);
        }

        Assert.Equal("payload-vmdk", ReadText(vmdk, 60000 * 512UL, 12));
        Assert.Equal("payload-flat", ReadText(flat, 20000 * 512UL, 12));
        Assert.Equal("payload-vdi", ReadText(vdi, 30000 * 512UL, 11));
    }

    private static string ReadText(string image, ulong offset, int length)
    {
        using var disk = DiskImage.Open(image, readOnly: true);
        byte[] bytes = new byte[length];
        disk.Read(offset, bytes);
        return Encoding.ASCII.GetString(bytes);
    }
}
