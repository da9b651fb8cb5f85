using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Text;

namespace Vessel.Machine.Loading;

/// <summary>
/// A RISC-V ELF64 little-endian executable: its entry point, its PT_LOAD segments and its symbol table
/// (System V gABI chapters "ELF Header", "Program Header", "Sections" and "Symbol Table"; EM_RISCV from the RISC-V psABI).
/// </summary>
/// <remarks>
/// Every offset, size and count read from the file is checked against the file's length before it is used,
/// so malformed or hostile input raises <see cref="ElfFormatException"/> and never an index or overflow exception.
/// Section headers are read only to find the symbol table; a file without one simply has no symbols.
/// </remarks>
public sealed class ElfImage
{
    // e_ident (gABI "ELF Identification").
    private const int IdentSize = 16;
    private const int IdentClass = 4;
    private const int IdentData = 5;
    private const int IdentVersion = 6;
    private const byte ElfClass32 = 1;
    private const byte ElfClass64 = 2;
    private const byte ElfDataLittleEndian = 1;
    private const byte ElfDataBigEndian = 2;
    private const byte ElfVersionCurrent = 1;

    // Elf64_Ehdr fields (gABI "ELF Header").
    private const int HeaderSize = 64;
    private const int TypeOffset = 16;
    private const int MachineOffset = 18;
    private const int EntryOffset = 24;
    private const int ProgramHeaderOffsetOffset = 32;
    private const int SectionHeaderOffsetOffset = 40;
    private const int ProgramHeaderEntrySizeOffset = 54;
    private const int ProgramHeaderCountOffset = 56;
    private const int SectionHeaderEntrySizeOffset = 58;
    private const int SectionHeaderCountOffset = 60;
    private const ushort TypeRelocatable = 1;
    private const ushort TypeExecutable = 2;
    private const ushort TypeSharedObject = 3;
    private const ushort TypeCore = 4;
    private const ushort MachineRiscV = 243;
    private const ushort ExtendedProgramHeaderCount = 0xFFFF; // PN_XNUM

    // Elf64_Phdr (gABI "Program Header").
    private const int ProgramHeaderSize = 56;
    private const uint ProgramTypeLoad = 1;

    // Elf64_Shdr (gABI "Sections").
    private const int SectionHeaderSize = 64;
    private const uint SectionTypeSymbolTable = 2;
    private const uint SectionTypeStringTable = 3;

    // Elf64_Sym (gABI "Symbol Table").
    private const int SymbolSize = 24;
    private const ushort SectionIndexUndefined = 0;
    private const int SymbolBindingLocal = 0;
    private const int SymbolTypeSection = 3;
    private const int SymbolTypeFile = 4;

    private static ReadOnlySpan<byte> Magic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    private readonly Dictionary<string, ulong> _symbols;

    private ElfImage(ulong entry, List<ElfSegment> loadSegments, Dictionary<string, ulong> symbols)
    {
        Entry = entry;
        LoadSegments = loadSegments.AsReadOnly();
        _symbols = symbols;
    }

    /// <summary>The entry point (e_entry).</summary>
    public ulong Entry { get; }

    /// <summary>The PT_LOAD segments, in program header order.</summary>
    public IReadOnlyList<ElfSegment> LoadSegments { get; }

    /// <summary>Parses an ELF executable held in memory; <paramref name="displayName"/> prefixes error messages.</summary>
    /// <exception cref="ElfFormatException">The bytes are not a well-formed RISC-V ELF64 little-endian executable.</exception>
    public static ElfImage Parse(ReadOnlySpan<byte> file, string displayName)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        var view = new FileView(file, displayName);
        CheckIdentification(view);

        var header = file[..HeaderSize];
        CheckTypeAndMachine(view, header);

