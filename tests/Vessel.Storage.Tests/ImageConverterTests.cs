using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

public sealed class ImageConverterTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RawToQcow2AndBack(bool compress)
    {
        string raw = _temp.File("source.raw");
        Qcow2InteropTests.WriteRawPattern(raw, 5 << 20);
        string qcow = _temp.File("disk.qcow2");
        ulong lastDone = 0;
        ImageConverter.Convert(raw, null, qcow, ImageFormat.Qcow2, compress, progress: (done, _) => lastDone = done);
        Assert.Equal(5UL << 20, lastDone);
        Assert.True(Qcow2Checker.Check(qcow).IsClean);
        Qcow2InteropTests.AssertSameContent(qcow, raw);

        string back = _temp.File("back.raw");
        ImageConverter.Convert(qcow, "qcow2", back, ImageFormat.Raw);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(back));
        if (QemuImg.Path is not null)
        {
            QemuImg.Succeed("check", qcow);
            QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
        }
    }

    [Fact]
    public void RefusesConvertingOntoItself()
    {
        string raw = _temp.File("source.raw");
        RawImage.Create(raw, 4096);
        Assert.Throws<DiskImageException>(() => ImageConverter.Convert(raw, null, raw, ImageFormat.Raw));
    }
}
