using System.Diagnostics;
using System.Text;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Loading;
using Vessel.RiscV;

namespace Vessel.Machine.Conformance;

/// <summary>
/// Runs a bare-metal riscv-tests ELF: one hart in M-mode at the ELF entry, RAM at 0x8000_0000, and the HTIF
/// <c>tohost</c> protocol that the tests use to report (see shared/riscv-tests/README.md).
/// </summary>
public sealed class RiscvTestRunner
{
    public const ulong RamBase = 0x8000_0000;
    public const long DefaultInstructionLimit = 100_000_000;
    private const ulong MinimumRam = 4 << 20;
    private const long Slice = 2_000;

    public long InstructionLimit { get; init; } = DefaultInstructionLimit;

    /// <summary>The engine the hart runs the test on.</summary>
    public CpuEngine Engine { get; init; } = CpuEngineSelection.Default;

    /// <summary>With the JIT, how many interpreted runs make a block hot (0 compiles every block on first sight).</summary>
    public int JitHotThreshold { get; init; } = Hart.DefaultJitHotThreshold;

    /// <summary>Receives HTIF console output (the v tests print assertion messages this way).</summary>
    public TextWriter? Console { get; init; }

    public RiscvTestResult Run(string path)
    {
        ElfImage elf;
        try
        {
            elf = ElfImage.Load(path);
        }
        catch (ElfFormatException e)
        {
            return new RiscvTestResult(Path.GetFileName(path), false, 0, 0, TimeSpan.Zero, e.Message);
        }

        return Run(elf, Path.GetFileName(path));
    }

    public RiscvTestResult Run(ElfImage elf, string name)
    {
        var stopwatch = Stopwatch.StartNew();
        if (!elf.TryGetSymbol("tohost", out ulong tohost))
        {
            return new RiscvTestResult(name, false, 0, 0, stopwatch.Elapsed, "the ELF has no 'tohost' symbol, so it cannot report a result");
        }

        ulong end = RamBase + MinimumRam;
        foreach (var segment in elf.LoadSegments)
        {
            if (segment.PhysicalAddress < RamBase)
            {
                return new RiscvTestResult(name, false, 0, 0, stopwatch.Elapsed, $"segment at 0x{segment.PhysicalAddress:x} is below RAM (0x{RamBase:x})");
            }

            end = Math.Max(end, segment.PhysicalAddress + segment.MemorySize);
        }

        if (tohost < RamBase || tohost + 8 > end || end - RamBase > 1UL << 32)
        {
            return new RiscvTestResult(name, false, 0, 0, stopwatch.Elapsed, "the program does not fit the 4 GiB test RAM, or tohost lies outside it");
        }

        ulong ramSize = (end - RamBase + 0xFFFFF) & ~0xFFFFFUL;
        using var ram = new GuestMemory(RamBase, ramSize);
        foreach (var segment in elf.LoadSegments)
        {
            ram.Write(segment.PhysicalAddress, segment.FileBytes.Span);
        }

        var hart = new Hart(0, ram, NoDevicesBus.Instance, new MachineClock(deterministic: true))
        {
            Engine = Engine,
            JitHotThreshold = JitHotThreshold,
        };
        hart.Pc = elf.Entry;
        var console = new StringBuilder();
        while (hart.InstructionsRetired < (ulong)InstructionLimit)
        {
            HartRunResult state = hart.Run(Math.Min(Slice, InstructionLimit - (long)hart.InstructionsRetired));
            hart.Clock.Advance(Slice / 100);
            ulong value = ram.ReadUInt64(tohost);
            if (value != 0)
            {
                if ((value >> 48) == 0 && (value & 1) == 1)
                {
                    ulong code = value >> 1;
                    return new RiscvTestResult(name, code == 0, code, hart.InstructionsRetired, stopwatch.Elapsed, null);
                }

                if ((value >> 56) == 1 && ((value >> 48) & 0xFF) == 1)
                {
                    // HTIF console putchar: print it and acknowledge by clearing tohost.
                    console.Append((char)(byte)value);
                    Console?.Write((char)(byte)value);
                    ram.WriteUInt64(tohost, 0);
                    continue;
                }

                return new RiscvTestResult(name, false, 0, hart.InstructionsRetired, stopwatch.Elapsed, $"unknown HTIF command 0x{value:x16} in tohost");
            }

            if (hart.FatalTrap is { } fatal)
            {
                return new RiscvTestResult(name, false, 0, hart.InstructionsRetired, stopwatch.Elapsed, fatal);
            }

            if (state == HartRunResult.WaitingForInterrupt)
            {
                return new RiscvTestResult(name, false, 0, hart.InstructionsRetired, stopwatch.Elapsed,
                    $"the hart waits for an interrupt at pc 0x{hart.Pc:x}, and nothing can raise one");
            }
        }

        string tail = console.Length > 0 ? $"; console: {console.ToString().Trim()}" : string.Empty;
        return new RiscvTestResult(name, false, 0, hart.InstructionsRetired, stopwatch.Elapsed,
            $"no result after {InstructionLimit:N0} instructions (pc 0x{hart.Pc:x}){tail}");
    }

    /// <summary>Expands files and folders into the ELF files to run: a folder contributes every ELF file in it.</summary>
    public static IReadOnlyList<string> ExpandPaths(IEnumerable<string> paths, out IReadOnlyList<string> missing)
    {
        var files = new List<string>();
        var notFound = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path).Where(IsElfFile).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                notFound.Add(path);
            }
        }

        missing = notFound;
        return files;
    }

    private static bool IsElfFile(string path)
    {
        ReadOnlySpan<byte> elfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual(elfMagic);
    }
}
