using System.Buffers.Binary;
using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>Edits VHD structures in place for hostile-input tests, optionally keeping their checksums valid.</summary>
internal static class VhdFileEditor
{
    /// <summary>Patches a footer field in the trailing footer and, for dynamic disks, the copy at offset 0.</summary>
    public static void PatchFooter(string path, int field, int width, ulong value, bool fixChecksum = true)
    {
        long length = new FileInfo(path).Length;
        foreach (long at in FooterLocations(path, length))
        {
            ImageFileEditor.PatchBigEndian(path, at + field, width, value);
            if (fixChecksum)
            {
                FixChecksum(path, at, VhdFooter.Length, 64);
            }
        }
    }

    /// <summary>Patches a dynamic disk header field (header at 512, as Vessel and qemu-img write it).</summary>
    public static void PatchHeader(string path, int field, int width, ulong value, bool fixChecksum = true)
    {
        ImageFileEditor.PatchBigEndian(path, 512 + field, width, value);
        if (fixChecksum)
        {
            FixChecksum(path, 512, VhdDynamicHeader.Length, 36);
        }
    }

    public static uint ReadUInt32(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[4];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static List<long> FooterLocations(string path, long length)
    {
        var locations = new List<long> { length - VhdFooter.Length };
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] head = new byte[8];
        stream.ReadExactly(head);
        if (head.AsSpan().SequenceEqual("conectix"u8))
        {
            locations.Add(0);
        }

        return locations;
    }

    private static void FixChecksum(string path, long at, int length, int checksumOffset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] structure = new byte[length];
        stream.Position = at;
        stream.ReadExactly(structure);
        BinaryPrimitives.WriteUInt32BigEndian(structure.AsSpan(checksumOffset), VhdFooter.Checksum(structure, checksumOffset));
        stream.Position = at;
        stream.Write(structure);
    }
}
