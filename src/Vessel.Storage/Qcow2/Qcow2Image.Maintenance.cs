using System.Buffers.Binary;
using System.Text;

namespace Vessel.Storage.Qcow2;

/// <summary>Whole-image operations behind <c>vessel img resize|rebase|commit|map</c>.</summary>
public sealed partial class Qcow2Image
{
    /// <summary>How the guest cluster holding <paramref name="guestOffset"/> is stored, and its host offset (0 if none).</summary>
    public (Qcow2ClusterKind Kind, ulong HostOffset) GetClusterMapping(ulong guestOffset)
    {
        CheckOpen();
        CheckRange(guestOffset, 0);
        ulong entry = GetL2Entry(guestOffset);
        ulong host = entry & OffsetMask;
        if ((entry & CompressedFlag) != 0)
        {
            return (Qcow2ClusterKind.Compressed, 0);
        }

        if (_header.Version >= 3 && (entry & ZeroFlag) != 0)
        {
            return (Qcow2ClusterKind.Zero, host);
        }

        return (host == 0 ? Qcow2ClusterKind.Unallocated : Qcow2ClusterKind.Data, host);
    }

    /// <summary>
    /// Changes the virtual size like <c>qemu-img resize</c>: growing extends the L1 table when needed and makes the new
    /// area read as zeroes even over a longer backing file; shrinking needs <paramref name="allowShrink"/> and drops
    /// the active image's clusters past the new end. Snapshots keep their own size (recorded in their table entry),
    /// which applying them restores, as in QEMU since 5.0.
    /// </summary>
    public void Resize(ulong newSize, bool allowShrink)
    {
        CheckWritable();
        if (newSize % 512 != 0)
        {
            throw new DiskImageException($"{Path}: the new size must be a multiple of 512");
        }

        if (newSize > (1UL << 61) || Qcow2Header.RequiredL1Entries(newSize, _clusterBits) * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw new DiskImageException($"{Path}: size {newSize} is too large for this image's cluster size");
        }

        ulong oldSize = Size;
        if (newSize == oldSize)
        {
            return;
        }

        if (newSize < oldSize && !allowShrink)
        {
            throw new DiskImageException($"{Path}: use the --shrink option to perform a shrink operation");
        }

        Flush();
        ulong cs = (ulong)_clusterSize;
        if (newSize < oldSize)
        {
            Shrink(newSize, oldSize, cs);
        }
        else
        {
            int required = (int)Qcow2Header.RequiredL1Entries(newSize, _clusterBits);
            if (required > _l1.Length)
            {
                var newL1 = new ulong[required];
                Array.Copy(_l1, newL1, _l1.Length);
                ReplaceActiveL1(newL1, newSize);
            }
            else
            {
                WriteHeaderField(24, newSize);
                RandomAccess.FlushToDisk(_file);
                _header = _header with { Size = newSize };
            }

            // The grown area must read as zeroes: hide a longer backing file and stale bytes in a partial last cluster.
            ulong backingEnd = Math.Min(newSize, _backing?.Size ?? 0);
            if (backingEnd > oldSize)
            {
                WriteZeroes(oldSize, backingEnd - oldSize);
            }

            ulong clusterEnd = Math.Min(newSize, (oldSize + cs - 1) & ~(cs - 1));
            if (clusterEnd > oldSize && backingEnd < clusterEnd && GetClusterMapping(oldSize).Kind == Qcow2ClusterKind.Data)
            {
                WriteZeroBytes(oldSize, clusterEnd - oldSize);
            }
        }

        Flush();
    }

