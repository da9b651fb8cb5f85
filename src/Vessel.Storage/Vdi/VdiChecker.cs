using System.Buffers.Binary;

namespace Vessel.Storage.Vdi;

/// <summary>
/// Consistency check of a VDI image (like <c>qemu-img check</c> on a VDI): every block-map entry names a data block
/// inside the image, no data block is used by two guest blocks, every used data block lies inside the file, and the
/// header's allocated-block count matches the map. Read-only; a header too broken to read is a
/// <see cref="DiskImageException"/> (the check cannot complete).
/// </summary>
public static class VdiChecker
{
    public static ImageCheckResult Check(string path)
    {
        using var file = DiskImage.OpenHandle(path, readOnly: true);
        var header = VdiImage.ReadHeader(file, path);
        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        byte[] bytes = new byte[header.Blocks * 4];
        if (RandomAccess.Read(file, bytes, header.BlockMapOffset) != bytes.Length)
        {
            throw new DiskImageException($"{path}: malformed VDI image: the block map is cut off by the end of the file");
        }

        var tally = new ImageCheckTally { Total = header.Blocks };
        // Data block number -> the first guest block that uses it; bounded by the header's block count.
        var owner = new int[header.Blocks];
        Array.Fill(owner, -1);
        uint allocated = 0;
        ulong blockBytes = (ulong)header.BlockSize + header.BlockExtra;
        for (int i = 0; i < header.Blocks; i++)
        {
            uint entry = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
            if (entry >= VdiImage.Discarded)
            {
                continue;
            }

            allocated++;
            if (entry >= header.Blocks)
            {
                tally.Corruption($"ERROR: block {i} maps to data block {entry}, beyond the image's {header.Blocks} blocks");
                continue;
            }

            if (owner[entry] >= 0)
            {
                tally.Corruption($"ERROR: block {i} maps to data block {entry}, which block {owner[entry]} also uses");
                continue;
            }

            owner[entry] = i;
            if (header.DataOffset + ((entry + 1UL) * blockBytes) > fileLength)
            {
                tally.Corruption($"ERROR: data block {entry} (block {i}) lies past the end of the file");
            }
        }

        if (allocated != header.BlocksAllocated)
        {
            tally.Corruption($"ERROR: the header says {header.BlocksAllocated} blocks are allocated, the block map uses {allocated}");
        }

        tally.Allocated = allocated;
        return tally.ToResult();
    }
}
