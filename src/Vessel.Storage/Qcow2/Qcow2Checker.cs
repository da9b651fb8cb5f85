using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// Consistency check of a qcow2 image (like <c>qemu-img check</c>): counts the references to every host cluster from
/// the header, the L1/L2 trees of the active image and of each internal snapshot, the refcount structures and the
/// snapshot table, and compares them with the stored refcounts. A stored refcount below the references is a
/// corruption, above them a leak. Read-only; never repairs.
/// </summary>
public static class Qcow2Checker
{
    private const int MaxReportedErrors = 100;
    private const ulong MaxCheckedClusters = 1UL << 27;

    public static ImageCheckResult Check(string path)
    {
        using var file = DiskImage.OpenHandle(path, readOnly: true);
        var header = Qcow2Image.ReadHeader(file, path);
        return new Walk(path, file, header).Run();
    }

    /// <summary>References to each host cluster (index = cluster number) and the problems met while counting.</summary>
    internal static (int[] References, IReadOnlyList<string> Problems) CountReferences(SafeFileHandle file, Qcow2Header header, string path)
    {
        var walk = new Walk(path, file, header);
        walk.CountAll();
        return (walk.References, walk.Problems);
    }

    private sealed class Walk(string path, SafeFileHandle file, Qcow2Header header)
    {
        private readonly ulong _fileLength = (ulong)RandomAccess.GetLength(file);
        private readonly int _clusterBits = header.ClusterBits;
        private readonly ulong _clusterSize = (ulong)header.ClusterSize;
        private readonly List<string> _errors = [];
        private readonly Dictionary<ulong, string> _beyondFile = [];
        private readonly List<string> _problems = [];
        private int[] _references = [];
        private int _corruptions;
        private ulong _allocatedGuestClusters;
        private ulong _compressedClusters;

        public int[] References => _references;

        public IReadOnlyList<string> Problems => _beyondFile.Count == 0
            ? _problems
            : [.. _problems, .. _beyondFile.Select(b => $"ERROR {b.Value} at 0x{b.Key:x} lies past the end of the file")];

        /// <summary>Counts every reference (structural problems are reported); returns the stored refcounts.</summary>
        public ushort[] CountAll()
        {
            ulong fileClusters = (_fileLength + _clusterSize - 1) >> _clusterBits;
            if (fileClusters > MaxCheckedClusters)
            {
                throw new DiskImageException($"{path}: the file has {fileClusters} clusters, more than the checker handles ({MaxCheckedClusters})");
            }

            _references = new int[fileClusters];

            Reference(0, _clusterSize, "header");
            Reference(header.L1TableOffset, (ulong)header.L1Size * 8, "L1 table");
            Reference(header.RefcountTableOffset, (ulong)header.RefcountTableClusters * _clusterSize, "refcount table");
            WalkL1(header.L1TableOffset, header.L1Size, active: true);
            WalkSnapshots();
            return ReadRefcounts();
        }

        public ImageCheckResult Run()
        {
            var refcounts = CountAll();
            ulong fileClusters = (ulong)_references.Length;
            int leaks = 0;
            ulong imageEnd = 0;
            ulong clusters = Math.Max(fileClusters, (ulong)refcounts.Length);
            for (ulong c = 0; c < clusters; c++)
            {
                int stored = c < (ulong)refcounts.Length ? refcounts[c] : 0;
                int referenced = c < fileClusters ? _references[c] : 0;
                if (stored != 0 || referenced != 0)
                {
                    imageEnd = (c + 1) << _clusterBits;
                }

                if (stored < referenced)
                {
                    Corrupt($"ERROR cluster {c} refcount={stored} reference={referenced}");
                }
                else if (stored > referenced)
                {
                    leaks++;
                    Report($"Leaked cluster {c} refcount={stored} reference={referenced}");
                }
            }

            foreach (var (offset, what) in _beyondFile)
            {
                Corrupt($"ERROR {what} at 0x{offset:x} lies past the end of the file");
            }

            ulong guestClusters = (header.Size + _clusterSize - 1) >> _clusterBits;
            return new ImageCheckResult(_corruptions, leaks, _errors, _allocatedGuestClusters, guestClusters, _compressedClusters, imageEnd);
        }

        private void WalkL1(ulong l1Offset, uint l1Size, bool active)
        {
            ulong[] l1 = ReadTable(l1Offset, (int)l1Size);
            for (int i = 0; i < l1.Length; i++)
            {
                ulong l2Offset = l1[i] & Qcow2Image.OffsetMask;
                if (l2Offset == 0)
                {
                    continue;
                }

                if (!Aligned(l2Offset) || l2Offset + _clusterSize > _fileLength)
                {
                    Corrupt($"ERROR L2 table offset 0x{l2Offset:x} (L1 index {i}) is unaligned or past the end of the file");
                    continue;
                }

                Reference(l2Offset, _clusterSize, "L2 table");
                if (active)
                {
                    CheckCopied(l1[i], l2Offset, "L2 table");
                }

                WalkL2(ReadTable(l2Offset, (int)(_clusterSize / 8)), active);
            }
        }

