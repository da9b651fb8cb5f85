using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage;

/// <summary>Host file operations .NET does not expose: hole punching (Linux fallocate), hole finding (lseek), reflinks (FICLONE).</summary>
internal static partial class NativeFileOperations
{
    private const int FallocKeepSize = 0x01;
    private const int FallocPunchHole = 0x02;
    private const int SeekData = 3;
    private const int SeekHole = 4;
    private const int ENoSuchDeviceOrAddress = 6;
    private const uint FiClone = 0x40049409; // ioctl_ficlone(2): _IOW(0x94, 9, int)
    private const int OpenReadOnlyCloseOnExec = 0x80000; // open(2): O_RDONLY (0) | O_CLOEXEC

    /// <summary>Deallocates a byte range so it reads as zeroes; false where the host or file system cannot.</summary>
    public static bool TryPunchHole(SafeFileHandle handle, long offset, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0)
        {
            return false;
        }

        try
        {
            return Fallocate(handle, FallocPunchHole | FallocKeepSize, offset, length) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="offset"/> lies in data or in a hole, and where that run ends (at most
    /// <paramref name="limit"/>), from lseek SEEK_DATA/SEEK_HOLE; null where the host cannot tell.
    /// </summary>
    public static (bool Data, long End)? TryProbeExtent(SafeFileHandle handle, long offset, long limit)
    {
        if (!OperatingSystem.IsLinux() || offset >= limit)
        {
            return null;
        }

        try
        {
            long data = LSeek(handle, offset, SeekData);
            if (data < 0)
            {
                return Marshal.GetLastPInvokeError() == ENoSuchDeviceOrAddress ? (false, limit) : null; // ENXIO: only a hole follows
            }

            if (data > offset)
            {
                return (false, Math.Min(data, limit));
            }

            long hole = LSeek(handle, offset, SeekHole);
            return hole < 0 ? null : (true, Math.Min(hole, limit));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Makes <paramref name="destination"/> share <paramref name="source"/>'s extents (ioctl FICLONE); false where the file system cannot.</summary>
    public static bool TryCloneFile(SafeFileHandle source, SafeFileHandle destination)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return Ioctl(destination, FiClone, source.DangerousGetHandle().ToInt32()) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Opens a file read-only without the flock(2) that .NET takes to emulate FileShare, so a header can be read while
    /// a running VM holds the image exclusively (as qemu-img's --force-share does); null where that is unavailable.
    /// </summary>
    public static SafeFileHandle? TryOpenWithoutLock(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var handle = Open(path, OpenReadOnlyCloseOnExec);
            if (handle.IsInvalid)
            {
                handle.Dispose();
                return null;
            }

            return handle;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, uint request, int argument);
}
