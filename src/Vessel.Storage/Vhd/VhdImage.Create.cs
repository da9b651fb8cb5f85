using System.Text;

namespace Vessel.Storage.Vhd;

/// <summary>Creating VHD images (VHD specification, "Creating a Hard Disk Image").</summary>
public sealed partial class VhdImage
{
    /// <summary>
    /// Creates a fixed, dynamic or (with <paramref name="parent"/>) differencing VHD and returns its virtual size. The
    /// file is written under a temporary name, fsynced and renamed, so a crash never leaves a half-written image.
    /// </summary>
    /// <param name="size">
    /// Bytes; rounded up, as qemu-img does, to a size the CHS geometry represents (Virtual PC sizes disks by geometry)
    /// unless <paramref name="forceSize"/>. 0 with a parent means the parent's size.
    /// </param>
    /// <param name="parent">Parent image of a differencing disk, relative to the new image's folder unless absolute.</param>
    /// <param name="forceSize">Keep the size exact (rounded to 512 bytes); readers then take the footer's current size.</param>
    public static ulong Create(
        string path,
        ulong size,
        VhdDiskType type = VhdDiskType.Dynamic,
        string? parent = null,
        bool forceSize = false,
        uint blockSize = VhdDynamicHeader.DefaultBlockSize)
    {
        if (parent is not null && type == VhdDiskType.Fixed)
        {
            throw new DiskImageException("a fixed VHD cannot have a parent (use a dynamic or differencing disk)");
        }

        if (parent is null && type == VhdDiskType.Differencing)
        {
            throw new DiskImageException("a differencing VHD needs a parent image");
        }

        if (!uint.IsPow2(blockSize) || blockSize is < VhdDynamicHeader.MinCreatedBlockSize or > VhdDynamicHeader.MaxBlockSize)
        {
            throw new DiskImageException($"VHD block size {blockSize} is not a power of two from 4 KiB to 256 MiB");
        }

        string full = System.IO.Path.GetFullPath(path);
        var footer = new VhdFooter
        {
            Timestamp = VhdFooter.TimestampOf(DateTime.UtcNow),
            DiskType = (uint)(parent is null ? type : VhdDiskType.Differencing),
            UniqueId = Guid.NewGuid(),
            DataOffset = type == VhdDiskType.Fixed ? VhdFooter.NoDataOffset : VhdFooter.Length,
        };
        VhdDynamicHeader? header = null;
        string? parentFull = null;
        if (parent is not null)
        {
            parentFull = System.IO.Path.IsPathRooted(parent)
                ? parent
                : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full) ?? ".", parent);
            using var parentDisk = DiskImage.Open(parentFull, format: null, readOnly: true);
            bool sameSize = size == 0 || size == parentDisk.Size;
            size = size == 0 ? parentDisk.Size : size;
            forceSize |= sameSize; // the child shows exactly the parent's size
            header = new VhdDynamicHeader
            {
                BlockSize = blockSize,
                ParentUniqueId = parentDisk is VhdImage vhd ? vhd.UniqueId : Guid.Empty,
                ParentTimestamp = VhdFooter.TimestampOf(File.GetLastWriteTimeUtc(parentFull)),
                ParentName = parent,
            };
        }
        else if (type != VhdDiskType.Fixed)
        {
            header = new VhdDynamicHeader { BlockSize = blockSize };
        }

        footer = WithSize(footer, size, forceSize);
        ulong virtualSize = footer.VirtualSize;
        byte[] contents = header is null ? [] : DynamicMetadata(footer, header, virtualSize, full, parentFull);
        string temp = System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(full) ?? ".",
            $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                ulong footerAt = header is null ? virtualSize : (ulong)contents.Length;
                RandomAccess.Write(handle, contents, 0);
                RandomAccess.SetLength(handle, (long)footerAt); // a fixed disk's data: zeroes, sparse
                RandomAccess.Write(handle, footer.Encode(), (long)footerAt);
                RandomAccess.FlushToDisk(handle);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new DiskImageException($"{path}: cannot create image: {e.Message}", e);
        }

        return virtualSize;
    }

    /// <summary>
    /// Sets the size fields. Without <paramref name="exact"/> the size grows to the smallest CHS geometry that holds it,
    /// like qemu-img; with it, the geometry is the one matching the size or else the maximum, which makes QEMU and
    /// Hyper-V take the footer's current size (the geometry cannot express it).
    /// </summary>
    private static VhdFooter WithSize(VhdFooter footer, ulong size, bool exact)
    {
        if (size > MaxSize)
        {
            throw new DiskImageException($"size {size} exceeds the VHD maximum of 2040 GiB");
        }

        size = RoundUp(size);
        var geometry = VhdGeometry.RoundingUp(size / 512);
        if (exact && geometry.Sectors * 512 != size)
        {
            geometry = VhdGeometry.Maximum;
        }

        ulong current = exact || geometry == VhdGeometry.Maximum ? size : geometry.Sectors * 512;
        return footer with { Geometry = geometry, CurrentSize = current, OriginalSize = current };
    }

    /// <summary>Footer copy, dynamic header, an empty BAT and (differencing) the parent locators' data, in file order.</summary>
    private static byte[] DynamicMetadata(VhdFooter footer, VhdDynamicHeader header, ulong virtualSize, string childFull, string? parentFull)
    {
        ulong entries = (virtualSize + header.BlockSize - 1) / header.BlockSize;
        if (entries > VhdDynamicHeader.MaxTableEntries)
        {
            throw new DiskImageException($"size {virtualSize} needs {entries} blocks of {header.BlockSize} bytes; use bigger blocks");
        }

        const ulong tableOffset = VhdFooter.Length + VhdDynamicHeader.Length;
        ulong batBytes = RoundUp(entries * 4);
        var locatorData = new List<(uint Code, byte[] Data)>();
        if (parentFull is not null)
        {
            string absolute = System.IO.Path.GetFullPath(parentFull);
            locatorData.Add((VhdParentLocator.WindowsRelative, Encoding.Unicode.GetBytes(RelativeWindowsPath(childFull, absolute))));
            locatorData.Add((VhdParentLocator.WindowsAbsolute, Encoding.Unicode.GetBytes(absolute.Replace('/', '\\'))));
        }

        ulong at = tableOffset + batBytes;
        var locators = new VhdParentLocator[VhdDynamicHeader.LocatorCount];
        for (int i = 0; i < locatorData.Count; i++)
        {
            // Windows tools record the reserved space in bytes (the specification says sectors); both readers cope.
            uint space = (uint)RoundUp((ulong)locatorData[i].Data.Length);
            locators[i] = new VhdParentLocator(locatorData[i].Code, space, (uint)locatorData[i].Data.Length, at);
            at += space;
        }

        header = header with { TableOffset = tableOffset, MaxTableEntryCount = (uint)entries, Locators = locators };
        byte[] contents = new byte[at];
        footer.Encode().CopyTo(contents, 0);
        header.Encode().CopyTo(contents, VhdFooter.Length);
        contents.AsSpan((int)tableOffset, (int)batBytes).Fill(0xff);
        for (int i = 0; i < locatorData.Count; i++)
        {
            locatorData[i].Data.CopyTo(contents, (int)locators[i].DataOffset);
        }

        return contents;
    }
}
