using Vessel.Storage.Qcow2;
using Vessel.Storage.Vdi;
using Vessel.Storage.Vhd;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage;

/// <summary>Reads an image's format and header without opening its backing chain (for <c>img info</c>).</summary>
public static class DiskImageInspector
{
    /// <param name="shareWithWriter">
    /// Read the header even while a running VM holds the image exclusively (Vessel's own checks of backing chains); the
    /// fields read (format, size, backing file) do not change while it runs. A VMDK descriptor is still opened normally.
    /// </param>
    public static DiskImageInfo Inspect(string path, string? format = null, bool shareWithWriter = false)
    {
        using var file = (shareWithWriter && !Directory.Exists(path) ? NativeFileOperations.TryOpenWithoutLock(path) : null) ?? DiskImage.OpenHandle(path, readOnly: true);
        var kind = format is null ? ImageFormatDetector.Detect(file) : ImageFormatNames.ParseSupported(format);
        ulong length = (ulong)RandomAccess.GetLength(file);
        if (kind == ImageFormat.Vhd)
        {
            var (virtualSize, blockSize, parent) = VhdImage.ReadInfo(file, path);
            return new DiskImageInfo
            {
                Path = path,
                Format = kind,
                VirtualSize = virtualSize,
                FileLength = length,
                ClusterSize = blockSize == 0 ? null : (int)blockSize,
                BackingFile = parent,
            };
        }

        if (kind == ImageFormat.Vmdk)
        {
            return VmdkImage.Inspect(path);
        }

        if (kind == ImageFormat.Vdi)
        {
            var vdi = VdiImage.ReadHeader(file, path);
            return new DiskImageInfo { Path = path, Format = kind, VirtualSize = vdi.DiskSize, FileLength = length, ClusterSize = (int)vdi.BlockSize };
        }

        if (kind != ImageFormat.Qcow2)
        {
            return new DiskImageInfo
            {
                Path = path,
                Format = kind,
                VirtualSize = kind == ImageFormat.Raw ? length : 0,
                FileLength = length,
            };
        }

        var header = Qcow2Image.ReadHeader(file, path);
        return new DiskImageInfo
        {
            Path = path,
            Format = kind,
            VirtualSize = header.Size,
            FileLength = length,
            ClusterSize = header.ClusterSize,
            Compat = header.Version == 2 ? "0.10" : "1.1",
            BackingFile = header.BackingFile,
            BackingFormat = header.BackingFormat,
            LazyRefcounts = header.Version == 3 ? header.LazyRefcounts : null,
            Dirty = header.IsDirty,
            Corrupt = header.IsCorrupt,
            RefcountBits = 1 << header.RefcountOrder,
            SnapshotCount = header.SnapshotCount,
        };
    }
}
