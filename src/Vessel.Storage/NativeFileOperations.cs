using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage;

/// <summary>Host file operations .NET does not expose: hole punching (Linux fallocate).</summary>
internal static partial class NativeFileOperations
{
    private const int FallocKeepSize = 0x01;
    private const int FallocPunchHole = 0x02;

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

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);
}
