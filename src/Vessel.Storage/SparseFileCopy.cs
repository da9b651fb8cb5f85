using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage;

/// <summary>
/// Copies a disk image so the copy costs only the source's allocated data: a FICLONE reflink where the file system
/// shares extents (btrfs, XFS), else a copy of the data runs <see cref="NativeFileOperations.TryProbeExtent"/> finds,
/// leaving the holes as holes. The copy is written to a temporary name and renamed into place, so an interrupted copy
/// never leaves a partial file under the destination's name. Used for snapshots of writable raw/VHD/VMDK disks.
/// </summary>
public static class SparseFileCopy
{
    private const int BufferSize = 1 << 20;

    /// <summary>How the last <see cref="Copy"/> went about it (for tests and logs).</summary>
    public enum Method
    {
        Reflink,
        DataRanges,
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> (replacing it only if
    /// <paramref name="overwrite"/>); <paramref name="allowReflink"/> false forces the data-range copy.
    /// </summary>
    public static Method Copy(string source, string destination, bool overwrite = false, bool allowReflink = true, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"cannot copy '{source}': no such file", source);
        }

        if (!overwrite && File.Exists(destination))
        {
            throw new IOException($"cannot copy to '{destination}': it already exists");
        }

        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read);
        return CopyHandle(input, destination, overwrite, allowReflink, cancellationToken);
    }

    /// <summary>
    /// True if <paramref name="image"/> keeps its whole contents in one file that <see cref="Copy(IBlockBackend, string, bool, CancellationToken)"/>
    /// can copy while the image stays open (raw, VHD, VDI); a VMDK may span several extent files, a qcow2 disk has
    /// internal snapshots instead.
    /// </summary>
    public static bool CanCopyOpenImage(IBlockBackend image) => image is RawImage or Vhd.VhdImage or Vdi.VdiImage;

    /// <summary>
    /// Copies the file of an image that is open, through its own handle: a running VM holds its writable disk
    /// exclusively, so the file cannot be opened a second time. The caller flushes the image first and keeps it from
    /// changing during the copy (the VM is paused).
    /// </summary>
    public static Method Copy(IBlockBackend image, string destination, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        var handle = image switch
        {
            RawImage raw => raw.Handle,
            Vhd.VhdImage vhd => vhd.Handle,
            Vdi.VdiImage vdi => vdi.Handle,
            _ => throw new DiskImageException($"a {image.GetType().Name} cannot be copied while it is open: only raw, VHD and VDI images are one file"),
        };
        if (!overwrite && File.Exists(destination))
        {
            throw new IOException($"cannot copy to '{destination}': it already exists");
        }

        return CopyHandle(handle, destination, overwrite, allowReflink: true, cancellationToken);
    }

    private static Method CopyHandle(SafeFileHandle input, string destination, bool overwrite, bool allowReflink, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, $".{Path.GetFileName(destination)}.tmp-{Guid.NewGuid():N}");
        try
        {
            Method method;
            using (var output = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                if (allowReflink && NativeFileOperations.TryCloneFile(input, output))
                {
                    method = Method.Reflink;
                }
                else
                {
                    CopyDataRanges(input, output, cancellationToken);
                    method = Method.DataRanges;
                }

                RandomAccess.FlushToDisk(output);
            }

            File.Move(temporary, destination, overwrite);
            return method;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void CopyDataRanges(SafeFileHandle input, SafeFileHandle output, CancellationToken cancellationToken)
    {
        long length = RandomAccess.GetLength(input);
        RandomAccess.SetLength(output, length); // all hole until data is written
        byte[] buffer = new byte[BufferSize];
        for (long offset = 0; offset < length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (data, end) = NativeFileOperations.TryProbeExtent(input, offset, length) ?? (true, length); // cannot tell: copy it all
            for (long at = offset; data && at < end;)
            {
                int read = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - at)), at);
                if (read == 0)
                {
                    throw new IOException($"the source ended at {at} while {end} bytes were expected (did it shrink during the copy?)");
                }

                RandomAccess.Write(output, buffer.AsSpan(0, read), at);
                at += read;
            }

            offset = end;
        }
    }
}
