using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// Reads and encodes the qcow2 snapshot table (QEMU docs/interop/qcow2.txt, "Snapshots"): entries of a 40-byte fixed
/// part, extra data (vm_state_size_large, disk size, icount), id and name, each padded to 8 bytes.
/// </summary>
internal static class Qcow2SnapshotTable
{
    /// <summary>QEMU's limits: 1 KiB of extra data per entry, 64 MiB for the whole table.</summary>
    public const uint MaxExtraDataLength = 1024;
    public const ulong MaxTableBytes = 64UL << 20;

    /// <summary>Extra data Vessel writes: vm_state_size_large, disk size, icount (24 bytes, like QEMU).</summary>
    private const int KnownExtraDataLength = 24;
    private const int FixedLength = 40;

    /// <summary>Parses the table the header points at, refusing anything that lies outside the file or is oversized.</summary>
    public static List<Qcow2Snapshot> Read(SafeFileHandle file, Qcow2Header header, string path, out ulong tableLength)
    {
        var snapshots = new List<Qcow2Snapshot>();
        tableLength = 0;
        if (header.SnapshotCount == 0)
        {
            return snapshots;
        }

        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        ulong clusterMask = (ulong)header.ClusterSize - 1;
        if ((header.SnapshotsOffset & clusterMask) != 0 || header.SnapshotsOffset == 0)
        {
            throw Malformed(path, $"snapshot table offset 0x{header.SnapshotsOffset:x} is not cluster aligned");
        }

        ulong position = header.SnapshotsOffset;
        byte[] fixedPart = new byte[FixedLength];
        for (uint i = 0; i < header.SnapshotCount; i++)
        {
            if (position - header.SnapshotsOffset + FixedLength > MaxTableBytes)
            {
                throw Malformed(path, $"snapshot table is larger than {MaxTableBytes} bytes");
            }

            ReadExactly(file, fixedPart, position, fileLength, path, i);
            var f = fixedPart.AsSpan();
            ulong l1Offset = BinaryPrimitives.ReadUInt64BigEndian(f);
            uint l1Size = BinaryPrimitives.ReadUInt32BigEndian(f[8..]);
            ushort idLength = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
            ushort nameLength = BinaryPrimitives.ReadUInt16BigEndian(f[14..]);
            uint extraLength = BinaryPrimitives.ReadUInt32BigEndian(f[36..]);
            if (extraLength > MaxExtraDataLength)
            {
                throw Malformed(path, $"snapshot {i} has {extraLength} bytes of extra data (more than {MaxExtraDataLength})");
            }

            if ((ulong)l1Size * 8 > Qcow2Header.MaxL1Bytes)
            {
                throw Malformed(path, $"snapshot {i} has an L1 table of {l1Size} entries (more than {Qcow2Header.MaxL1Bytes / 8})");
            }

            if (l1Size > 0 && ((l1Offset & clusterMask) != 0 || l1Offset == 0 || l1Offset > fileLength || (ulong)l1Size * 8 > fileLength - l1Offset))
            {
                throw Malformed(path, $"snapshot {i} has its L1 table at 0x{l1Offset:x} (+{(ulong)l1Size * 8} bytes) unaligned or past the end of the file");
            }

            byte[] variable = new byte[extraLength + idLength + nameLength];
            ReadExactly(file, variable, position + FixedLength, fileLength, path, i);
            var extra = variable.AsSpan(0, (int)extraLength);
            ulong vmStateSize = BinaryPrimitives.ReadUInt32BigEndian(f[32..]);
            ulong diskSize = header.Size; // QEMU's default when the entry predates the disk size field
            long icount = -1;
            if (extra.Length >= 8)
            {
                vmStateSize = BinaryPrimitives.ReadUInt64BigEndian(extra);
            }

            if (extra.Length >= 16)
            {
                diskSize = BinaryPrimitives.ReadUInt64BigEndian(extra[8..]);
            }

            if (extra.Length >= 24)
            {
                icount = BinaryPrimitives.ReadInt64BigEndian(extra[16..]);
            }

            if (diskSize > (1UL << 61))
            {
                throw Malformed(path, $"snapshot {i} has a virtual disk size of {diskSize} bytes");
            }

            snapshots.Add(new Qcow2Snapshot(
                Encoding.UTF8.GetString(variable.AsSpan((int)extraLength, idLength)),
                Encoding.UTF8.GetString(variable.AsSpan((int)extraLength + idLength, nameLength)),
                l1Offset,
                l1Size,
                BinaryPrimitives.ReadUInt32BigEndian(f[16..]),
                BinaryPrimitives.ReadUInt32BigEndian(f[20..]),
                BinaryPrimitives.ReadUInt64BigEndian(f[24..]),
                vmStateSize,
                diskSize,
                icount)
            {
                UnknownExtraData = extra.Length > KnownExtraDataLength ? extra[KnownExtraDataLength..].ToArray() : [],
            });
            position += (FixedLength + (ulong)variable.Length + 7) & ~7UL;
        }

        tableLength = position - header.SnapshotsOffset;
        return snapshots;
    }

