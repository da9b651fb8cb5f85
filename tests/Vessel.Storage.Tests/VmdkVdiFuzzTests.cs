using Vessel.Storage.Vdi;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage.Tests;

/// <summary>
/// Randomly corrupted VMDK and VDI files: opening and reading them either works or fails with
/// <see cref="DiskImageException"/> / <see cref="IOException"/>, never with any other exception.
/// </summary>
public sealed class VmdkVdiFuzzTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("sparse")]
    [InlineData("stream")]
    [InlineData("vdi")]
    public void CorruptedImagesFailCleanly(string kind)
    {
        string raw = _temp.File("source.raw");
        VmdkInteropTests.WritePatternWithHoles(raw, 3 << 20, seed: 12);
        string pristine = _temp.File("pristine.img");
        switch (kind)
        {
            case "sparse":
                ImageConverter.Convert(raw, "raw", pristine, ImageFormat.Vmdk);
                break;
            case "stream":
                ImageConverter.Convert(raw, "raw", pristine, ImageFormat.Vmdk, vmdkSubformat: VmdkSubformat.StreamOptimized);
                break;
            default:
                ImageConverter.Convert(raw, "raw", pristine, ImageFormat.Vdi);
                break;
        }

        byte[] original = File.ReadAllBytes(pristine);
        var random = new Random(kind.Length * 31);
        string victim = _temp.File("victim.img");
        byte[] buffer = new byte[256 << 10];
        int opened = 0;
        for (int round = 0; round < 150; round++)
        {
            byte[] bytes = (byte[])original.Clone();
            int flips = random.Next(1, 12);
            for (int f = 0; f < flips; f++)
            {
                // Mostly the metadata at the start and the end of the file, sometimes anywhere.
                int at = random.Next(3) switch
                {
                    0 => random.Next(Math.Min(bytes.Length, 4096)),
                    1 => bytes.Length - 1 - random.Next(Math.Min(bytes.Length, 2048)),
                    _ => random.Next(bytes.Length),
                };
                bytes[at] = (byte)random.Next(256);
            }

            if (random.Next(8) == 0)
            {
                Array.Resize(ref bytes, random.Next(bytes.Length));
            }

            File.WriteAllBytes(victim, bytes);
            try
            {
                using var disk = DiskImage.Open(victim, kind == "vdi" ? "vdi" : "vmdk", readOnly: true);
                opened++;
                for (ulong offset = 0; offset < Math.Min(disk.Size, 8UL << 20); offset += (ulong)buffer.Length)
                {
                    try
                    {
                        disk.Read(offset, buffer.AsSpan(0, (int)Math.Min((ulong)buffer.Length, disk.Size - offset)));
                    }
                    catch (IOException)
                    {
                        // A damaged grain or block is an I/O error for that read only.
                    }
                }
            }
            catch (DiskImageException)
            {
            }

            if (kind != "stream")
            {
                WriteIfItOpens(victim, kind == "vdi" ? "vdi" : "vmdk", random);
            }
        }

        Assert.True(opened > 0, "no corrupted image opened at all: the corruption is too coarse to test the read paths");
    }

    private static void WriteIfItOpens(string path, string format, Random random)
    {
        try
        {
            using var disk = DiskImage.Open(path, format, readOnly: false);
            for (int i = 0; i < 8 && disk.Size >= 4096; i++)
            {
                ulong offset = (ulong)random.NextInt64(0, (long)(disk.Size - 4096)) & ~511UL;
                try
                {
                    disk.Write(offset, TestData.Pattern(4096, i));
                    disk.WriteZeroes(offset & ~0xffffUL, Math.Min(1UL << 17, disk.Size - (offset & ~0xffffUL)));
                    disk.Flush();
                }
                catch (IOException)
                {
                }
            }
        }
        catch (DiskImageException)
        {
        }
        catch (IOException)
        {
            // Dispose flushes; a failed flush of a damaged image is an I/O error too.
        }
    }
}
