
namespace Vessel.EndToEnd.Tests;

/// <summary>
/// A guest writes a known pattern to /dev/vda on a qcow2, VHD or VMDK image that qemu-img created; after power-off,
/// <c>qemu-img convert -O raw</c> of the image gives back exactly that pattern and <c>qemu-img check</c> is clean.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class DiskFormatInteropTests : IDisposable
{
    private const int Sector = 512;
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-interop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // (sector, count): the start, across 64 KiB cluster / grain / block boundaries, and the last sector of 64 MiB.
    private static readonly (int Sector, int Count)[] Extents = [(0, 8), (127, 2), (4095, 3), (70_000, 40), ((64 << 11) - 1, 1)];

    [GuestKitTheory]
    [InlineData("qcow2", "")]
    [InlineData("vpc", "subformat=dynamic,force_size=on")]
    [InlineData("vpc", "subformat=fixed,force_size=on")]
    [InlineData("vmdk", "subformat=monolithicSparse")]
    public async Task GuestPatternSurvivesInTheImage(string format, string options)
    {
        string image = Path.Combine(_dir, $"disk.{format}");
        var create = new List<string> { "create", "-q", "-f", format };
        if (options.Length > 0)
        {
            create.AddRange(["-o", options]);
        }

        create.AddRange([image, "64M"]);
        Assert.Equal(0, HostCommand.Run("qemu-img", [.. create]).ExitCode);

        // Sector n holds "vessel-sector-n" padded with '.', made in the guest with printf and dd conv=sync.
        string commands = string.Join("; ", Extents.Select(e =>
            $"i={e.Sector}; while [ $i -lt {e.Sector + e.Count} ]; do printf 'vessel-sector-%d' $i | dd of=/dev/vda bs=512 seek=$i conv=sync,notrunc 2>/dev/null; i=$((i+1)); done"));
        await using (var vessel = VesselProcess.Start("run", "--disk", $"{image},format={format}"))
        {
            await vessel.SendAsync($"{commands}; sync; echo PATTERN-$((1+1))-DONE; poweroff -f\n");
            await vessel.WaitForAsync("PATTERN-2-DONE", TimeSpan.FromMinutes(6));
            Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }

        var check = HostCommand.Run("qemu-img", "check", "-f", format, image);
        Assert.True(check.ExitCode == 0 || check.Output.Contains("does not support checks", StringComparison.Ordinal), check.Output);
        string raw = Path.Combine(_dir, "disk.raw");
        Assert.Equal(0, HostCommand.Run("qemu-img", "convert", "-f", format, "-O", "raw", image, raw).ExitCode);
        byte[] bytes = File.ReadAllBytes(raw);
        var expected = new byte[bytes.Length];
        foreach (var (start, count) in Extents)
        {
            for (int s = start; s < start + count; s++)
            {
                System.Text.Encoding.ASCII.GetBytes($"vessel-sector-{s}").CopyTo(expected, s * Sector);
            }
        }

        // conv=sync pads with NULs, so every other byte of the disk is zero.
        int mismatch = bytes.AsSpan().CommonPrefixLength(expected);
        Assert.True(mismatch == bytes.Length, $"{format}: first difference at byte {mismatch} (sector {mismatch / Sector})");
    }
}
