using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>resize, rebase, commit, compare and map, each checked against qemu-img and an expected raw image.</summary>
public sealed class ImageMaintenanceTests : IDisposable
{
    private const ulong Size = 4UL << 20;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgTheory]
    [InlineData(9)]
    [InlineData(16)]
    public void Qcow2GrowsAcrossL1EntriesAndShrinksOnlyWhenAsked(int clusterBits)
    {
        string qcow = _temp.File("disk.qcow2");
        string raw = _temp.File("disk.raw");
        Qcow2Image.Create(qcow, Size, clusterBits);
        RawImage.Create(raw, Size);
        WriteBoth(qcow, raw, Size, seed: 1);

        // 512-byte clusters map 32 KiB per L2 table: growing to 64 MiB needs a much larger L1 table.
        ulong grown = 64UL << 20;
        ImageResizer.Resize(qcow, null, grown, allowShrink: false);
        ImageResizer.Resize(raw, null, grown, allowShrink: false);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
        WriteBoth(qcow, raw, grown, seed: 2);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);

        ulong shrunk = (2UL << 20) + 512;
        Assert.Contains("--shrink", Assert.Throws<DiskImageException>(() => ImageResizer.Resize(qcow, null, shrunk, allowShrink: false)).Message);
        Assert.Contains("--shrink", Assert.Throws<DiskImageException>(() => ImageResizer.Resize(raw, null, shrunk, allowShrink: false)).Message);
        ImageResizer.Resize(qcow, null, shrunk, allowShrink: true);
        ImageResizer.Resize(raw, null, shrunk, allowShrink: true);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
        Assert.Contains($"\"virtual-size\": {shrunk}", QemuImg.Succeed("info", "--output=json", qcow));

        // Growing again must show zeroes, not the bytes that were cut off.
        ImageResizer.Resize(qcow, null, Size, allowShrink: false);
        ImageResizer.Resize(raw, null, Size, allowShrink: false);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
    }

    [QemuImgFact]
    public void ResizeRefusesOddAndOversizedSizes()
    {
        string qcow = _temp.File("disk.qcow2");
        Qcow2Image.Create(qcow, Size);
        Assert.Contains("multiple of 512", Assert.Throws<DiskImageException>(() => ImageResizer.Resize(qcow, null, Size + 1, false)).Message);
        Assert.Contains("too large", Assert.Throws<DiskImageException>(() => ImageResizer.Resize(qcow, null, 1UL << 62, false)).Message);
        string small = _temp.File("small-clusters.qcow2");
        Qcow2Image.Create(small, Size, clusterBits: 9);
        Assert.Contains("too large", Assert.Throws<DiskImageException>(() => ImageResizer.Resize(small, null, 1UL << 40, false)).Message); // L1 > 32 MiB
        QemuImg.Succeed("check", qcow);
    }

    [QemuImgTheory]
    [InlineData(12)]
    [InlineData(9)]
    public void ResizeWithSnapshotsKeepsSnapshotSizes(int clusterBits)
    {
        string qcow = _temp.File("disk.qcow2");
        string original = _temp.File("original.raw");
        Qcow2Image.Create(qcow, Size, clusterBits);
        RawImage.Create(original, Size);
        WriteBoth(qcow, original, Size, seed: 21);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            image.CreateSnapshot("small");
            image.Resize(Size * 16, allowShrink: false);
            image.Write(Size * 15, TestData.Pattern(70_000, 22));
            image.CreateSnapshot("big");
            image.Resize(Size / 2, allowShrink: true);
        }

        QemuImg.Succeed("check", qcow);
        Assert.Contains($"\"virtual-size\": {Size / 2}", QemuImg.Succeed("info", "--output=json", qcow));
        QemuImg.Succeed("snapshot", "-a", "small", qcow);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, original);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            image.ApplySnapshot("big");
            Assert.Equal(Size * 16, image.Size);
            Assert.Equal(TestData.Pattern(70_000, 22), TestData.ReadAll(image, Size * 15, 70_000));
            image.ApplySnapshot("small");
            Assert.Equal(Size, image.Size);
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, original);
    }

    [QemuImgFact]
    public void GrowingOverlayHidesLongerBackingFile()
    {
        string baseRaw = _temp.File("base.raw");
        RawImage.Create(baseRaw, Size * 2);
        using (var b = DiskImage.Open(baseRaw))
        {
            b.Write(0, TestData.Pattern((int)Size * 2, 3));
        }

        string overlay = _temp.File("overlay.qcow2");
        Qcow2Image.Create(overlay, Size, backingFile: "base.raw", backingFormat: "raw");
        ImageResizer.Resize(overlay, null, Size * 2, allowShrink: false);
        QemuImg.Succeed("check", overlay);
        string expected = _temp.File("expected.raw");
        File.Copy(baseRaw, expected);
        using (var e = DiskImage.Open(expected))
        {
            e.WriteZeroes(Size, Size);
        }

        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
    }

    [QemuImgTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void RebaseKeepsGuestContentUnlessUnsafe(bool unsafeMode)
    {
        string oldBase = _temp.File("old.qcow2");
        string newBase = _temp.File("new.qcow2");
        string overlay = _temp.File("overlay.qcow2");
        string expected = _temp.File("expected.raw");
        Qcow2Image.Create(oldBase, Size);
        Qcow2Image.Create(newBase, Size);
        RawImage.Create(expected, Size);
        WriteBoth(oldBase, expected, Size, seed: 4);
        using (var n = DiskImage.Open(newBase))
        {
            n.Write(Size / 2, TestData.Pattern(100_000, 5)); // differs from the old base here only
        }

        Qcow2Image.Create(overlay, Size, backingFile: "old.qcow2", backingFormat: "qcow2");
        WriteBoth(overlay, expected, Size, seed: 6);
        ImageRebaser.Rebase(overlay, "new.qcow2", "qcow2", unsafeMode);
        QemuImg.Succeed("check", overlay);
        string info = QemuImg.Succeed("info", "--output=json", overlay);
        Assert.Contains("\"backing-filename\": \"new.qcow2\"", info);
        Assert.Contains("\"backing-filename-format\": \"qcow2\"", info);
        var (code, _) = QemuImg.Run("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
        Assert.Equal(unsafeMode ? 1 : 0, code);
    }

    [QemuImgFact]
    public void RebaseOntoNothingFlattens()
    {
        string baseImage = _temp.File("base.qcow2");
        string overlay = _temp.File("overlay.qcow2");
        string expected = _temp.File("expected.raw");
        Qcow2Image.Create(baseImage, Size);
        RawImage.Create(expected, Size);
        WriteBoth(baseImage, expected, Size, seed: 7);
        Qcow2Image.Create(overlay, Size, backingFile: "base.qcow2", backingFormat: "qcow2");
        WriteBoth(overlay, expected, Size, seed: 8);
        ImageRebaser.Rebase(overlay, null, null, unsafeMode: false);
        File.Delete(baseImage);
        QemuImg.Succeed("check", overlay);
        Assert.DoesNotContain("backing", QemuImg.Succeed("info", "--output=json", overlay));
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
    }

    [QemuImgFact]
    public void CommitWritesOverlayIntoBackingAndEmptiesIt()
    {
        string baseImage = _temp.File("base.qcow2");
        string overlay = _temp.File("overlay.qcow2");
        string expected = _temp.File("expected.raw");
        Qcow2Image.Create(baseImage, Size);
        RawImage.Create(expected, Size);
        WriteBoth(baseImage, expected, Size, seed: 9);
        Qcow2Image.Create(overlay, Size, backingFile: "base.qcow2", backingFormat: "qcow2");
        WriteBoth(overlay, expected, Size, seed: 10);
        using (var o = DiskImage.Open(overlay))
        using (var e = DiskImage.Open(expected))
        {
            o.WriteZeroes(Size / 4, 1 << 20); // zero clusters must reach the backing file as zeroes
            e.WriteZeroes(Size / 4, 1 << 20);
        }

        ImageCommitter.Commit(overlay);
        QemuImg.Succeed("check", baseImage);
        QemuImg.Succeed("check", overlay);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", baseImage, expected);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
        Assert.All(ImageMapper.Map(overlay, null), e => Assert.Equal(1, e.Depth));

        // -d keeps the overlay's clusters.
        using (var o = DiskImage.Open(overlay))
        {
            o.Write(0, TestData.Pattern(4096, 11));
        }

        ImageCommitter.Commit(overlay, emptyOverlay: false);
        Assert.Equal(0, ImageMapper.Map(overlay, null)[0].Depth);
        QemuImg.Succeed("compare", baseImage, overlay);
        Assert.Contains("does not have a backing file", Assert.Throws<DiskImageException>(() => ImageCommitter.Commit(baseImage)).Message);
    }

    [QemuImgFact]
    public void CompareFindsFirstDifferenceAndTreatsExtraSizeAsZeroes()
    {
        string a = _temp.File("a.qcow2");
        string b = _temp.File("b.raw");
        Qcow2Image.Create(a, Size);
        RawImage.Create(b, Size * 2);
        Assert.True(ImageComparer.Compare(a, null, b, null).Identical);
        Assert.True(ImageComparer.Compare(a, null, b, null).SizeMismatch);
        using (var disk = DiskImage.Open(b))
        {
            disk.Write(Size + 1000, [1]);
        }

        Assert.Equal(Size + 512, ImageComparer.Compare(a, null, b, null).FirstMismatch);
        Assert.Equal(1, QemuImg.Run("compare", a, b).ExitCode);
        using (var disk = DiskImage.Open(a))
        {
            disk.Write(70_000, [7]);
        }

        var result = ImageComparer.Compare(a, "qcow2", b, "raw");
        Assert.False(result.Identical);
        Assert.Equal(69_632UL, result.FirstMismatch);
        Assert.Contains("offset 69632", QemuImg.Run("compare", a, b).Output);
    }

    [QemuImgFact]
    public void MapMatchesQemuImgMap()
    {
        string baseImage = _temp.File("base.qcow2");
        string overlay = _temp.File("overlay.qcow2");
        QemuImg.Succeed("create", "-f", "qcow2", baseImage, Size.ToString());
        QemuImg.Succeed("create", "-f", "qcow2", "-b", baseImage, "-F", "qcow2", overlay);
        using (var b = DiskImage.Open(baseImage))
        {
            b.Write(0, TestData.Pattern(131072, 1));
            b.WriteZeroes(1 << 20, 65536);
        }

        using (var o = DiskImage.Open(overlay))
        {
            o.Write(65536, TestData.Pattern(65536, 2));
            o.WriteZeroes(2 << 20, 65536);
            o.Write(3 << 20, TestData.Pattern(512, 3));
        }

        string expected = QemuImg.Succeed("map", "--output=json", overlay);
        var actual = ImageMapper.Map(overlay, null);
        string[] lines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, actual.Count);
        for (int i = 0; i < actual.Count; i++)
        {
            var e = actual[i];
            string json = $"\"start\": {e.Start}, \"length\": {e.Length}, \"depth\": {e.Depth}, \"present\": {Lower(e.Present)}, " +
                $"\"zero\": {Lower(e.Zero)}, \"data\": {Lower(e.Data)}" + (e.Offset is { } off ? $", \"offset\": {off}" : string.Empty) + "}";
            Assert.Contains(json, lines[i]);
        }
    }

    [QemuImgFact]
    public void RawMapShowsHolesLikeQemuImg()
    {
        string raw = _temp.File("sparse.raw");
        RawImage.Create(raw, Size);
        using (var disk = DiskImage.Open(raw))
        {
            disk.Write(0, TestData.Pattern(65536, 1));
            disk.Write(1 << 20, TestData.Pattern(65536, 2));
        }

        var map = ImageMapper.Map(raw, "raw");
        Assert.Equal(4, map.Count);
        Assert.Equal(new ImageMapEntry(1 << 20, 65536, 0, true, false, true, 1 << 20, raw), map[2]);
        Assert.Equal(new ImageMapEntry((1 << 20) + 65536, Size - (1 << 20) - 65536, 0, true, true, false, (1 << 20) + 65536, raw), map[3]);
        string expected = QemuImg.Succeed("map", "--output=json", "-f", "raw", raw);
        Assert.Contains($"\"start\": {1 << 20}, \"length\": 65536, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true", expected);
    }

    private static string Lower(bool value) => value ? "true" : "false";

    /// <summary>Writes the same scattered data into the image and into a raw file of the expected content.</summary>
    private static void WriteBoth(string image, string raw, ulong size, int seed)
    {
        using var a = DiskImage.Open(image);
        using var b = DiskImage.Open(raw);
        var random = new Random(seed);
        for (int i = 0; i < 30; i++)
        {
            int length = Math.Max(512, random.Next(1, 100_000) & ~511);
            ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
            byte[] data = TestData.Pattern(length, (seed * 1000) + i);
            a.Write(offset, data);
            b.Write(offset, data);
        }

        byte[] tail = TestData.Pattern(512, seed);
        a.Write(size - 512, tail);
        b.Write(size - 512, tail);
    }
}
