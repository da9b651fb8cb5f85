using System.Buffers.Binary;
using System.IO.Compression;
using Vessel.Machine.Abstractions;

namespace Vessel.Machine.Loading;

/// <summary>
/// Places firmware, kernel, initrd and devicetree in guest RAM the way QEMU's virt machine does
/// (hw/riscv/boot.c behaviour; Linux Documentation/arch/riscv/boot.rst for the Image header).
/// </summary>
public static class BootImageLoader
{
    // Linux Image header (boot-image-header.rst): "RSC\x05" at offset 56.
    private const uint ImageMagic2 = 0x0543_5352;
    private const int MaxImageBytes = 512 << 20;

    /// <summary>Loads a raw binary or an ELF at <paramref name="loadAddress"/>; returns the range it occupies.</summary>
    public static (ulong Start, ulong End) LoadBinaryOrElf(GuestMemory ram, string path, ulong loadAddress, string what)
    {
        byte[] bytes = ReadImage(path, what);
        if (bytes.Length >= 4 && bytes[0] == 0x7F && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F')
        {
            var elf = ElfImage.Parse(bytes, path);
            ulong start = ulong.MaxValue, end = 0;
            foreach (var segment in elf.LoadSegments)
            {
                if (!ram.Contains(segment.PhysicalAddress, segment.MemorySize))
                {
                    throw new BootImageException($"{what} {path}: segment at 0x{segment.PhysicalAddress:x} (+0x{segment.MemorySize:x}) is outside RAM.");
                }

                ram.Write(segment.PhysicalAddress, segment.FileBytes.Span);
                ram.GetSpan(segment.PhysicalAddress + (ulong)segment.FileBytes.Length, (int)(segment.MemorySize - (ulong)segment.FileBytes.Length)).Clear();
                start = Math.Min(start, segment.PhysicalAddress);
                end = Math.Max(end, segment.PhysicalAddress + segment.MemorySize);
            }

            return (start, end);
        }

        if (!ram.Contains(loadAddress, (ulong)bytes.Length))
        {
            throw new BootImageException($"{what} {path} ({bytes.Length / 1024 / 1024} MiB) does not fit in RAM at 0x{loadAddress:x}; give the VM more --memory.");
        }

        ram.Write(loadAddress, bytes);
        ulong occupied = (ulong)bytes.Length;
        // A Linux Image says how much memory it needs beyond the file (BSS): keep the initrd clear of it.
        if (bytes.Length >= 64 && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(56)) == ImageMagic2)
        {
            occupied = Math.Max(occupied, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
        }

        return (loadAddress, loadAddress + occupied);
    }

    /// <summary>Reads an image file, decompressing gzip; refuses absurd sizes with a clear message.</summary>
    public static byte[] ReadImage(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new BootImageException($"{what} {path}: no such file.");
        }

        var info = new FileInfo(path);
        if (info.Length == 0)
        {
            throw new BootImageException($"{what} {path}: the file is empty.");
        }

        if (info.Length > MaxImageBytes)
        {
            throw new BootImageException($"{what} {path}: {info.Length} bytes is larger than the {MaxImageBytes >> 20} MiB limit.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length > 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
        {
            try
            {
                using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var output = new MemoryStream();
                var buffer = new byte[1 << 16];
                int n;
                while ((n = input.Read(buffer)) > 0)
                {
                    if (output.Length + n > MaxImageBytes)
                    {
                        throw new BootImageException($"{what} {path}: decompresses to more than {MaxImageBytes >> 20} MiB.");
                    }

                    output.Write(buffer, 0, n);
                }

                return output.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new BootImageException($"{what} {path}: corrupt gzip data ({e.Message}).");
            }
        }

        return bytes;
    }
}
