using System.Buffers.Binary;
using System.Globalization;
using Vessel.Machine.Loading;

namespace Vessel.Machine.Tests;

public sealed class ElfImageTests
{
    private const string DisplayName = "test.elf";

    // Values from `riscv64-linux-gnu-readelf -h -l` of rv64ui-p-add.
    private const ulong RiscvTestEntry = 0x8000_0000;
    private const int AddTextFileOffset = 0x1000;
    private const int AddTextSize = 0x6BC;
    private const ulong AddTohostSectionAddress = 0x8000_1000;
    private const int AddTohostSectionSize = 0x48;

    [Fact]
    public void Parse_MinimalExecutable_ReadsEntryAndOnlyLoadSegments()
    {
        var image = ElfImage.Parse(MinimalElf.Build(), DisplayName);

        Assert.Equal(MinimalElf.Entry, image.Entry);
        Assert.Equal(2, image.LoadSegments.Count);

        var text = image.LoadSegments[0];
        Assert.Equal(MinimalElf.TextPhysicalAddress, text.PhysicalAddress);
        Assert.Equal(MinimalElf.TextVirtualAddress, text.VirtualAddress);
        Assert.Equal(MinimalElf.TextBytes, text.FileBytes.ToArray());
        Assert.Equal((ulong)MinimalElf.TextSize, text.MemorySize);

        var data = image.LoadSegments[1];
        Assert.Equal(MinimalElf.DataPhysicalAddress, data.PhysicalAddress);
        Assert.Equal(MinimalElf.DataVirtualAddress, data.VirtualAddress);
        Assert.Equal(MinimalElf.DataBytes, data.FileBytes.ToArray());
        Assert.Equal(MinimalElf.DataMemorySize, data.MemorySize);
    }

    [Fact]
    public void Parse_SegmentBytes_AreACopyOfTheInput()
    {
        var file = MinimalElf.Build();
        var image = ElfImage.Parse(file, DisplayName);

        file.AsSpan(MinimalElf.TextOffset, MinimalElf.TextSize).Clear();

        Assert.Equal(MinimalElf.TextBytes, image.LoadSegments[0].FileBytes.ToArray());
    }

    [Fact]
    public void Parse_SharedObjectType_IsAccepted()
    {
        var file = Mutated(file => MinimalElf.Write16(file, 16, 3)); // ET_DYN

        Assert.Equal(MinimalElf.Entry, ElfImage.Parse(file, DisplayName).Entry);
    }

    [Fact]
    public void TryGetSymbol_DefinedSymbols_AreFoundAndGlobalWinsOverLocal()
    {
        var image = ElfImage.Parse(MinimalElf.Build(), DisplayName);

        Assert.True(image.TryGetSymbol("tohost", out var tohost));
        Assert.Equal(MinimalElf.GlobalTohostValue, tohost);
        Assert.True(image.TryGetSymbol("_start", out var start));
        Assert.Equal(MinimalElf.Entry, start);
        Assert.True(image.TryGetSymbol("local_only", out var localOnly));
        Assert.Equal(MinimalElf.LocalOnlyValue, localOnly);
    }

    [Theory]
    [InlineData("extern_sym")] // undefined (st_shndx = SHN_UNDEF)
    [InlineData("missing")]
    [InlineData("")]
    [InlineData("tohos")]
    public void TryGetSymbol_UndefinedOrUnknownName_ReturnsFalse(string name)
    {
        var image = ElfImage.Parse(MinimalElf.Build(), DisplayName);

        Assert.False(image.TryGetSymbol(name, out var value));
        Assert.Equal(0ul, value);
    }

    [Fact]
    public void Parse_WithoutSectionHeaders_LoadsButHasNoSymbols()
    {
        var file = Mutated(file => MinimalElf.Write64(file, 40, 0)); // e_shoff = 0

        var image = ElfImage.Parse(file, DisplayName);

        Assert.Equal(2, image.LoadSegments.Count);
        Assert.False(image.TryGetSymbol("tohost", out _));
    }

    [Fact]
    public void Parse_ExtendedSectionCount_ReadsTheCountFromSectionZero()
    {
        var file = Mutated(file =>
        {
            MinimalElf.Write16(file, 60, 0); // e_shnum = 0: the count is in section 0's sh_size
            MinimalElf.Write64(file, MinimalElf.SectionHeaderOffset(0) + 32, MinimalElf.SectionCount);
        });

        Assert.True(ElfImage.Parse(file, DisplayName).TryGetSymbol("_start", out _));
    }

