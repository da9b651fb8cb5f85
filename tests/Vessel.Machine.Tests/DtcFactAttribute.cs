namespace Vessel.Machine.Tests;

/// <summary>
/// A fact that needs the devicetree compiler (Debian's device-tree-compiler). Skipped on a developer machine
/// without it; under CI (CI=true), where .ci/run installs it, it always runs so a missing install fails loudly.
/// </summary>
public sealed class DtcFactAttribute : FactAttribute
{
    public DtcFactAttribute()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "dtc")));
        if (!found && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "dtc (device-tree-compiler) is not installed";
        }
    }
}
