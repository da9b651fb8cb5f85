using Vessel.RiscV;

namespace Vessel.Cli.Commands;

/// <summary>The <c>--cpu-engine interp|jit</c> option shared by <c>run</c> and the benchmarks.</summary>
public static class CpuEngineOption
{
    public const string Template = "--cpu-engine <ENGINE>";
    public const string Description = "How harts run guest code: interp (the interpreter, default) or jit (translate hot blocks to native code).";
    public const string Default = "interp";

    public static bool TryParse(string text, out CpuEngine engine)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "interp" or "interpreter":
                engine = CpuEngine.Interpreter;
                return true;
            case "jit":
                engine = CpuEngine.Jit;
                return true;
            default:
                engine = default;
                return false;
        }
    }

    public static string Error(string text) => $"--cpu-engine {text}: not an engine (use interp or jit).";

    public static string Name(CpuEngine engine) => engine == CpuEngine.Jit ? "jit" : "interpreter";
}
