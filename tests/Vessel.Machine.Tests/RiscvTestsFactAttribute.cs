namespace Vessel.Machine.Tests;

/// <summary>A <see cref="FactAttribute"/> that is skipped when the shared riscv-tests folder is not present.</summary>
public sealed class RiscvTestsFactAttribute : FactAttribute
{
    public RiscvTestsFactAttribute()
    {
        if (RiscvTestsFolder.FolderPath is null)
        {
            Skip = "../shared/riscv-tests (next to the repository root) is not present";
        }
    }
}
