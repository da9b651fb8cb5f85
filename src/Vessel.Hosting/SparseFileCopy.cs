using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Hosting;

/// <summary>
/// Copies a disk image so the copy costs only the source's allocated data: a FICLONE reflink where the file system
/// shares extents (btrfs, XFS), else a copy of the data ranges lseek(2) SEEK_DATA/SEEK_HOLE report, leaving the
/// holes as holes. The copy is written to a temporary name and renamed into place, so an interrupted copy never
/// leaves a partial file under the destination's name. Meant for snapshots of writable raw/VHD/VMDK disks.
/// </summary>
public static partial class SparseFileCopy
{
    private const int SeekData = 3; // lseek(2) SEEK_DATA
    private const int SeekHole = 4; // lseek(2) SEEK_HOLE
    private const int ENXIO = 6; // SEEK_DATA past the last data
    private const uint FICLONE = 0x40049409; // ioctl_ficlone(2): _IOW(0x94, 9, int)
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

        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, $".{Path.GetFileName(destination)}.tmp-{Guid.NewGuid():N}");
        try
        {
            Method method;
            using (var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read))
            using (var output = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                if (allowReflink && Ioctl(output.DangerousGetHandle().ToInt32(), FICLONE, input.DangerousGetHandle().ToInt32()) == 0)
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
        int fd = input.DangerousGetHandle().ToInt32();
        byte[] buffer = new byte[BufferSize];
        long offset = 0;
        while (offset < length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long data = Lseek(fd, offset, SeekData);
            if (data < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == ENXIO)
                {
                    break; // only a hole remains
                }

                data = offset; // no SEEK_DATA on this file system: everything from here counts as data
            }

            long hole = data < length ? Lseek(fd, data, SeekHole) : length;
            if (hole < 0 || hole > length)
            {
                hole = length;
            }

            for (long at = data; at < hole;)
            {
                int read = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, hole - at)), at);
                if (read == 0)
                {
                    throw new IOException($"the source ended at {at} while {hole} bytes were expected (did it shrink during the copy?)");
                }

                RandomAccess.Write(output, buffer.AsSpan(0, read), at);
                at += read;
            }

            offset = hole;
        }
    }

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, uint request, int argument);
}
