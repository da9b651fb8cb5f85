using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage;

/// <summary>Recognises an image's format from its content, never from its file name; anything unrecognised is raw.</summary>
public static class ImageFormatDetector
{
    private const uint VdiSignature = 0xbeda107f;

    public static ImageFormat Detect(string path)
    {
        using var handle = DiskImage.OpenHandle(path, readOnly: true);
        return Detect(handle);
    }

    internal static ImageFormat Detect(SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        Span<byte> head = stackalloc byte[512];
        int n = RandomAccess.Read(handle, head, 0);
        head = head[..n];
        Span<byte> tail = stackalloc byte[512];
        int tailLength = 0;
        if (length >= 512)
        {
            tailLength = RandomAccess.Read(handle, tail, length - 512);
        }

        return Detect(head, tail[..tailLength]);
    }

    /// <param name="head">The file's first bytes (up to 512).</param>
    /// <param name="tail">The file's last 512 bytes, where a VHD keeps its footer (empty if shorter).</param>
    public static ImageFormat Detect(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        if (head.StartsWith(Qcow2Magic))
        {
            return ImageFormat.Qcow2;
        }

        // VHD: dynamic disks carry a copy of the footer at offset 0; every VHD ends with the footer ("conectix").
        if (head.StartsWith("conectix"u8) || (tail.Length == 512 && tail.StartsWith("conectix"u8)))
        {
            return ImageFormat.Vhd;
        }

        // VMDK: hosted sparse extent magic "KDMV", or a text descriptor file.
        if (head.StartsWith("KDMV"u8) || head.StartsWith("COWD"u8) || VmdkDescriptor.LooksLikeDescriptor(head))
        {
            return ImageFormat.Vmdk;
        }

        // VDI: a text banner, then the signature at 0x40.
        if (head.Length >= 0x44 && BinaryPrimitives.ReadUInt32LittleEndian(head[0x40..]) == VdiSignature)
        {
            return ImageFormat.Vdi;
        }

        return ImageFormat.Raw;
    }

    private static ReadOnlySpan<byte> Qcow2Magic => [(byte)'Q', (byte)'F', (byte)'I', 0xfb];
}