    /// <summary>Bytes the encoded table of <paramref name="snapshots"/> takes (see <see cref="Encode"/>).</summary>
    public static byte[] Encode(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        using var output = new MemoryStream();
        foreach (var s in snapshots)
        {
            byte[] id = Encoding.UTF8.GetBytes(s.Id);
            byte[] name = Encoding.UTF8.GetBytes(s.Name);
            int extraLength = KnownExtraDataLength + s.UnknownExtraData.Length;
            int length = (FixedLength + extraLength + id.Length + name.Length + 7) & ~7;
            byte[] entry = new byte[length];
            var e = entry.AsSpan();
            BinaryPrimitives.WriteUInt64BigEndian(e, s.L1TableOffset);
            BinaryPrimitives.WriteUInt32BigEndian(e[8..], s.L1Size);
            BinaryPrimitives.WriteUInt16BigEndian(e[12..], (ushort)id.Length);
            BinaryPrimitives.WriteUInt16BigEndian(e[14..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt32BigEndian(e[16..], s.DateSeconds);
            BinaryPrimitives.WriteUInt32BigEndian(e[20..], s.DateNanoseconds);
            BinaryPrimitives.WriteUInt64BigEndian(e[24..], s.VmClockNanoseconds);
            BinaryPrimitives.WriteUInt32BigEndian(e[32..], (uint)Math.Min(s.VmStateSize, uint.MaxValue));
            BinaryPrimitives.WriteUInt32BigEndian(e[36..], (uint)extraLength);
            BinaryPrimitives.WriteUInt64BigEndian(e[40..], s.VmStateSize);
            BinaryPrimitives.WriteUInt64BigEndian(e[48..], s.DiskSize);
            BinaryPrimitives.WriteInt64BigEndian(e[56..], s.Icount);
            s.UnknownExtraData.CopyTo(e[64..]);
            id.CopyTo(e[(FixedLength + extraLength)..]);
            name.CopyTo(e[(FixedLength + extraLength + id.Length)..]);
            output.Write(entry);
        }

        if ((ulong)output.Length > MaxTableBytes)
        {
            throw new DiskImageException($"the snapshot table would exceed {MaxTableBytes} bytes");
        }

        return output.ToArray();
    }

    private static void ReadExactly(SafeFileHandle file, byte[] buffer, ulong position, ulong fileLength, string path, uint index)
    {
        if (position > fileLength || (ulong)buffer.Length > fileLength - position)
        {
            throw Malformed(path, $"snapshot table entry {index} at 0x{position:x} runs past the end of the file");
        }

        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(file, buffer.AsSpan(done), (long)position + done);
            if (n == 0)
            {
                throw Malformed(path, $"snapshot table entry {index} at 0x{position:x} runs past the end of the file");
            }

            done += n;
        }
    }

    private static DiskImageException Malformed(string path, string why) => new($"{path}: malformed qcow2 image: {why}");
}
