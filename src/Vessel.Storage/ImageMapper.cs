using Vessel.Storage.Qcow2;

namespace Vessel.Storage;

/// <summary>
/// Maps an image's guest bytes to where they live through its backing chain (<c>vessel img map</c>, like qemu-img
/// map): each run says which layer provides it and whether it is data, zeroes, or absent everywhere.
/// </summary>
public static class ImageMapper
{
    public static List<ImageMapEntry> Map(string path, string? format)
    {
        using var image = DiskImage.Open(path, format, readOnly: true);
        return Map(image);
    }

    public static List<ImageMapEntry> Map(IBlockBackend image)
    {
        var entries = new List<ImageMapEntry>();
        ulong offset = 0;
        while (offset < image.Size)
        {
            var next = Resolve(image, 0, offset, image.Size - offset);
            if (entries.Count > 0 && Continues(entries[^1], next))
            {
                entries[^1] = entries[^1] with { Length = entries[^1].Length + next.Length };
            }
            else
            {
                entries.Add(next);
            }

            offset += next.Length;
        }

        return entries;
    }

    /// <summary>The status of the bytes at <paramref name="offset"/> in <paramref name="layer"/>, for at most <paramref name="maxLength"/> bytes.</summary>
    private static ImageMapEntry Resolve(IBlockBackend layer, int depth, ulong offset, ulong maxLength)
    {
        if (offset >= layer.Size)
        {
            return new ImageMapEntry(offset, maxLength, depth, false, true, false, null, null);
        }

        maxLength = Math.Min(maxLength, layer.Size - offset);
        if (layer is RawImage raw)
        {
            // Holes in a sparse raw file read as zeroes: present, zero, not data (as qemu-img map shows them).
            var extent = NativeFileOperations.TryProbeExtent(raw.Handle, (long)offset, (long)(offset + maxLength));
            bool data = extent?.Data ?? true;
            ulong run = extent is { } e ? (ulong)e.End - offset : maxLength;
            return new ImageMapEntry(offset, run, depth, true, !data, data, offset, raw.Path);
        }

        if (layer is not Qcow2Image qcow)
        {
            return new ImageMapEntry(offset, maxLength, depth, true, false, true, null, null);
        }

        ulong cs = (ulong)qcow.ClusterSize;
        ulong inCluster = offset & (cs - 1);
        ulong length = Math.Min(maxLength, cs - inCluster);
        var (kind, host) = qcow.GetClusterMapping(offset);
        ulong? hostOffset = host == 0 ? null : host + inCluster;
        return kind switch
        {
            Qcow2ClusterKind.Data => new ImageMapEntry(offset, length, depth, true, false, true, hostOffset, qcow.Path),
            Qcow2ClusterKind.Compressed => new ImageMapEntry(offset, length, depth, true, false, true, null, qcow.Path),
            Qcow2ClusterKind.Zero => new ImageMapEntry(offset, length, depth, true, true, false, hostOffset, qcow.Path),
            _ when qcow.Backing is { } backing => Resolve(backing, depth + 1, offset, length),
            _ => new ImageMapEntry(offset, length, depth, false, true, false, null, null),
        };
    }

    private static bool Continues(ImageMapEntry previous, ImageMapEntry next) =>
        previous.Depth == next.Depth && previous.Present == next.Present && previous.Zero == next.Zero &&
        previous.Data == next.Data && previous.File == next.File &&
        (previous.Offset is null ? next.Offset is null : next.Offset == previous.Offset + previous.Length);
}