    [Theory]
    [InlineData(0, "not an ELF file (bad magic number")]
    [InlineData(3, "not an ELF file (bad magic number")]
    [InlineData(4, "truncated ELF header (4 bytes")]
    [InlineData(15, "truncated ELF header (15 bytes")]
    [InlineData(16, "truncated ELF header (16 bytes; the ELF64 header is 64 bytes)")]
    [InlineData(63, "truncated ELF header (63 bytes; the ELF64 header is 64 bytes)")]
    [InlineData(100, "program header table (offset 0x40, 3 entries of 56 bytes) extends past the end of the file")]
    [InlineData(MinimalElf.TextOffset + 1, "segment 1's file data (offset 0x100, 0x10 bytes) extends past the end of the file")]
    [InlineData(MinimalElf.DataOffset + 4, "segment 2's file data (offset 0x110, 0x8 bytes) extends past the end of the file")]
    [InlineData(MinimalElf.SectionHeaderTableOffset + 100, "section header table (offset 0x280, 3 entries of 64 bytes)")]
    public void Parse_TruncatedFile_NamesWhatIsCutOff(int length, string expectedProblem)
    {
        AssertRejected(MinimalElf.Build().AsSpan(0, length).ToArray(), expectedProblem);
    }

    [Fact]
    public void Parse_BadMagic_IsNotAnElf()
    {
        AssertRejected(Mutated(file => file[1] = (byte)'e'), "not an ELF file (bad magic number");
    }

    [Theory]
    [InlineData(1, "not a 64-bit ELF file (ELFCLASS32; expected ELFCLASS64)")]
    [InlineData(0, "not a 64-bit ELF file (EI_CLASS 0; expected ELFCLASS64)")]
    public void Parse_WrongClass_IsNot64Bit(byte elfClass, string expectedProblem)
    {
        AssertRejected(Mutated(file => file[4] = elfClass), expectedProblem);
    }

    [Theory]
    [InlineData(2, "not a little-endian ELF file (ELFDATA2MSB, big-endian; expected ELFDATA2LSB)")]
    [InlineData(0, "not a little-endian ELF file (EI_DATA 0; expected ELFDATA2LSB)")]
    public void Parse_WrongDataEncoding_IsNotLittleEndian(byte dataEncoding, string expectedProblem)
    {
        AssertRejected(Mutated(file => file[5] = dataEncoding), expectedProblem);
    }

    [Fact]
    public void Parse_WrongIdentVersion_IsUnsupported()
    {
        AssertRejected(Mutated(file => file[6] = 0), "unsupported ELF version 0");
    }

