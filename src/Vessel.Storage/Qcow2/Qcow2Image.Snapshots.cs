using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// Internal snapshots (QEMU docs/interop/qcow2.txt, "Snapshots"): a snapshot is a copy of the active L1 table; every
/// cluster it reaches gains a reference, so the active image's COPIED flags clear and later writes copy on write.
/// </summary>
/// <remarks>
/// Each operation makes the new state durable before the header points at it: refcount increases and new tables are
/// written and fsynced, then one small header write (snapshot count + table offset, or size + L1 size + L1 offset)
/// switches over, then what the old state alone referenced loses its references. A crash leaks clusters at worst.
/// </remarks>
public sealed partial class Qcow2Image
{
    private List<Qcow2Snapshot> _snapshots;
    private ulong _snapshotTableLength;

    /// <summary>The image's internal snapshots, in table order.</summary>
    public IReadOnlyList<Qcow2Snapshot> ListSnapshots()
    {
        CheckOpen();
        return [.. _snapshots];
    }

    /// <summary>Freezes the current disk contents as snapshot <paramref name="name"/> (id: the highest numeric id + 1).</summary>
    public Qcow2Snapshot CreateSnapshot(string name)
    {
        CheckWritable();
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes is 0 or > ushort.MaxValue)
        {
            throw new DiskImageException($"{Path}: a snapshot name must have 1..{ushort.MaxValue} bytes");
        }

        if (_snapshots.Any(s => s.Name == name))
        {
            throw new DiskImageException($"{Path}: a snapshot named '{name}' already exists");
        }

        if ((uint)_snapshots.Count >= Qcow2Header.MaxSnapshots)
        {
            throw new DiskImageException($"{Path}: the image already has {Qcow2Header.MaxSnapshots} snapshots");
        }

        Flush();
        ForEachReferencedCluster(_l1, _ => { }); // refuse a damaged tree before changing anything
        ForEachReferencedCluster(_l1, c => ChangeRefcount(c, +1));
        RefreshCopiedFlags();

        // The snapshot's L1 copy: same entries as the active one, COPIED flags now clear (refcounts are at least 2).
        ulong l1Offset = 0;
        if (_l1.Length > 0)
        {
            l1Offset = AllocateClusters(ClustersFor((ulong)_l1.Length * 8));
            RandomAccess.Write(_file, EncodeTable(_l1), (long)l1Offset);
        }