    private void Shrink(ulong newSize, ulong oldSize, ulong cs)
    {
        ulong firstDropped = (newSize + cs - 1) & ~(cs - 1);
        if (firstDropped > newSize && GetClusterMapping(newSize).Kind != Qcow2ClusterKind.Unallocated)
        {
            WriteZeroBytes(newSize, Math.Min(firstDropped, oldSize) - newSize); // a later grow must not reveal old bytes
        }

        int keep = (int)Qcow2Header.RequiredL1Entries(newSize, _clusterBits);
        ulong keptEnd = Math.Min(oldSize, (ulong)keep << (_clusterBits + _l2Bits));
        for (ulong guest = firstDropped; guest < keptEnd; guest += cs)
        {
            if (GetL2Entry(guest) == 0)
            {
                continue;
            }

            var (l2Offset, table) = GetL2TableForWrite(guest);
            int index = L2Index(guest);
            ulong old = table[index];
            SetL2Entry(l2Offset, table, index, 0);
            ReleaseMapping(old);
        }

        Flush();
        ulong[] dropped = _l1[keep..];
        ForEachReferencedCluster(dropped, _ => { });
        ReplaceActiveL1(_l1[..keep], newSize);
        ForEachReferencedCluster(dropped, c => ChangeRefcount(c, -1));
    }

    /// <summary>Unmaps every cluster of the active image so the backing file shows through (<c>qemu-img commit</c>'s last step).</summary>
    public void MakeEmpty()
    {
        CheckWritable();
        Flush();
        ulong[] old = _l1;
        ForEachReferencedCluster(old, _ => { });
        ReplaceActiveL1(new ulong[old.Length], Size);
        ForEachReferencedCluster(old, c => ChangeRefcount(c, -1));
        Flush();
    }

    /// <summary>
    /// Rewrites the header's backing file name and backing format extension (spec "Header", "Header extensions"),
    /// keeping every other extension; null removes the backing file. The image must not be open elsewhere.
    /// </summary>
    public static void SetBackingFile(string path, string? backingFile, string? backingFormat)
    {
        using var file = DiskImage.OpenHandle(path, readOnly: false);
        var header = ReadHeader(file, path);
        byte[] first = new byte[header.ClusterSize];
        RandomAccess.Read(file, first, 0);
        int headerLength = (int)header.HeaderLength;
        var extensions = new List<(uint Type, byte[] Data)>();
        int pos = headerLength;
        while (true)
        {
            uint type = BinaryPrimitives.ReadUInt32BigEndian(first.AsSpan(pos));
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(first.AsSpan(pos + 4));
            if (type == Qcow2Header.ExtensionEnd)
            {
                break;
            }

            if (type != Qcow2Header.ExtensionBackingFormat)
            {
                extensions.Add((type, first.AsSpan(pos + 8, length).ToArray()));
            }

            pos += 8 + ((length + 7) & ~7); // bounds were validated by ReadHeader
        }

        if (backingFile is not null && backingFormat is not null)
        {
            extensions.Insert(0, (Qcow2Header.ExtensionBackingFormat, Encoding.UTF8.GetBytes(backingFormat)));
        }

        byte[] name = backingFile is null ? [] : Encoding.UTF8.GetBytes(backingFile);
        if (backingFile is not null && (name.Length == 0 || name.Length > Qcow2Header.MaxBackingFileNameLength))
        {
            throw new DiskImageException($"{path}: the backing file name must have 1..{Qcow2Header.MaxBackingFileNameLength} bytes");
        }

        byte[] updated = new byte[header.ClusterSize];
        first.AsSpan(0, headerLength).CopyTo(updated);
        pos = headerLength;
        foreach (var (type, data) in extensions)
        {
            if (pos + 8 + data.Length + 8 > updated.Length)
            {
                throw new DiskImageException($"{path}: the header extensions and backing file name do not fit in the first cluster");
            }

            BinaryPrimitives.WriteUInt32BigEndian(updated.AsSpan(pos), type);
            BinaryPrimitives.WriteUInt32BigEndian(updated.AsSpan(pos + 4), (uint)data.Length);
            data.CopyTo(updated, pos + 8);
            pos += 8 + ((data.Length + 7) & ~7);
        }

        pos += 8; // end-of-extensions marker: already zero
        if (pos + name.Length > updated.Length)
        {
            throw new DiskImageException($"{path}: the header extensions and backing file name do not fit in the first cluster");
        }

        name.CopyTo(updated, pos);
        BinaryPrimitives.WriteUInt64BigEndian(updated.AsSpan(8), name.Length == 0 ? 0UL : (ulong)pos);
        BinaryPrimitives.WriteUInt32BigEndian(updated.AsSpan(16), (uint)name.Length);
        RandomAccess.Write(file, updated, 0);
        RandomAccess.FlushToDisk(file);
    }
}
