namespace Vessel.RiscV;

/// <summary>
/// Which <see cref="CpuEngine"/> a machine gets when nobody names one: the <c>VESSEL_CPU_ENGINE</c> environment
/// variable (<c>interp</c> or <c>jit</c>) when set, otherwise <see cref="BuiltInDefault"/>. Read where machines are
/// configured, so <c>vessel run</c>, the service's workers (which inherit the service's environment) and the benches
/// all honour it, and a whole test run can be switched to the other engine; <c>--cpu-engine</c> still overrides.
/// </summary>
public static class CpuEngineSelection
{
    public const string EnvironmentVariable = "VESSEL_CPU_ENGINE";

    /// <summary>The engine used when neither an option nor the environment names one.</summary>
    public const CpuEngine BuiltInDefault = CpuEngine.Jit;

    /// <summary>Parses an engine name: <c>interp</c> (or <c>interpreter</c>) or <c>jit</c>, any case.</summary>
    public static bool TryParse(string? text, out CpuEngine engine)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "interp" or "interpreter":
                engine = CpuEngine.Interpreter;
                return true;
            case "jit":
                engine = CpuEngine.Jit;
                return true;
            default:
                engine = BuiltInDefault;
                return false;
        }
    }

    /// <summary>The default engine: the environment's choice when it names a valid engine, else the built-in one.</summary>
    public static CpuEngine Default => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The engine an environment value selects: the named engine, or the built-in one when unset or invalid.</summary>
    public static CpuEngine Choose(string? environmentValue) => TryParse(environmentValue, out var engine) ? engine : BuiltInDefault;

    /// <summary>
    /// A message when <c>VESSEL_CPU_ENGINE</c> is set to something that is not an engine (null when unset, empty or
    /// valid), so a typo is reported instead of silently running the other engine.
    /// </summary>
    public static string? EnvironmentProblem() => Problem(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The message <see cref="EnvironmentProblem"/> gives for an environment value.</summary>
    public static string? Problem(string? environmentValue) =>
        string.IsNullOrWhiteSpace(environmentValue) || TryParse(environmentValue, out _)
            ? null
            : $"{EnvironmentVariable}={environmentValue}: not an engine (use interp or jit).";
}
