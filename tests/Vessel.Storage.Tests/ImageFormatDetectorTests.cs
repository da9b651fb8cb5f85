using System.Text;

namespace Vessel.Storage.Tests;

public sealed class ImageFormatDetectorTests
{
    [Fact]
    public void RecognisesMagicNumbersNotFileNames()
    {
        Assert.Equal(ImageFormat.Qcow2, ImageFormatDetector.Detect([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3], []));
        Assert.Equal(ImageFormat.Vhd, ImageFormatDetector.Detect(new byte[512], Encoding.ASCII.GetBytes("conectix".PadRight(512, '\0'))));
        Assert.Equal(ImageFormat.Vmdk, ImageFormatDetector.Detect("KDMV\x01\0\0\0"u8, []));
        Assert.Equal(ImageFormat.Vmdk, ImageFormatDetector.Detect("# Disk DescriptorFile\nversion=1\n"u8, []));
        byte[] vdi = new byte[512];
        Encoding.ASCII.GetBytes("<<< Oracle VM VirtualBox Disk Image >>>\n").CopyTo(vdi, 0);
        vdi[0x40] = 0x7f;
        vdi[0x41] = 0x10;
        vdi[0x42] = 0xda;
        vdi[0x43] = 0xbe;
        Assert.Equal(ImageFormat.Vdi, ImageFormatDetector.Detect(vdi, []));
        Assert.Equal(ImageFormat.Raw, ImageFormatDetector.Detect(new byte[512], new byte[512]));
        Assert.Equal(ImageFormat.Raw, ImageFormatDetector.Detect([], []));
    }

    [Fact]
    public void ProbesFilesByContent()
    {
        using var temp = new TempFolder();
        string named = temp.File("looks-like.qcow2");
        File.WriteAllBytes(named, new byte[4096]);
        Assert.Equal(ImageFormat.Raw, ImageFormatDetector.Detect(named));
        string qcow = temp.File("disk.img");
        Qcow2.Qcow2Image.Create(qcow, 1 << 20);
        Assert.Equal(ImageFormat.Qcow2, ImageFormatDetector.Detect(qcow));
    }
}