        var entry = BinaryPrimitives.ReadUInt64LittleEndian(header[EntryOffset..]);
        var segments = ReadLoadSegments(view, header);
        var symbols = ReadSymbols(view, header);
        return new ElfImage(entry, segments, symbols);
    }

    /// <summary>Reads and parses the ELF executable at <paramref name="path"/>.</summary>
    /// <exception cref="ElfFormatException">The file is missing, unreadable or not a well-formed RISC-V ELF64 executable.</exception>
    public static ElfImage Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ElfFormatException($"{path}: no such file", exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new ElfFormatException($"{path}: cannot read the file ({exception.Message})", exception);
        }

        return Parse(file, path);
    }

    /// <summary>Looks up a defined symbol in the symbol table (.symtab with its linked .strtab).</summary>
    /// <remarks>If several symbols share a name, a global or weak one wins over a local one, else the first one.</remarks>
    public bool TryGetSymbol(string name, out ulong value)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _symbols.TryGetValue(name, out value);
    }

    // gABI "ELF Identification": magic, class, data encoding and version come first, before the header's size is known.
    private static void CheckIdentification(FileView view)
    {
        var file = view.Bytes;
        if (file.Length < Magic.Length || !file[..Magic.Length].SequenceEqual(Magic))
        {
            throw view.Error("not an ELF file (bad magic number; expected 7F 45 4C 46)");
        }

        if (file.Length < IdentSize)
        {
            throw view.Error($"truncated ELF header ({file.Length} bytes; the ELF64 header is {HeaderSize} bytes)");
        }

        var elfClass = file[IdentClass];
        if (elfClass != ElfClass64)
        {
            var found = elfClass == ElfClass32 ? "ELFCLASS32" : $"EI_CLASS {elfClass}";
            throw view.Error($"not a 64-bit ELF file ({found}; expected ELFCLASS64)");
        }

        var dataEncoding = file[IdentData];
        if (dataEncoding != ElfDataLittleEndian)
        {
            var found = dataEncoding == ElfDataBigEndian ? "ELFDATA2MSB, big-endian" : $"EI_DATA {dataEncoding}";
            throw view.Error($"not a little-endian ELF file ({found}; expected ELFDATA2LSB)");
        }

        if (file[IdentVersion] != ElfVersionCurrent)
        {
            throw view.Error($"unsupported ELF version {file[IdentVersion]} (expected {ElfVersionCurrent})");
        }

        if (file.Length < HeaderSize)
        {
            throw view.Error($"truncated ELF header ({file.Length} bytes; the ELF64 header is {HeaderSize} bytes)");
        }
    }

    private static void CheckTypeAndMachine(FileView view, ReadOnlySpan<byte> header)
    {
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(header[MachineOffset..]);
        if (machine != MachineRiscV)
        {
            throw view.Error($"not a RISC-V ELF file (e_machine {machine}; expected {MachineRiscV}, EM_RISCV)");
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(header[TypeOffset..]);
        if (type is not (TypeExecutable or TypeSharedObject))
        {
            var found = type switch
            {
                TypeRelocatable => "ET_REL, a relocatable object",
                TypeCore => "ET_CORE, a core dump",
                _ => $"e_type {type}",
            };
            throw view.Error($"not an executable ({found}; expected ET_EXEC or ET_DYN)");
        }
    }

    // gABI "Program Header": only PT_LOAD segments matter to a loader.
    private static List<ElfSegment> ReadLoadSegments(FileView view, ReadOnlySpan<byte> header)
    {
        var tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[ProgramHeaderOffsetOffset..]);
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header[ProgramHeaderEntrySizeOffset..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(header[ProgramHeaderCountOffset..]);
        if (count == ExtendedProgramHeaderCount)
        {
            throw view.Error("uses extended program header numbering (e_phnum = PN_XNUM), which is not supported");
        }

        if (count == 0)
        {
            throw view.Error("has no program headers, so nothing to load");
        }

        if (entrySize < ProgramHeaderSize)
        {
            throw view.Error($"program header entry size {entrySize} is smaller than Elf64_Phdr ({ProgramHeaderSize} bytes)");
        }

        var table = view.SliceTable(tableOffset, count, entrySize, "program header table");
        var segments = new List<ElfSegment>();
        for (var index = 0; index < count; index++)
        {
            var entry = table.Slice(index * entrySize, ProgramHeaderSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != ProgramTypeLoad)
            {
                continue;
            }

            var fileOffset = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
            var virtualAddress = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
            var physicalAddress = BinaryPrimitives.ReadUInt64LittleEndian(entry[24..]);
            var fileSize = BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            var memorySize = BinaryPrimitives.ReadUInt64LittleEndian(entry[40..]);

            if (fileSize > memorySize)
            {
                throw view.Error($"segment {index}: file size 0x{fileSize:X} is larger than its memory size 0x{memorySize:X}");
            }

            CheckAddressRange(view, index, "virtual", virtualAddress, memorySize);
            CheckAddressRange(view, index, "physical", physicalAddress, memorySize);
            var fileBytes = view.Slice(fileOffset, fileSize, $"segment {index}'s file data");
            segments.Add(new ElfSegment(physicalAddress, virtualAddress, fileBytes.ToArray(), memorySize));
        }

        if (segments.Count == 0)
        {
            throw view.Error("has no loadable (PT_LOAD) segments");
        }

        return segments;
    }

    private static void CheckAddressRange(FileView view, int index, string kind, ulong address, ulong size)
    {
        if (size != 0 && size - 1 > ulong.MaxValue - address)
        {
            throw view.Error(
                $"segment {index}: {kind} address range 0x{address:X} + 0x{size:X} runs past the end of the 64-bit address space");
        }
    }

    // gABI "Sections" and "Symbol Table": the SHT_SYMTAB section and the SHT_STRTAB section its sh_link names.
    private static Dictionary<string, ulong> ReadSymbols(FileView view, ReadOnlySpan<byte> header)
    {
        var sections = ReadSectionHeaderTable(view, header, out var entrySize, out var count);

        var symbolTableIndex = -1;
        for (var index = 0; index < count; index++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(sections[(index * entrySize + 4)..]) == SectionTypeSymbolTable)
            {
                symbolTableIndex = index;
                break;
            }
        }

        if (symbolTableIndex < 0)
        {
            return new Dictionary<string, ulong>(StringComparer.Ordinal);
        }

        var symbolTableHeader = sections.Slice(symbolTableIndex * entrySize, SectionHeaderSize);
        var symbolEntrySize = BinaryPrimitives.ReadUInt64LittleEndian(symbolTableHeader[56..]);
        if (symbolEntrySize != SymbolSize)
        {
            throw view.Error($"symbol table entry size {symbolEntrySize} is not the size of Elf64_Sym ({SymbolSize} bytes)");
        }

        var symbolTable = ReadSectionContents(view, symbolTableHeader, "symbol table");
        var stringTableIndex = BinaryPrimitives.ReadUInt32LittleEndian(symbolTableHeader[40..]);
        if (stringTableIndex >= (ulong)count)
        {
            throw view.Error($"symbol table's string table is section {stringTableIndex}, but there are only {count} sections");
        }

        var stringTableHeader = sections.Slice((int)stringTableIndex * entrySize, SectionHeaderSize);
        var stringTableType = BinaryPrimitives.ReadUInt32LittleEndian(stringTableHeader[4..]);
        if (stringTableType != SectionTypeStringTable)
        {
            throw view.Error(
                $"symbol table's string table (section {stringTableIndex}) has sh_type {stringTableType}, not SHT_STRTAB");
        }

        var stringTable = ReadSectionContents(view, stringTableHeader, "string table");
        var symbols = new Dictionary<string, (ulong Value, bool IsLocal)>(StringComparer.Ordinal);
        for (var offset = 0; offset + SymbolSize <= symbolTable.Length; offset += SymbolSize)
        {
            var symbol = symbolTable.Slice(offset, SymbolSize);
            var nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(symbol);
            var info = symbol[4];
            var sectionIndex = BinaryPrimitives.ReadUInt16LittleEndian(symbol[6..]);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(symbol[8..]);
            var type = info & 0xF;
            if (nameOffset == 0 || sectionIndex == SectionIndexUndefined || type is SymbolTypeSection or SymbolTypeFile)
            {
                continue;
            }

            var name = ReadString(view, stringTable, nameOffset, offset / SymbolSize);
            var isLocal = info >> 4 == SymbolBindingLocal;
            if (!symbols.TryGetValue(name, out var existing) || (existing.IsLocal && !isLocal))
            {
                symbols[name] = (value, isLocal);
            }
        }

        return symbols.ToDictionary(pair => pair.Key, pair => pair.Value.Value, StringComparer.Ordinal);
    }

    private static ReadOnlySpan<byte> ReadSectionHeaderTable(
        FileView view, ReadOnlySpan<byte> header, out int entrySize, out int count)
    {
        var tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[SectionHeaderOffsetOffset..]);
        entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header[SectionHeaderEntrySizeOffset..]);
        ulong declaredCount = BinaryPrimitives.ReadUInt16LittleEndian(header[SectionHeaderCountOffset..]);
        if (tableOffset == 0)
        {
            count = 0;
            return [];
        }

        if (entrySize < SectionHeaderSize)
        {
            throw view.Error($"section header entry size {entrySize} is smaller than Elf64_Shdr ({SectionHeaderSize} bytes)");
        }

        if (declaredCount == 0)
        {
            // gABI: e_shnum = 0 with e_shoff != 0 means the count is in section 0's sh_size.
            var sectionZero = view.Slice(tableOffset, SectionHeaderSize, "section header 0");
            declaredCount = BinaryPrimitives.ReadUInt64LittleEndian(sectionZero[32..]);
        }

        var table = view.SliceTable(tableOffset, declaredCount, entrySize, "section header table");
        count = (int)declaredCount;
        return table;
    }

    private static ReadOnlySpan<byte> ReadSectionContents(FileView view, ReadOnlySpan<byte> sectionHeader, string what)
    {
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(sectionHeader[24..]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(sectionHeader[32..]);
        return view.Slice(offset, size, what);
    }

    // gABI "String Table": a name is the NUL-terminated byte string at its offset.
    private static string ReadString(FileView view, ReadOnlySpan<byte> stringTable, uint offset, int symbolIndex)
    {
        if (offset >= (uint)stringTable.Length)
        {
            throw view.Error(
                $"symbol {symbolIndex}: name offset 0x{offset:X} is outside the string table (0x{stringTable.Length:X} bytes)");
        }

        var rest = stringTable[(int)offset..];
        var length = rest.IndexOf((byte)0);
        if (length < 0)
        {
            throw view.Error($"symbol {symbolIndex}: name at string table offset 0x{offset:X} runs past the end of the table");
        }

        return Encoding.UTF8.GetString(rest[..length]);
    }

    /// <summary>The file's bytes plus its display name, with range-checked slicing that reports errors against the file.</summary>
    private readonly ref struct FileView
    {
        private readonly string _displayName;

        public FileView(ReadOnlySpan<byte> bytes, string displayName)
        {
            Bytes = bytes;
            _displayName = displayName;
        }

        public ReadOnlySpan<byte> Bytes { get; }

        public ElfFormatException Error(string problem) => new($"{_displayName}: {problem}");

        public ReadOnlySpan<byte> Slice(ulong offset, ulong size, string what)
        {
            var length = (ulong)Bytes.Length;
            if (offset > length || size > length - offset)
            {
                throw Error(
                    $"{what} (offset 0x{offset:X}, 0x{size:X} bytes) extends past the end of the file (0x{length:X} bytes)");
            }

            return Bytes.Slice((int)offset, (int)size);
        }

        // A table of count entries of entrySize bytes each; the count is checked before multiplying so nothing overflows.
        public ReadOnlySpan<byte> SliceTable(ulong offset, ulong count, int entrySize, string what)
        {
            var length = (ulong)Bytes.Length;
            if (count > length / (ulong)entrySize || offset > length || count * (ulong)entrySize > length - offset)
            {
                throw Error(
                    $"{what} (offset 0x{offset:X}, {count} entries of {entrySize} bytes) "
                    + $"extends past the end of the file (0x{length:X} bytes)");
            }

            return Bytes.Slice((int)offset, (int)count * entrySize);
        }
    }
}
