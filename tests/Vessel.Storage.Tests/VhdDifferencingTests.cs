using System.Security.Cryptography;
using System.Text;
using Vessel.Storage.Qcow2;
using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>Differencing VHDs: sectors not written to the child read from the parent, found through the parent locators.</summary>
public sealed class VhdDifferencingTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgFact]
    public void ChildOfQemuImgParentReadsThroughAndLeavesParentUnchanged()
    {
        string raw = _temp.File("source.raw");
        byte[] expected = VhdInteropTests.RawWithPatternAndHoles(raw, 9 << 20);
        string parent = _temp.File("parent.vhd");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vpc", raw, parent);
        byte[] parentHash = SHA256.HashData(File.ReadAllBytes(parent));
        string child = _temp.File("child.vhd");
        ulong size = VhdImage.Create(child, 0, parent: "parent.vhd");
        Assert.Equal(VhdInteropTests.QemuVirtualSize(parent), size);
        Array.Resize(ref expected, (int)size);

        using (var disk = Assert.IsType<VhdImage>(DiskImage.Open(child)))
        {
            Assert.Equal(VhdDiskType.Differencing, disk.DiskType);
            Assert.Equal(parent, disk.ParentPath);
            Assert.True(disk.Parent!.IsReadOnly);
            Assert.Equal(expected, TestData.ReadAll(disk, 0, (int)size));

            // Unaligned writes: partial sectors must merge with the parent's bytes around them.
            var random = new Random(5);
            for (int i = 0; i < 60; i++)
            {
                int length = random.Next(1, 70_000);
                int at = random.Next(0, (int)size - length);
                byte[] data = TestData.Pattern(length, i);
                disk.Write((ulong)at, data);
                data.CopyTo(expected, at);
            }

            Assert.Equal(expected, TestData.ReadAll(disk, 0, (int)size));
        }

        Assert.Equal(parentHash, SHA256.HashData(File.ReadAllBytes(parent)));
        using (var reopened = DiskImage.Open(child, readOnly: true))
        {
            Assert.Equal(expected, TestData.ReadAll(reopened, 0, (int)size));
        }

        // qemu-img accepts the child (it does not follow VHD parents, so only the header is compared).
        Assert.Equal(size, VhdInteropTests.QemuVirtualSize(child));
        Assert.Equal("parent.vhd", DiskImageInspector.Inspect(child).BackingFile);
    }

    [Fact]
    public void WriteZeroesHidesTheParentAndDiscardKeepsTheChildsData()
    {
        string parent = _temp.File("parent.vhd");
        ulong size = VhdImage.Create(parent, 6 << 20, blockSize: 1 << 20);
        byte[] pattern = TestData.Pattern((int)size, 1);
        using (var disk = DiskImage.Open(parent))
        {
            disk.Write(0, pattern);
        }

        string child = _temp.File("child.vhd");
        VhdImage.Create(child, 0, parent: parent, blockSize: 1 << 20);
        using var diff = DiskImage.Open(child);
        diff.WriteZeroes(1000, 3 << 20);
        byte[] expected = (byte[])pattern.Clone();
        Array.Clear(expected, 1000, 3 << 20);
        Assert.Equal(expected, TestData.ReadAll(diff, 0, (int)size));

        byte[] mine = TestData.Pattern(1 << 20, 2);
        diff.Write(4 << 20, mine);
        diff.Discard(4 << 20, 1 << 20);
        Assert.Equal(mine, TestData.ReadAll(diff, 4 << 20, 1 << 20));
    }

    [Fact]
    public void ChainOfThreeResolvesEachSectorFromTheNearestWriter()
    {
        string grandparent = _temp.File("base.raw");
        File.WriteAllBytes(grandparent, TestData.Pattern(4 << 20, 1));
        string parent = _temp.File("middle.vhd");
        string child = _temp.File("top.vhd");
        VhdImage.Create(parent, 0, parent: "base.raw", blockSize: 64 << 10);
        byte[] expected = File.ReadAllBytes(grandparent);
        using (var middle = DiskImage.Open(parent))
        {
            Assert.Equal(4UL << 20, middle.Size);
            byte[] data = TestData.Pattern(100_000, 2);
            middle.Write(50_000, data);
            data.CopyTo(expected, 50_000);
        }

        VhdImage.Create(child, 0, parent: "middle.vhd", blockSize: 64 << 10);
        using var top = DiskImage.Open(child);
        byte[] more = TestData.Pattern(30_001, 3);
        top.Write(120_007, more);
        more.CopyTo(expected, 120_007);
        Assert.Equal(expected, TestData.ReadAll(top, 0, 4 << 20));
    }

    [Fact]
    public void ParentIsFoundAfterMovingBothImagesTogether()
    {
        string a = Directory.CreateDirectory(_temp.File("a")).FullName;
        VhdImage.Create(Path.Combine(a, "parent.vhd"), 1 << 20);
        VhdImage.Create(Path.Combine(a, "child.vhd"), 0, parent: "parent.vhd");
        Assert.True(FileContains(Path.Combine(a, "child.vhd"), Encoding.Unicode.GetBytes(".\\parent.vhd")), "no W2ru locator text");
        string b = _temp.File("b");
        Directory.Move(a, b);
        using var disk = Assert.IsType<VhdImage>(DiskImage.Open(Path.Combine(b, "child.vhd"), readOnly: true));
        Assert.Equal(Path.Combine(b, "parent.vhd"), disk.ParentPath);
    }

    [Fact]
    public void AbsoluteLocatorIsUsedWhenTheRelativeOneMisses()
    {
        string parentFolder = Directory.CreateDirectory(_temp.File("p")).FullName;
        string childFolder = Directory.CreateDirectory(_temp.File("c")).FullName;
        string parent = Path.Combine(parentFolder, "parent.vhd");
        VhdImage.Create(parent, 1 << 20);
        VhdImage.Create(Path.Combine(childFolder, "child.vhd"), 0, parent: parent);
        string moved = Directory.CreateDirectory(_temp.File("x/y")).FullName;
        File.Move(Path.Combine(childFolder, "child.vhd"), Path.Combine(moved, "child.vhd"));
        using var disk = Assert.IsType<VhdImage>(DiskImage.Open(Path.Combine(moved, "child.vhd"), readOnly: true));
        Assert.Equal(parent, disk.ParentPath);
    }

    [Fact]
    public void MissingParentIsNamed()
    {
        string parent = _temp.File("parent.vhd");
        VhdImage.Create(parent, 1 << 20);
        VhdImage.Create(_temp.File("child.vhd"), 0, parent: "parent.vhd");
        File.Delete(parent);
        string message = Assert.Throws<DiskImageException>(() => DiskImage.Open(_temp.File("child.vhd"))).Message;
        Assert.Contains("cannot find the parent", message);
        Assert.Contains(parent, message);
    }

    [Fact]
    public void ReplacedParentIsRefused()
    {
        string parent = _temp.File("parent.vhd");
        VhdImage.Create(parent, 1 << 20);
        VhdImage.Create(_temp.File("child.vhd"), 0, parent: "parent.vhd");
        VhdImage.Create(parent, 1 << 20); // same name, new unique id
        string message = Assert.Throws<DiskImageException>(() => DiskImage.Open(_temp.File("child.vhd"))).Message;
        Assert.Contains("unique id", message);
    }

    [Fact]
    public void CreatingWithoutAUsableParentIsRefused()
    {
        Assert.Contains("no such file", Assert.Throws<DiskImageException>(
            () => VhdImage.Create(_temp.File("child.vhd"), 0, parent: "gone.vhd")).Message);
        Assert.Contains("fixed VHD cannot have a parent", Assert.Throws<DiskImageException>(
            () => VhdImage.Create(_temp.File("child.vhd"), 0, VhdDiskType.Fixed, parent: "gone.vhd")).Message);
        Assert.Contains("needs a parent", Assert.Throws<DiskImageException>(
            () => VhdImage.Create(_temp.File("child.vhd"), 1 << 20, VhdDiskType.Differencing)).Message);
    }

    [QemuImgFact]
    public void Qcow2OverlayOnAVhdBackingFileMatchesQemu()
    {
        string raw = _temp.File("source.raw");
        VhdInteropTests.RawWithPatternAndHoles(raw, 4 << 20);
        string vhd = _temp.File("base.vhd");
        ImageConverter.Convert(raw, null, vhd, ImageFormat.Vhd, options: "force_size=on");
        string overlay = _temp.File("overlay.qcow2");
        Qcow2Image.Create(overlay, 4 << 20, backingFile: "base.vhd", backingFormat: "vpc");
        using (var disk = DiskImage.Open(overlay))
        {
            disk.Write(777, TestData.Pattern(3000, 4));
        }

        string back = _temp.File("back.raw");
        QemuImg.Succeed("convert", "-O", "raw", overlay, back);
        using var reopened = DiskImage.Open(overlay, readOnly: true);
        Assert.Equal(File.ReadAllBytes(back), TestData.ReadAll(reopened, 0, 4 << 20));
        Assert.Equal(TestData.Pattern(3000, 4), File.ReadAllBytes(back).AsSpan(777, 3000).ToArray());
    }

    private static bool FileContains(string path, byte[] needle) => File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
}
