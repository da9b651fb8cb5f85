namespace Vessel.RiscV.Tests;

public sealed class CpuEngineSelectionTests
{
    [Theory]
    [InlineData("jit", CpuEngine.Jit)]
    [InlineData(" JIT ", CpuEngine.Jit)]
    [InlineData("interp", CpuEngine.Interpreter)]
    [InlineData("Interpreter", CpuEngine.Interpreter)]
    public void EnvironmentValueNamesTheEngine(string value, CpuEngine expected)
    {
        Assert.Equal(expected, CpuEngineSelection.Choose(value));
        Assert.Null(CpuEngineSelection.Problem(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void UnsetEnvironmentGivesTheBuiltInDefaultWithoutComplaint(string? value)
    {
        Assert.Equal(CpuEngineSelection.BuiltInDefault, CpuEngineSelection.Choose(value));
        Assert.Null(CpuEngineSelection.Problem(value));
    }

    [Fact]
    public void MisspelledEngineIsReportedByVariableAndValue()
    {
        Assert.Equal(CpuEngineSelection.BuiltInDefault, CpuEngineSelection.Choose("jti"));
        string? problem = CpuEngineSelection.Problem("jti");
        Assert.NotNull(problem);
        Assert.Contains("VESSEL_CPU_ENGINE=jti", problem);
    }

    /// <summary>A bare hart is the reference interpreter whatever the default; machines choose through their configuration.</summary>
    [Fact]
    public void BareHartsInterpret()
    {
        using var machine = new TestMachine();
        Assert.Equal(CpuEngine.Interpreter, machine.Hart.Engine);
    }

    [Fact]
    public void TheBuiltInDefaultIsTheJit() => Assert.Equal(CpuEngine.Jit, CpuEngineSelection.Choose(null));
}
