using Vessel.Machine.Conformance;
using Vessel.RiscV;

namespace Vessel.Machine.Tests;

/// <summary>Runs every ELF in ../shared/riscv-tests on the hart: each must report PASS through tohost.</summary>
public sealed class ConformanceSuiteTests
{
    /// <summary>The suite on the interpreter, the reference engine.</summary>
    [RiscvTestsFact]
    public void EveryConformanceTestPasses()
    {
        var files = RiscvTestRunner.ExpandPaths([RiscvTestsFolder.FolderPath!], out var missing);
        Assert.Empty(missing);
        Assert.True(files.Count >= 300, $"expected the full suite, found {files.Count} ELF files");

        var runner = new RiscvTestRunner { Engine = CpuEngine.Interpreter };
        var failures = files
            .AsParallel()
            .Select(runner.Run)
            .Where(r => !r.Passed)
            .Select(r => $"{r.Name}: {r.Error ?? $"test {r.FailedTestNumber}"}")
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Count} failed:\n{string.Join('\n', failures)}");
    }

    /// <summary>The suite again on the JIT, every block compiled on first sight so nothing runs only interpreted.</summary>
    [RiscvTestsFact]
    public void EveryConformanceTestPassesUnderTheJit()
    {
        var files = RiscvTestRunner.ExpandPaths([RiscvTestsFolder.FolderPath!], out _);
        var runner = new RiscvTestRunner { Engine = CpuEngine.Jit, JitHotThreshold = 0 };
        var failures = files
            .AsParallel()
            .Select(runner.Run)
            .Where(r => !r.Passed)
            .Select(r => $"{r.Name}: {r.Error ?? $"test {r.FailedTestNumber}"}")
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        Assert.True(files.Count >= 300, $"expected the full suite, found {files.Count} ELF files");
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Count} failed under the JIT:\n{string.Join('\n', failures)}");
    }

    [Fact]
    public void MissingPathsAreReported()
    {
        var files = RiscvTestRunner.ExpandPaths(["/nonexistent/vessel-test"], out var missing);
        Assert.Empty(files);
        Assert.Equal(["/nonexistent/vessel-test"], missing);
    }

    [Fact]
    public void ANonElfFileFailsWithAClearMessage()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not an ELF");
            var result = new RiscvTestRunner().Run(path);
            Assert.False(result.Passed);
            Assert.Contains("ELF", result.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [RiscvTestsFact]
    public void ATestThatNeverReportsFailsAtTheInstructionLimit()
    {
        var result = new RiscvTestRunner { InstructionLimit = 50 }.Run(RiscvTestsFolder.PathOf("rv64ui-p-add"));
        Assert.False(result.Passed);
        Assert.Contains("no result after 50 instructions", result.Error);
    }
}
