using System.Buffers.Binary;
using System.Text;

namespace Vessel.Machine.Tests;

/// <summary>
/// Builds a small, valid RISC-V ELF64 executable whose field offsets are known, so tests can corrupt one field at a time.
/// </summary>
/// <remarks>
/// Layout: ELF header; three program headers (a non-load PT_RISCV_ATTRIBUTES, a text PT_LOAD and a data PT_LOAD with
/// .bss); the segment bytes; .strtab; .symtab; and a section header table of null, .symtab and .strtab.
/// </remarks>
internal static class MinimalElf
{
    public const ulong Entry = 0x8000_0000;

    public const int ProgramHeaderTableOffset = 0x40;
    public const int ProgramHeaderSize = 56;
    public const int ProgramHeaderCount = 3;
    public const int TextSegmentIndex = 1;
    public const int DataSegmentIndex = 2;

    public const int TextOffset = 0x100;
    public const int TextSize = 0x10;
    public const ulong TextVirtualAddress = 0x1_0000;
    public const ulong TextPhysicalAddress = 0x8000_0000;
    public const int DataOffset = 0x110;
    public const int DataSize = 0x8;
    public const ulong DataMemorySize = 0x100;
    public const ulong DataVirtualAddress = 0x1_1000;
    public const ulong DataPhysicalAddress = 0x8000_1000;

    public const int StringTableOffset = 0x120;
    public const int SymbolTableOffset = 0x180;
    public const int SymbolSize = 24;
    public const int SymbolCount = 6;

    public const int SectionHeaderTableOffset = 0x280;
    public const int SectionHeaderSize = 64;
    public const int SectionCount = 3;
    public const int SymbolTableSectionIndex = 1;
    public const int StringTableSectionIndex = 2;

    public const ulong GlobalTohostValue = 0x8000_1000;
    public const ulong LocalTohostValue = 0xDEAD;
    public const ulong LocalOnlyValue = 0x1234;
    public const int LocalOnlySymbolIndex = 4;

    public static readonly byte[] TextBytes = [0x13, 0x00, 0x00, 0x00, 0x6F, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8];
    public static readonly byte[] DataBytes = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7];

    private static readonly byte[] StringTable = Encoding.ASCII.GetBytes("\0tohost\0_start\0local_only\0extern_sym\0");

    public static int FileSize => SectionHeaderTableOffset + SectionCount * SectionHeaderSize;

    public static int StringTableSize => StringTable.Length;

    public static int LocalOnlyNameOffset => NameOffset("local_only");

    public static int ProgramHeaderOffset(int index) => ProgramHeaderTableOffset + index * ProgramHeaderSize;

    public static int SectionHeaderOffset(int index) => SectionHeaderTableOffset + index * SectionHeaderSize;

    public static int SymbolOffset(int index) => SymbolTableOffset + index * SymbolSize;

    public static byte[] Build()
    {
        var file = new byte[FileSize];
        var span = file.AsSpan();

        // Elf64_Ehdr.
        byte[] ident = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1];
        ident.CopyTo(span);
        Write16(span, 16, 2); // e_type = ET_EXEC
        Write16(span, 18, 243); // e_machine = EM_RISCV
        Write32(span, 20, 1); // e_version
        Write64(span, 24, Entry);
        Write64(span, 32, ProgramHeaderTableOffset);
        Write64(span, 40, SectionHeaderTableOffset);
        Write16(span, 52, 64); // e_ehsize
        Write16(span, 54, ProgramHeaderSize);
        Write16(span, 56, ProgramHeaderCount);
        Write16(span, 58, SectionHeaderSize);
        Write16(span, 60, SectionCount);
        Write16(span, 62, 0); // e_shstrndx: no section names

        // Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz, memsz, align.
        WriteProgramHeader(span, 0, 0x7000_0003, TextOffset, 0, 0, 0, 0);
        WriteProgramHeader(span, TextSegmentIndex, 1, TextOffset, TextVirtualAddress, TextPhysicalAddress, TextSize, TextSize);
        WriteProgramHeader(span, DataSegmentIndex, 1, DataOffset, DataVirtualAddress, DataPhysicalAddress, DataSize, DataMemorySize);
        TextBytes.CopyTo(span[TextOffset..]);
        DataBytes.CopyTo(span[DataOffset..]);

        // .strtab and .symtab: a local and a global "tohost" (the global must win), an undefined symbol.
        StringTable.CopyTo(span[StringTableOffset..]);
        WriteSymbol(span, 1, NameOffset("tohost"), info: 0x01, sectionIndex: 1, LocalTohostValue); // LOCAL OBJECT
        WriteSymbol(span, 2, NameOffset("tohost"), info: 0x11, sectionIndex: 1, GlobalTohostValue); // GLOBAL OBJECT
        WriteSymbol(span, 3, NameOffset("_start"), info: 0x12, sectionIndex: 1, Entry); // GLOBAL FUNC
        WriteSymbol(span, LocalOnlySymbolIndex, NameOffset("local_only"), info: 0x00, sectionIndex: 1, LocalOnlyValue);
        WriteSymbol(span, 5, NameOffset("extern_sym"), info: 0x10, sectionIndex: 0, 0); // GLOBAL, undefined

        // Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize.
        var symbolTable = span[SectionHeaderOffset(SymbolTableSectionIndex)..];
        Write32(symbolTable, 4, 2); // SHT_SYMTAB
        Write64(symbolTable, 24, SymbolTableOffset);
        Write64(symbolTable, 32, SymbolCount * SymbolSize);
        Write32(symbolTable, 40, StringTableSectionIndex);
        Write32(symbolTable, 44, 1); // sh_info: index of the first non-local symbol (loosely; loaders ignore it)
        Write64(symbolTable, 56, SymbolSize);
        var stringTable = span[SectionHeaderOffset(StringTableSectionIndex)..];
        Write32(stringTable, 4, 3); // SHT_STRTAB
        Write64(stringTable, 24, StringTableOffset);
        Write64(stringTable, 32, (ulong)StringTable.Length);
        return file;
    }

    public static void Write16(Span<byte> file, int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(file[offset..], value);

    public static void Write32(Span<byte> file, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(file[offset..], value);

    public static void Write64(Span<byte> file, int offset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(file[offset..], value);

    private static int NameOffset(string name) =>
        Encoding.ASCII.GetString(StringTable).IndexOf("\0" + name + "\0", StringComparison.Ordinal) + 1;

    private static void WriteProgramHeader(
        Span<byte> file,
        int index,
        uint type,
        ulong offset,
        ulong virtualAddress,
        ulong physicalAddress,
        ulong fileSize,
        ulong memorySize)
    {
        var header = file[ProgramHeaderOffset(index)..];
        Write32(header, 0, type);
        Write32(header, 4, 0b101); // PF_R | PF_X
        Write64(header, 8, offset);
        Write64(header, 16, virtualAddress);
        Write64(header, 24, physicalAddress);
        Write64(header, 32, fileSize);
        Write64(header, 40, memorySize);
        Write64(header, 48, 0x1000);
    }

    private static void WriteSymbol(Span<byte> file, int index, int nameOffset, byte info, ushort sectionIndex, ulong value)
    {
        var symbol = file[SymbolOffset(index)..];
        Write32(symbol, 0, (uint)nameOffset);
        symbol[4] = info;
        Write16(symbol, 6, sectionIndex);
        Write64(symbol, 8, value);
        Write64(symbol, 16, 8);
    }
}
