using Vessel.Storage.Qcow2;

namespace Vessel.Storage;

/// <summary>
/// Writes a qcow2 overlay's own clusters into its backing file and then empties the overlay (<c>vessel img commit</c>,
/// like qemu-img commit). The backing file grows first if the overlay is larger.
/// </summary>
public static class ImageCommitter
{
    /// <param name="emptyOverlay">False keeps the overlay's clusters (qemu-img commit -d).</param>
    public static void Commit(string path, bool emptyOverlay = true)
    {
        if (ImageFormatDetector.Detect(path) != ImageFormat.Qcow2)
        {
            throw new DiskImageException($"{path}: only qcow2 images have a backing file to commit to");
        }

        string backingPath;
        string? backingFormat;
        ulong topSize;
        using (var probe = Qcow2Image.OpenDetached(path, readOnly: true))
        {
            if (probe.Header.IsCorrupt)
            {
                throw new DiskImageException($"{path}: the image is marked corrupt; repair it first");
            }

            backingPath = Qcow2Image.ResolveBackingPath(path, probe.BackingFile ?? throw new DiskImageException($"{path}: the image does not have a backing file"));
            backingFormat = probe.BackingFormat;
            topSize = probe.Size;
        }

        ulong backingSize;
        using (var backingProbe = DiskImage.Open(backingPath, backingFormat, readOnly: true))
        {
            backingSize = backingProbe.Size;
        }

        if (backingSize < topSize)
        {
            ImageResizer.Resize(backingPath, backingFormat, topSize, allowShrink: false);
        }

        try
        {
            using var top = Qcow2Image.OpenDetached(path, readOnly: false);
            using (var backing = DiskImage.Open(backingPath, backingFormat, readOnly: false))
            {
                CopyAllocated(top, backing);
                backing.Flush(); // the data is safe in the backing file before the overlay forgets it
            }

            if (emptyOverlay)
            {
                top.MakeEmpty();
            }
        }
        catch (IOException e)
        {
            throw new DiskImageException($"{path}: commit failed: {e.Message}", e);
        }
    }

    private static void CopyAllocated(Qcow2Image top, IBlockBackend backing)
    {
        ulong cs = (ulong)top.ClusterSize;
        byte[] buffer = new byte[cs];
        for (ulong offset = 0; offset < top.Size; offset += cs)
        {
            int n = (int)Math.Min(cs, top.Size - offset);
            switch (top.GetClusterMapping(offset).Kind)
            {
                case Qcow2ClusterKind.Unallocated:
                    break;
                case Qcow2ClusterKind.Zero:
                    backing.WriteZeroes(offset, (ulong)n);
                    break;
                default:
                    top.Read(offset, buffer.AsSpan(0, n));
                    backing.Write(offset, buffer.AsSpan(0, n));
                    break;
            }
        }
    }
}