        ulong highestId = _snapshots.Select(s => ulong.TryParse(s.Id, NumberStyles.None, CultureInfo.InvariantCulture, out ulong id) ? id : 0)
            .DefaultIfEmpty(0UL).Max();
        var now = DateTimeOffset.UtcNow;
        long nanoseconds = now.Ticks % TimeSpan.TicksPerSecond * 100;
        var snapshot = new Qcow2Snapshot(
            (highestId + 1).ToString(CultureInfo.InvariantCulture),
            name,
            l1Offset,
            (uint)_l1.Length,
            (uint)now.ToUnixTimeSeconds(),
            (uint)nanoseconds,
            VmClockNanoseconds: 0,
            VmStateSize: 0,
            DiskSize: Size,
            Icount: -1);
        ReplaceSnapshotTable([.. _snapshots, snapshot]);
        Flush();
        return snapshot;
    }

    /// <summary>Reverts the disk to snapshot <paramref name="nameOrId"/> (looked up by id first, then by name), like <c>qemu-img snapshot -a</c>.</summary>
    public void ApplySnapshot(string nameOrId)
    {
        CheckWritable();
        var snapshot = FindSnapshot(nameOrId);
        Flush();
        ulong[] snapshotL1 = ReadSnapshotL1(snapshot);
        ForEachReferencedCluster(snapshotL1, _ => { });
        ForEachReferencedCluster(snapshotL1, c => ChangeRefcount(c, +1));
        ulong required = Qcow2Header.RequiredL1Entries(snapshot.DiskSize, _clusterBits);
        var newL1 = new ulong[Math.Max((ulong)snapshotL1.Length, required)];
        for (int i = 0; i < snapshotL1.Length; i++)
        {
            newL1[i] = snapshotL1[i] & ~CopiedFlag;
        }

        ulong[] oldL1 = _l1;
        ReplaceActiveL1(newL1, snapshot.DiskSize);
        ForEachReferencedCluster(oldL1, c => ChangeRefcount(c, -1));
        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file); // decreases durable before any COPIED flag is set on their strength
        RefreshCopiedFlags();
        Flush();
    }

    /// <summary>Deletes snapshot <paramref name="nameOrId"/> (id first, then name) and frees what only it referenced.</summary>
    public void DeleteSnapshot(string nameOrId)
    {
        CheckWritable();
        var snapshot = FindSnapshot(nameOrId);
        Flush();
        ulong[] snapshotL1 = ReadSnapshotL1(snapshot);
        ForEachReferencedCluster(snapshotL1, _ => { });
        ReplaceSnapshotTable([.. _snapshots.Where(s => !ReferenceEquals(s, snapshot))]);
        ForEachReferencedCluster(snapshotL1, c => ChangeRefcount(c, -1));
        FreeHostRange(snapshot.L1TableOffset, (ulong)snapshot.L1Size * 8);
        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file);
        RefreshCopiedFlags();
        Flush();
    }

    private Qcow2Snapshot FindSnapshot(string nameOrId) =>
        _snapshots.FirstOrDefault(s => s.Id == nameOrId) ?? _snapshots.FirstOrDefault(s => s.Name == nameOrId)
        ?? throw new DiskImageException($"{Path}: no snapshot with id or name '{nameOrId}'");

    private ulong[] ReadSnapshotL1(Qcow2Snapshot snapshot)
    {
        // Qcow2SnapshotTable.Read bounded the L1 size and checked that the table lies inside the file.
        if (Qcow2Header.RequiredL1Entries(snapshot.DiskSize, _clusterBits) * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw new DiskImageException($"{Path}: snapshot '{snapshot.Name}' has a disk size of {snapshot.DiskSize} bytes, too large for an L1 table of {Qcow2Header.MaxL1Bytes} bytes");
        }

        return ReadTable(snapshot.L1TableOffset, (int)snapshot.L1Size);
    }

    /// <summary>
    /// Calls <paramref name="visit"/> once for every host cluster a tree references through one L1 entry or L2 entry
    /// (L2 tables, data clusters, every cluster a compressed cluster spans), as QEMU's refcounts count them.
    /// Throws before visiting anything outside the file.
    /// </summary>
    private void ForEachReferencedCluster(ulong[] l1, Action<ulong> visit)
    {
        ulong fileEnd = _nextFreeCluster << _clusterBits;
        foreach (ulong l1Entry in l1)
        {
            ulong l2Offset = l1Entry & OffsetMask;
            if (l2Offset == 0)
            {
                continue;
            }

            if (l2Offset >= fileEnd || (l2Offset & (ulong)(_clusterSize - 1)) != 0)
            {
                throw new DiskImageException($"{Path}: corrupt qcow2 image: L2 table at 0x{l2Offset:x} is unaligned or past the end of the file");
            }

            ulong[] table = (ulong[])LoadL2(l2Offset).Clone();
            foreach (ulong entry in table)
            {
                if ((entry & CompressedFlag) != 0)
                {
                    int x = 62 - (_clusterBits - 8);
                    ulong host = entry & ((1UL << x) - 1) & 0x00ff_ffff_ffff_ffff;
                    ulong sectors = (entry >> x) & ((1UL << (62 - x)) - 1);
                    ulong last = host + ((sectors + 1) * 512) - (host & 511) - 1;
                    if (last >= fileEnd + (ulong)_clusterSize)
                    {
                        throw new DiskImageException($"{Path}: corrupt qcow2 image: compressed cluster at 0x{host:x} lies past the end of the file");
                    }

                    for (ulong c = host >> _clusterBits; c <= Math.Min(last, fileEnd - 1) >> _clusterBits; c++)
                    {
                        visit(c);
                    }

                    continue;
                }

                ulong offset = entry & OffsetMask;
                if (offset == 0)
                {
                    continue;
                }

                if (offset >= fileEnd || (offset & (ulong)(_clusterSize - 1)) != 0)
                {
                    throw new DiskImageException($"{Path}: corrupt qcow2 image: data cluster at 0x{offset:x} is unaligned or past the end of the file");
                }

                visit(offset >> _clusterBits);
            }

            visit(l2Offset >> _clusterBits);
        }
    }

    /// <summary>Sets the active tree's COPIED flags exactly where the refcount is 1 (spec "Cluster mapping", bit 63); returns how many changed.</summary>
    private int RefreshCopiedFlags()
    {
        int changed = 0;
        for (int i = 0; i < _l1.Length; i++)
        {
            ulong l2Offset = _l1[i] & OffsetMask;
            if (l2Offset == 0)
            {
                continue;
            }

            ulong wantedL1 = StoredRefcount(l2Offset >> _clusterBits) == 1 ? _l1[i] | CopiedFlag : _l1[i] & ~CopiedFlag;
            if (wantedL1 != _l1[i])
            {
                _l1[i] = wantedL1;
                _dirtyL1.Add(i);
                changed++;
            }

            ulong[] table = LoadL2(l2Offset);
            for (int j = 0; j < table.Length; j++)
            {
                ulong entry = table[j];
                ulong offset = entry & OffsetMask;
                if ((entry & CompressedFlag) != 0 || offset == 0)
                {
                    continue;
                }

                ulong wanted = StoredRefcount(offset >> _clusterBits) == 1 ? entry | CopiedFlag : entry & ~CopiedFlag;
                if (wanted != entry)
                {
                    table = ReloadL2(l2Offset, table);
                    SetL2Entry(l2Offset, table, j, wanted);
                    changed++;
                }
            }
        }

        return changed;
    }

    /// <summary>Writes <paramref name="snapshots"/> as a new table, switches the header to it, then frees the old table.</summary>
    private void ReplaceSnapshotTable(List<Qcow2Snapshot> snapshots)
    {
        byte[] table = Qcow2SnapshotTable.Encode(snapshots);
        ulong offset = 0;
        if (snapshots.Count > 0)
        {
            offset = AllocateClusters(ClustersFor((ulong)table.Length));
            RandomAccess.Write(_file, table, (long)offset);
        }

        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file);
        byte[] field = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(field, (uint)snapshots.Count);
        BinaryPrimitives.WriteUInt64BigEndian(field.AsSpan(4), offset);
        RandomAccess.Write(_file, field, 60);
        RandomAccess.FlushToDisk(_file);
        ulong oldOffset = _header.SnapshotsOffset;
        ulong oldLength = _header.SnapshotCount == 0 ? 0 : _snapshotTableLength;
        _header = _header with { SnapshotCount = (uint)snapshots.Count, SnapshotsOffset = offset };
        _snapshots = snapshots;
        _snapshotTableLength = (ulong)table.Length;
        FreeHostRange(oldOffset, oldLength);
    }

    /// <summary>
    /// Makes <paramref name="newL1"/> the active L1 table and <paramref name="newSize"/> the virtual size: the table is
    /// written to new clusters and made durable, one header write switches to it, then the old table's clusters are
    /// freed. The trees themselves are the caller's business.
    /// </summary>
    private void ReplaceActiveL1(ulong[] newL1, ulong newSize)
    {
        if ((ulong)newL1.Length * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw new DiskImageException($"{Path}: an L1 table of {newL1.Length} entries is larger than {Qcow2Header.MaxL1Bytes} bytes");
        }

        ulong offset = 0;
        if (newL1.Length > 0)
        {
            offset = AllocateClusters(ClustersFor((ulong)newL1.Length * 8));
            RandomAccess.Write(_file, EncodeTable(newL1), (long)offset);
        }

        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file);

        // Bytes 24..47: size, crypt_method (0), l1_size, l1_table_offset — one write within one sector.
        byte[] field = new byte[24];
        BinaryPrimitives.WriteUInt64BigEndian(field, newSize);
        BinaryPrimitives.WriteUInt32BigEndian(field.AsSpan(8), _header.CryptMethod);
        BinaryPrimitives.WriteUInt32BigEndian(field.AsSpan(12), (uint)newL1.Length);
        BinaryPrimitives.WriteUInt64BigEndian(field.AsSpan(16), offset);
        RandomAccess.Write(_file, field, 24);
        RandomAccess.FlushToDisk(_file);
        ulong oldOffset = _header.L1TableOffset;
        ulong oldLength = (ulong)_l1.Length * 8;
        _header = _header with { Size = newSize, L1Size = (uint)newL1.Length, L1TableOffset = offset };
        _l1 = newL1;
        _dirtyL1.Clear();
        FreeHostRange(oldOffset, oldLength);
    }

    /// <summary>Drops one reference from each cluster of a host byte range that nothing points at any more.</summary>
    private void FreeHostRange(ulong offset, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        for (ulong c = offset >> _clusterBits; c <= (offset + length - 1) >> _clusterBits; c++)
        {
            ChangeRefcount(c, -1);
        }
    }

    private int ClustersFor(ulong bytes) => (int)Math.Max(1, (bytes + (ulong)_clusterSize - 1) >> _clusterBits);
}
