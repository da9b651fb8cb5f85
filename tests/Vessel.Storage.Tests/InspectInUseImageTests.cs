using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>A running VM holds its writable disk exclusively; Vessel's backing-chain checks still read its header.</summary>
public sealed class InspectInUseImageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-inuse-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnOverlayHeldForWritingIsReadableOnlyWhenSharingWithTheWriter()
    {
        string backing = Path.Combine(_dir, "base.qcow2"), overlay = Path.Combine(_dir, "overlay.qcow2");
        Qcow2Image.Create(backing, 8UL << 20);
        Qcow2Image.Create(overlay, 8UL << 20, backingFile: backing, backingFormat: "qcow2");

        using var writer = DiskImage.Open(overlay, "qcow2", readOnly: false);

        Assert.Throws<DiskImageException>(() => DiskImageInspector.Inspect(overlay));
        var info = DiskImageInspector.Inspect(overlay, shareWithWriter: true);
        Assert.Equal(backing, info.BackingFile);
        Assert.Equal(8UL << 20, info.VirtualSize);
    }
}
