using System.Buffers.Binary;
using System.Text;

namespace Vessel.Images.Tests;

/// <summary>Builds minimal ELF64 little-endian relocatables with a .modinfo section, like kernel modules.</summary>
internal static class TestElf
{
    public static byte[] Module(params string[] modinfo)
    {
        byte[] info = Encoding.ASCII.GetBytes(string.Concat(modinfo.Select(s => s + "\0")));
        byte[] names = Encoding.ASCII.GetBytes("\0.text\0.modinfo\0.shstrtab\0");
        int infoOffset = 64;
        int namesOffset = infoOffset + info.Length;
        int shoff = (namesOffset + names.Length + 7) & ~7;
        byte[] elf = new byte[shoff + (4 * 64)];
        "\x7F"u8.CopyTo(elf);
        "ELF"u8.CopyTo(elf.AsSpan(1));
        elf[4] = 2; // ELFCLASS64
        elf[5] = 1; // little-endian
        elf[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x10), 1); // ET_REL
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x12), 243); // EM_RISCV
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x28), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x34), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3A), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3C), 4);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3E), 3);
        info.CopyTo(elf, infoOffset);
        names.CopyTo(elf, namesOffset);
        Section(elf, shoff, 1, nameOffset: 1, type: 8 /* NOBITS */, offset: 0, size: 16);
        Section(elf, shoff, 2, nameOffset: 7, type: 1 /* PROGBITS */, offset: infoOffset, size: info.Length);
        Section(elf, shoff, 3, nameOffset: 16, type: 3 /* STRTAB */, offset: namesOffset, size: names.Length);
        return elf;
    }

    private static void Section(byte[] elf, int shoff, int index, int nameOffset, uint type, int offset, int size)
    {
        Span<byte> header = elf.AsSpan(shoff + (index * 64), 64);
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)nameOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x18..], (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x20..], (ulong)size);
    }
}
