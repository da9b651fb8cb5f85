using System.Buffers.Binary;

namespace Vessel.Storage.Tests;

/// <summary>Overwrites fields of image files in place for hostile-input tests (qcow2 and VHD are big-endian, VDI and VMDK little-endian).</summary>
internal static class ImageFileEditor
{
    public static void PatchBigEndian(string path, long offset, int width, ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        Write(path, offset, bytes.AsSpan(8 - width, width));
    }

    public static void PatchLittleEndian(string path, long offset, int width, ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        Write(path, offset, bytes.AsSpan(0, width));
    }

    public static uint ReadUInt32LittleEndian(string path, long offset)
    {
        byte[] bytes = new byte[4];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private static void Write(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        stream.Write(bytes);
    }
}
