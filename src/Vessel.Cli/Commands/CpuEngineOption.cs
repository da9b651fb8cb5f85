using Vessel.RiscV;

namespace Vessel.Cli.Commands;

/// <summary>
/// The <c>--cpu-engine interp|jit</c> option shared by <c>run</c> and the benchmarks. Left out, the engine comes
/// from <see cref="CpuEngineSelection"/> (<c>VESSEL_CPU_ENGINE</c>, then the built-in default).
/// </summary>
public static class CpuEngineOption
{
    public const string Template = "--cpu-engine <ENGINE>";
    public const string Description = "How harts run guest code: interp (the interpreter) or jit (translate hot blocks to native code). Default: $VESSEL_CPU_ENGINE, else jit.";

    public static bool TryParse(string text, out CpuEngine engine) => CpuEngineSelection.TryParse(text, out engine);

    /// <summary>The engine an option value selects: the option when given, otherwise the default.</summary>
    public static CpuEngine Resolve(string? text) =>
        text is not null && TryParse(text, out var engine) ? engine : CpuEngineSelection.Default;

    /// <summary>A message when the option or, without it, <c>VESSEL_CPU_ENGINE</c> names no engine; null when fine.</summary>
    public static string? Problem(string? text) =>
        text is null ? CpuEngineSelection.EnvironmentProblem()
        : TryParse(text, out _) ? null
        : Error(text);

    public static string Error(string text) => $"--cpu-engine {text}: not an engine (use interp or jit).";

    public static string Name(CpuEngine engine) => engine == CpuEngine.Jit ? "jit" : "interpreter";
}
