namespace Vessel.Images.Tests;

/// <summary>Runs /init's kernel-parameter parser in the host's POSIX sh (busybox ash accepts the same syntax).</summary>
public sealed class GuestInitScriptTests
{
    private static (int ExitCode, string Output) Param(string cmdline, string name)
    {
        string script = GuestInitScript.ParameterFunction + "\ncmdline=\"$1\"\nvessel_param \"$2\"\n";
        return HostTools.Run("sh", ["-c", script, "sh", cmdline, name]);
    }

    [RequiresToolFact("sh")]
    public void SingleQuotedValue()
    {
        var (code, output) = Param("console=ttyS0 vessel.init='uname -a' vessel.poweroff=1", "vessel.init");
        Assert.Equal(0, code);
        Assert.Equal("uname -a\n", output);
    }

    [RequiresToolFact("sh")]
    public void DoubleQuotedValue() =>
        Assert.Equal("echo a; echo b\n", Param("vessel.init=\"echo a; echo b\" quiet", "vessel.init").Output);

    [RequiresToolFact("sh")]
    public void UnquotedValue_FirstAndLastPositions()
    {
        Assert.Equal("1\n", Param("vessel.poweroff=1 console=ttyS0", "vessel.poweroff").Output);
        Assert.Equal("1\n", Param("console=ttyS0 vessel.poweroff=1", "vessel.poweroff").Output);
    }

    [RequiresToolFact("sh")]
    public void AbsentOrOnlyASuffixMatch_Fails()
    {
        Assert.Equal(1, Param("console=ttyS0", "vessel.init").ExitCode);
        Assert.Equal(1, Param("xvessel.init=nope", "vessel.init").ExitCode);
    }

    [RequiresToolFact("sh")]
    public void WholeInitScript_IsValidShellSyntax()
    {
        var (code, output) = HostTools.Run("sh", ["-n", "-c", GuestInitScript.BuildInit()]);
        Assert.True(code == 0, output);
        (code, output) = HostTools.Run("sh", ["-n", "-c", GuestInitScript.DhcpScript]);
        Assert.True(code == 0, output);
    }
}
