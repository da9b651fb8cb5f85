using Vessel.Storage.Qcow2;

namespace Vessel.Storage;

/// <summary>
/// Changes a qcow2 image's backing file (<c>vessel img rebase</c>, like qemu-img rebase). Safe mode first copies
/// every cluster the image does not allocate itself and whose content differs between the old and the new backing
/// file, so the guest sees the same disk; unsafe mode only rewrites the header.
/// </summary>
public static class ImageRebaser
{
    /// <param name="newBacking">The new backing file name as stored (relative to the image's folder); null or empty for none.</param>
    public static void Rebase(string path, string? newBacking, string? newBackingFormat, bool unsafeMode)
    {
        if (ImageFormatDetector.Detect(path) != ImageFormat.Qcow2)
        {
            throw new DiskImageException($"{path}: only qcow2 images have a backing file");
        }

        if (string.IsNullOrEmpty(newBacking))
        {
            newBacking = null;
            newBackingFormat = null;
        }
        else if (newBackingFormat is not null)
        {
            ImageFormatNames.ParseSupported(newBackingFormat);
        }

        if (!unsafeMode)
        {
            using var image = Qcow2Image.Open(path, readOnly: false);
            IBlockBackend? target = null;
            try
            {
                if (newBacking is not null)
                {
                    string resolved = Qcow2Image.ResolveBackingPath(path, newBacking);
                    target = DiskImage.Open(resolved, newBackingFormat, readOnly: true);
                    newBackingFormat ??= ImageFormatDetector.Detect(resolved).ToName();
                }

                CopyDifferingClusters(image, target);
            }
            catch (IOException e)
            {
                throw new DiskImageException($"{path}: rebase failed: {e.Message}", e);
            }
            finally
            {
                target?.Dispose();
            }
        }

        // The copied clusters are durable (Dispose flushed them) before the header names the new backing file.
        Qcow2Image.SetBackingFile(path, newBacking, newBackingFormat);
    }

    private static void CopyDifferingClusters(Qcow2Image image, IBlockBackend? target)
    {
        ulong cs = (ulong)image.ClusterSize;
        byte[] oldContent = new byte[cs];
        byte[] newContent = new byte[cs];
        for (ulong offset = 0; offset < image.Size; offset += cs)
        {
            if (image.GetClusterMapping(offset).Kind != Qcow2ClusterKind.Unallocated)
            {
                continue;
            }

            int n = (int)Math.Min(cs, image.Size - offset);
            image.Read(offset, oldContent.AsSpan(0, n)); // through the old backing chain
            newContent.AsSpan(0, n).Clear();
            if (target is not null && offset < target.Size)
            {
                target.Read(offset, newContent.AsSpan(0, (int)Math.Min((ulong)n, target.Size - offset)));
            }

            if (!oldContent.AsSpan(0, n).SequenceEqual(newContent.AsSpan(0, n)))
            {
                image.Write(offset, oldContent.AsSpan(0, n));
            }
        }

        image.Flush();
    }
}