        private void WalkL2(ulong[] l2, bool active)
        {
            foreach (ulong entry in l2)
            {
                if ((entry & Qcow2Image.CompressedFlag) != 0)
                {
                    int x = 62 - (_clusterBits - 8);
                    ulong host = entry & ((1UL << x) - 1) & 0x00ff_ffff_ffff_ffff;
                    ulong sectors = (entry >> x) & ((1UL << (62 - x)) - 1);
                    ulong length = (sectors + 1) * 512 - (host & 511);
                    ulong first = host & ~(_clusterSize - 1);
                    Reference(first, host + length - first, "compressed cluster");
                    if (active)
                    {
                        _allocatedGuestClusters++;
                        _compressedClusters++;
                    }

                    continue;
                }

                ulong offset = entry & Qcow2Image.OffsetMask;
                if (offset == 0)
                {
                    continue;
                }

                if (!Aligned(offset))
                {
                    Corrupt($"ERROR data cluster offset 0x{offset:x} is not cluster aligned");
                    continue;
                }

                Reference(offset, _clusterSize, "data cluster");
                if (active)
                {
                    _allocatedGuestClusters++;
                    CheckCopied(entry, offset, "data cluster");
                }
            }
        }

        /// <summary>Snapshot table ("Snapshots"): each snapshot's L1 tree references clusters too.</summary>
        private void WalkSnapshots()
        {
            if (header.SnapshotCount == 0)
            {
                return;
            }

            ulong position = header.SnapshotsOffset;
            for (uint i = 0; i < header.SnapshotCount; i++)
            {
                byte[] fixedPart = new byte[40];
                if (position + 40 > _fileLength)
                {
                    Corrupt("ERROR snapshot table runs past the end of the file");
                    return;
                }

                RandomAccess.Read(file, fixedPart, (long)position);
                ulong l1Offset = BinaryPrimitives.ReadUInt64BigEndian(fixedPart);
                uint l1Size = BinaryPrimitives.ReadUInt32BigEndian(fixedPart.AsSpan(8));
                ushort idLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(12));
                ushort nameLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(14));
                uint extraLength = BinaryPrimitives.ReadUInt32BigEndian(fixedPart.AsSpan(36));
                if ((ulong)l1Size * 8 > Qcow2Header.MaxL1Bytes || !Aligned(l1Offset) || l1Offset + (ulong)l1Size * 8 > _fileLength)
                {
                    Corrupt($"ERROR snapshot {i} has an invalid L1 table");
                }
                else
                {
                    Reference(l1Offset, (ulong)l1Size * 8, "snapshot L1 table");
                    WalkL1(l1Offset, l1Size, active: false);
                }

                ulong entryLength = 40 + (ulong)extraLength + idLength + nameLength;
                position += (entryLength + 7) & ~7UL;
            }

            Reference(header.SnapshotsOffset, position - header.SnapshotsOffset, "snapshot table");
        }

        private ushort[] ReadRefcounts()
        {
            if (header.RefcountOrder != 4)
            {
                Corrupt($"ERROR refcount_order {header.RefcountOrder} cannot be checked (only 4)");
                return [];
            }

            ulong perBlock = _clusterSize / 2;
            ulong[] table = ReadTable(header.RefcountTableOffset, (int)(header.RefcountTableClusters * _clusterSize / 8));
            int lastBlock = Array.FindLastIndex(table, e => e != 0);
            // Only clusters inside the file can be referenced: a hostile table cannot make this array huge.
            ulong covered = Math.Min((ulong)(lastBlock + 1) * perBlock, (ulong)_references.Length);
            var refcounts = new ushort[covered];
            byte[] raw = new byte[_clusterSize];
            for (int b = 0; b <= lastBlock; b++)
            {
                ulong offset = table[b] & ~511UL;
                if (offset == 0)
                {
                    continue;
                }

                if (!Aligned(offset) || offset + _clusterSize > _fileLength)
                {
                    Corrupt($"ERROR refcount block {b} at 0x{offset:x} is unaligned or past the end of the file");
                    continue;
                }

                Reference(offset, _clusterSize, "refcount block");
                if ((ulong)b * perBlock >= covered)
                {
                    continue;
                }

                RandomAccess.Read(file, raw, (long)offset);
                for (ulong i = 0; i < perBlock && ((ulong)b * perBlock) + i < covered; i++)
                {
                    refcounts[((ulong)b * perBlock) + i] = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan((int)(i * 2)));
                }
            }

            return refcounts;
        }

        private void CheckCopied(ulong entry, ulong offset, string what)
        {
            // Only meaningful without snapshots; with them the stored refcount decides (checked after the walk).
            if (header.SnapshotCount == 0 && (entry & Qcow2Image.CopiedFlag) == 0)
            {
                Corrupt($"ERROR OFLAG_COPIED {what} at 0x{offset:x}: refcount=1 but the copied flag is clear");
            }
        }

        private void Reference(ulong offset, ulong length, string what)
        {
            if (length == 0)
            {
                return;
            }

            ulong first = offset >> _clusterBits;
            ulong last = (offset + length - 1) >> _clusterBits;
            for (ulong c = first; c <= last; c++)
            {
                if (c < (ulong)_references.Length)
                {
                    _references[c]++;
                }
                else
                {
                    _beyondFile.TryAdd(c << _clusterBits, what);
                }
            }
        }

        private ulong[] ReadTable(ulong offset, int entries)
        {
            byte[] raw = new byte[entries * 8];
            RandomAccess.Read(file, raw, (long)offset);
            var table = new ulong[entries];
            for (int i = 0; i < entries; i++)
            {
                table[i] = BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(i * 8));
            }

            return table;
        }

        private bool Aligned(ulong offset) => (offset & (_clusterSize - 1)) == 0;

        private void Corrupt(string message)
        {
            _corruptions++;
            _problems.Add(message);
            Report(message);
        }

        private void Report(string message)
        {
            if (_errors.Count < MaxReportedErrors)
            {
                _errors.Add(message);
            }
        }

        public override string ToString() => path;
    }
}