    [Theory]
    [InlineData(62)] // EM_X86_64
    [InlineData(183)] // EM_AARCH64
    [InlineData(0)]
    public void Parse_OtherMachine_IsNotRiscV(ushort machine)
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 18, machine)),
            $"not a RISC-V ELF file (e_machine {machine}; expected 243, EM_RISCV)");
    }

    [Theory]
    [InlineData(1, "not an executable (ET_REL, a relocatable object; expected ET_EXEC or ET_DYN)")]
    [InlineData(4, "not an executable (ET_CORE, a core dump; expected ET_EXEC or ET_DYN)")]
    [InlineData(0, "not an executable (e_type 0; expected ET_EXEC or ET_DYN)")]
    [InlineData(0xFE00, "not an executable (e_type 65024; expected ET_EXEC or ET_DYN)")]
    public void Parse_NonExecutableType_IsRejected(ushort type, string expectedProblem)
    {
        AssertRejected(Mutated(file => MinimalElf.Write16(file, 16, type)), expectedProblem);
    }

    [Theory]
    [InlineData(0x1000ul)]
    [InlineData(0x340ul)] // exactly the file's length
    [InlineData(ulong.MaxValue)]
    [InlineData(ulong.MaxValue - 0x40)]
    public void Parse_ProgramHeaderTablePastTheEnd_IsRejected(ulong tableOffset)
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write64(file, 32, tableOffset)),
            $"program header table (offset 0x{tableOffset:X}, 3 entries of 56 bytes) extends past the end of the file (0x340 bytes)");
    }

    [Theory]
    [InlineData(0x4000)]
    [InlineData(0xFFFE)]
    public void Parse_HugeProgramHeaderCount_IsRejected(ushort count)
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 56, count)),
            $"program header table (offset 0x40, {count} entries of 56 bytes) extends past the end of the file");
    }

    [Fact]
    public void Parse_HugeProgramHeaderEntrySize_IsRejected()
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 54, 0xFFFF)),
            "program header table (offset 0x40, 3 entries of 65535 bytes) extends past the end of the file");
    }

    [Fact]
    public void Parse_ExtendedProgramHeaderCount_IsNotSupported()
    {
        AssertRejected(Mutated(file => MinimalElf.Write16(file, 56, 0xFFFF)), "PN_XNUM");
    }

    [Fact]
    public void Parse_NoProgramHeaders_IsRejected()
    {
        AssertRejected(Mutated(file => MinimalElf.Write16(file, 56, 0)), "has no program headers");
    }

    [Fact]
    public void Parse_SmallProgramHeaderEntrySize_IsRejected()
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 54, 32)),
            "program header entry size 32 is smaller than Elf64_Phdr (56 bytes)");
    }

    [Fact]
    public void Parse_NoLoadSegments_IsRejected()
    {
        var file = Mutated(file =>
        {
            MinimalElf.Write32(file, MinimalElf.ProgramHeaderOffset(MinimalElf.TextSegmentIndex), 4); // PT_NOTE
            MinimalElf.Write32(file, MinimalElf.ProgramHeaderOffset(MinimalElf.DataSegmentIndex), 6); // PT_PHDR
        });

        AssertRejected(file, "has no loadable (PT_LOAD) segments");
    }

    [Theory]
    [InlineData(0x340ul, 0x8ul)] // starts at the end of the file
    [InlineData(0x33Cul, 0x8ul)] // straddles the end
    [InlineData(ulong.MaxValue, 0x8ul)] // offset + size overflows
    [InlineData(0x110ul, ulong.MaxValue)] // size overflows
    [InlineData(0x8000_0000_0000_0000ul, 0x8000_0000_0000_0000ul)] // sum wraps to zero
    public void Parse_SegmentFileRangePastTheEnd_IsRejected(ulong fileOffset, ulong fileSize)
    {
        var file = Mutated(file =>
        {
            var header = MinimalElf.ProgramHeaderOffset(MinimalElf.DataSegmentIndex);
            MinimalElf.Write64(file, header + 8, fileOffset);
            MinimalElf.Write64(file, header + 32, fileSize);
            MinimalElf.Write64(file, header + 16, 0); // p_vaddr and p_paddr 0 so that memsz can be as large as filesz
            MinimalElf.Write64(file, header + 24, 0);
            MinimalElf.Write64(file, header + 40, ulong.MaxValue);
        });

        AssertRejected(
            file,
            $"segment 2's file data (offset 0x{fileOffset:X}, 0x{fileSize:X} bytes) extends past the end of the file (0x340 bytes)");
    }

    [Fact]
    public void Parse_FileSizeLargerThanMemorySize_IsRejected()
    {
        var file = Mutated(file => MinimalElf.Write64(file, MinimalElf.ProgramHeaderOffset(MinimalElf.DataSegmentIndex) + 40, 4));

        AssertRejected(file, "segment 2: file size 0x8 is larger than its memory size 0x4");
    }

    [Theory]
    [InlineData(16, "virtual")]
    [InlineData(24, "physical")]
    public void Parse_SegmentAddressRangeWrapping_IsRejected(int addressField, string kind)
    {
        var header = MinimalElf.ProgramHeaderOffset(MinimalElf.DataSegmentIndex);
        var file = Mutated(file => MinimalElf.Write64(file, header + addressField, 0xFFFF_FFFF_FFFF_FF80));

        AssertRejected(
            file,
            $"segment 2: {kind} address range 0xFFFFFFFFFFFFFF80 + 0x100 runs past the end of the 64-bit address space");
    }

    [Fact]
    public void Parse_SegmentEndingExactlyAtTheTopOfTheAddressSpace_IsAccepted()
    {
        var file = Mutated(file =>
            MinimalElf.Write64(file, MinimalElf.ProgramHeaderOffset(MinimalElf.DataSegmentIndex) + 24, 0xFFFF_FFFF_FFFF_FF00));

        Assert.Equal(0xFFFF_FFFF_FFFF_FF00, ElfImage.Parse(file, DisplayName).LoadSegments[1].PhysicalAddress);
    }

    [Theory]
    [InlineData(0x1000ul)]
    [InlineData(0x300ul)] // starts inside the file, ends outside
    [InlineData(ulong.MaxValue)]
    public void Parse_SectionHeaderTablePastTheEnd_IsRejected(ulong tableOffset)
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write64(file, 40, tableOffset)),
            $"section header table (offset 0x{tableOffset:X}, 3 entries of 64 bytes) extends past the end of the file");
    }

    [Fact]
    public void Parse_HugeSectionCount_IsRejected()
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 60, 0xFF00)),
            "section header table (offset 0x280, 65280 entries of 64 bytes) extends past the end of the file");
    }

    [Fact]
    public void Parse_HugeExtendedSectionCount_IsRejected()
    {
        var file = Mutated(file =>
        {
            MinimalElf.Write16(file, 60, 0);
            MinimalElf.Write64(file, MinimalElf.SectionHeaderOffset(0) + 32, ulong.MaxValue);
        });

        AssertRejected(file, $"section header table (offset 0x280, {ulong.MaxValue} entries of 64 bytes) extends past the end");
    }

    [Fact]
    public void Parse_SmallSectionHeaderEntrySize_IsRejected()
    {
        AssertRejected(
            Mutated(file => MinimalElf.Write16(file, 58, 40)),
            "section header entry size 40 is smaller than Elf64_Shdr (64 bytes)");
    }

    [Theory]
    [InlineData(24, 0x1000ul, "symbol table (offset 0x1000, 0x90 bytes) extends past the end of the file")]
    [InlineData(32, ulong.MaxValue, "symbol table (offset 0x180, 0xFFFFFFFFFFFFFFFF bytes) extends past the end")]
    [InlineData(56, 16ul, "symbol table entry size 16 is not the size of Elf64_Sym (24 bytes)")]
    [InlineData(56, 0ul, "symbol table entry size 0 is not the size of Elf64_Sym (24 bytes)")]
    [InlineData(40, 7ul, "symbol table's string table is section 7, but there are only 3 sections")]
    [InlineData(40, 0xFFFF_FFFFul, "symbol table's string table is section 4294967295, but there are only 3 sections")]
    [InlineData(40, 0ul, "symbol table's string table (section 0) has sh_type 0, not SHT_STRTAB")]
    [InlineData(40, 1ul, "symbol table's string table (section 1) has sh_type 2, not SHT_STRTAB")]
    public void Parse_BadSymbolTableHeader_IsRejected(int field, ulong value, string expectedProblem)
    {
        var header = MinimalElf.SectionHeaderOffset(MinimalElf.SymbolTableSectionIndex);
        var file = Mutated(file =>
        {
            if (field == 40)
            {
                MinimalElf.Write32(file, header + field, (uint)value); // sh_link is 32 bits
            }
            else
            {
                MinimalElf.Write64(file, header + field, value);
            }
        });

        AssertRejected(file, expectedProblem);
    }

    [Theory]
    [InlineData(24, 0x1000ul, "string table (offset 0x1000, 0x25 bytes) extends past the end of the file")]
    [InlineData(32, 0x1000ul, "string table (offset 0x120, 0x1000 bytes) extends past the end of the file")]
    [InlineData(24, ulong.MaxValue, "string table (offset 0xFFFFFFFFFFFFFFFF, 0x25 bytes) extends past the end of the file")]
    public void Parse_StringTablePastTheEnd_IsRejected(int field, ulong value, string expectedProblem)
    {
        var header = MinimalElf.SectionHeaderOffset(MinimalElf.StringTableSectionIndex);

        AssertRejected(Mutated(file => MinimalElf.Write64(file, header + field, value)), expectedProblem);
    }

    [Theory]
    [InlineData(0x25u)] // one past the last byte of the table
    [InlineData(0x1000u)]
    [InlineData(uint.MaxValue)]
    public void Parse_SymbolNameOffsetOutOfRange_IsRejected(uint nameOffset)
    {
        var file = Mutated(file => MinimalElf.Write32(file, MinimalElf.SymbolOffset(MinimalElf.LocalOnlySymbolIndex), nameOffset));

        AssertRejected(file, $"symbol 4: name offset 0x{nameOffset:X} is outside the string table (0x25 bytes)");
    }

    [Fact]
    public void Parse_SymbolNameWithoutTerminator_IsRejected()
    {
        // Shrink .strtab so that it ends in the middle of "local_only" (the names after it belong to undefined symbols).
        var file = Mutated(file => MinimalElf.Write64(
            file,
            MinimalElf.SectionHeaderOffset(MinimalElf.StringTableSectionIndex) + 32,
            (ulong)MinimalElf.LocalOnlyNameOffset + 3));

        AssertRejected(
            file,
            $"symbol 4: name at string table offset 0x{MinimalElf.LocalOnlyNameOffset:X} runs past the end of the table");
    }

    [Fact]
    public void Parse_RandomCorruption_OnlyEverThrowsElfFormatException()
    {
        // Overwrite random fields with random and extreme values; any outcome but ElfFormatException is a bug.
        var random = new Random(20240611);
        ulong[] extremes = [0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, long.MaxValue, ulong.MaxValue, ulong.MaxValue - 7];
        var original = MinimalElf.Build();
        for (var iteration = 0; iteration < 20_000; iteration++)
        {
            var file = (byte[])original.Clone();
            for (var writes = random.Next(1, 4); writes > 0; writes--)
            {
                var width = 1 << random.Next(4);
                var offset = random.Next(file.Length - width + 1);
                var value = random.Next(2) == 0 ? extremes[random.Next(extremes.Length)] : (ulong)random.NextInt64();
                var bytes = BitConverter.GetBytes(value);
                bytes.AsSpan(0, width).CopyTo(file.AsSpan(offset));
            }

            ParseAllowingOnlyElfFormatException(file);
        }
    }

    [Fact]
    public void Load_MissingFile_SaysNoSuchFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vessel-missing-{Guid.NewGuid():N}.elf");

        var exception = Assert.Throws<ElfFormatException>(() => ElfImage.Load(path));

        Assert.Equal($"{path}: no such file", exception.Message);
    }

    [Fact]
    public void Load_FileInMissingDirectory_SaysNoSuchFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vessel-missing-{Guid.NewGuid():N}", "kernel.elf");

        var exception = Assert.Throws<ElfFormatException>(() => ElfImage.Load(path));

        Assert.Equal($"{path}: no such file", exception.Message);
    }

    [Fact]
    public void Load_ExistingFile_ParsesItAndNamesItInErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vessel-{Guid.NewGuid():N}.elf");
        try
        {
            File.WriteAllBytes(path, MinimalElf.Build());
            Assert.Equal(MinimalElf.Entry, ElfImage.Load(path).Entry);

            File.WriteAllBytes(path, Mutated(file => MinimalElf.Write16(file, 18, 62)));
            var exception = Assert.Throws<ElfFormatException>(() => ElfImage.Load(path));
            Assert.StartsWith($"{path}: not a RISC-V ELF file", exception.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [RiscvTestsFact]
    public void Load_RiscvTestAdd_MatchesReadelf()
    {
        var path = RiscvTestsFolder.PathOf("rv64ui-p-add");
        var file = File.ReadAllBytes(path);

        var image = ElfImage.Load(path);

        Assert.Equal(RiscvTestEntry, image.Entry);
        Assert.Collection(
            image.LoadSegments,
            text =>
            {
                Assert.Equal(RiscvTestEntry, text.PhysicalAddress);
                Assert.Equal(RiscvTestEntry, text.VirtualAddress);
                Assert.Equal(file.AsSpan(AddTextFileOffset, AddTextSize).ToArray(), text.FileBytes.ToArray());
                Assert.Equal((ulong)AddTextSize, text.MemorySize);
            },
            tohostSection =>
            {
                Assert.Equal(AddTohostSectionAddress, tohostSection.PhysicalAddress);
                Assert.Equal(AddTohostSectionAddress, tohostSection.VirtualAddress);
                Assert.Equal(AddTohostSectionSize, tohostSection.FileBytes.Length);
                Assert.Equal((ulong)AddTohostSectionSize, tohostSection.MemorySize);
            });
        Assert.True(image.TryGetSymbol("_start", out var start));
        Assert.Equal(RiscvTestEntry, start);
    }

    [RiscvTestsFact]
    public void Load_RiscvTestAdd_TohostMatchesManifest()
    {
        var image = ElfImage.Load(RiscvTestsFolder.PathOf("rv64ui-p-add"));

        Assert.True(image.TryGetSymbol("tohost", out var tohost));
        Assert.Equal(ReadManifestTohostAddresses()["rv64ui-p-add"], tohost);
    }

    [RiscvTestsFact]
    public void Load_EveryRiscvTest_HasTheEntryAndTohostTheManifestSays()
    {
        var tohostByTest = ReadManifestTohostAddresses();
        Assert.NotEmpty(tohostByTest);

        foreach (var (name, expectedTohost) in tohostByTest)
        {
            var image = ElfImage.Load(RiscvTestsFolder.PathOf(name));

            Assert.Equal(RiscvTestEntry, image.Entry);
            Assert.NotEmpty(image.LoadSegments);
            Assert.All(image.LoadSegments, segment => Assert.True((ulong)segment.FileBytes.Length <= segment.MemorySize));
            Assert.True(image.TryGetSymbol("tohost", out var tohost), $"{name} has no tohost symbol");
            Assert.True(expectedTohost == tohost, $"{name}: tohost 0x{tohost:X}, manifest says 0x{expectedTohost:X}");
            Assert.True(image.TryGetSymbol("fromhost", out var fromhost), $"{name} has no fromhost symbol");
            Assert.Equal(tohost + 0x40, fromhost);
        }
    }

    [RiscvTestsFact]
    public void Parse_EveryTruncationOfARiscvTest_ThrowsElfFormatException()
    {
        var file = File.ReadAllBytes(RiscvTestsFolder.PathOf("rv64ui-p-add"));

        // The section header table is at the end of the file, so every proper prefix is missing something.
        for (var length = 0; length < file.Length; length++)
        {
            var truncated = file.AsSpan(0, length).ToArray();
            var exception = Record.Exception(() => ElfImage.Parse(truncated, "rv64ui-p-add"));
            Assert.True(exception is ElfFormatException, $"length {length}: {exception?.GetType().Name ?? "no exception"}");
        }
    }

    [RiscvTestsFact]
    public void Parse_RandomCorruptionOfARiscvTestHeaders_OnlyEverThrowsElfFormatException()
    {
        var original = File.ReadAllBytes(RiscvTestsFolder.PathOf("rv64ui-p-add"));
        var sectionHeaderTable = (int)BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(40));
        var random = new Random(42);
        for (var iteration = 0; iteration < 5_000; iteration++)
        {
            // Corrupt bytes in the ELF and program headers or in the section header table.
            var file = (byte[])original.Clone();
            for (var writes = random.Next(1, 5); writes > 0; writes--)
            {
                var offset = random.Next(2) == 0 ? random.Next(0x40 + 3 * 56) : random.Next(sectionHeaderTable, file.Length);
                file[offset] = (byte)random.Next(256);
            }

            ParseAllowingOnlyElfFormatException(file);
        }
    }

    private static byte[] Mutated(Action<byte[]> change)
    {
        var file = MinimalElf.Build();
        change(file);
        return file;
    }

    private static void AssertRejected(byte[] file, string expectedProblem)
    {
        var exception = Assert.Throws<ElfFormatException>(() => ElfImage.Parse(file, DisplayName));
        Assert.StartsWith($"{DisplayName}: ", exception.Message);
        Assert.Contains(expectedProblem, exception.Message);
    }

    private static void ParseAllowingOnlyElfFormatException(byte[] file)
    {
        try
        {
            ElfImage.Parse(file, DisplayName);
        }
        catch (ElfFormatException)
        {
        }
    }

    // manifest.txt lines: "<name> <result> [tohost=0x...]"; lines starting with '#' are comments.
    private static Dictionary<string, ulong> ReadManifestTohostAddresses()
    {
        var tohostByTest = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(RiscvTestsFolder.PathOf("manifest.txt")))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3 || fields[0].StartsWith('#') || !fields[2].StartsWith("tohost=0x", StringComparison.Ordinal))
            {
                continue;
            }

            var address = fields[2]["tohost=0x".Length..];
            tohostByTest[fields[0]] = ulong.Parse(address, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return tohostByTest;
    }
}
