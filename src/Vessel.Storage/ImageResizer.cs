using Vessel.Storage.Qcow2;

namespace Vessel.Storage;

/// <summary>Changes an image's virtual size (<c>vessel img resize</c>, qemu-img resize's rules).</summary>
public static class ImageResizer
{
    /// <summary>
    /// Sets the virtual size of <paramref name="path"/> to <paramref name="newSize"/>. Shrinking needs
    /// <paramref name="allowShrink"/> because it discards the data past the new end.
    /// </summary>
    public static void Resize(string path, string? format, ulong newSize, bool allowShrink)
    {
        var kind = format is null ? ImageFormatDetector.Detect(path) : ImageFormatNames.ParseSupported(format);
        if (kind == ImageFormat.Qcow2)
        {
            using var image = Qcow2Image.Open(path, readOnly: false);
            image.Resize(newSize, allowShrink);
            return;
        }

        if (kind != ImageFormat.Raw)
        {
            throw new DiskImageException($"{path}: resizing '{kind.ToName()}' images is not supported (raw, qcow2)");
        }

        if (newSize > long.MaxValue)
        {
            throw new DiskImageException($"{path}: size {newSize} is too large");
        }

        using var file = DiskImage.OpenHandle(path, readOnly: false);
        ulong oldSize = (ulong)RandomAccess.GetLength(file);
        if (newSize < oldSize && !allowShrink)
        {
            throw new DiskImageException($"{path}: use the --shrink option to perform a shrink operation");
        }

        // A raw file grows sparse: the new area reads as zeroes.
        RandomAccess.SetLength(file, (long)newSize);
        RandomAccess.FlushToDisk(file);
    }
}
