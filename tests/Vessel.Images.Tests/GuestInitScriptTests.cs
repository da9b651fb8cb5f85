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

    /// <summary>Runs vessel_identity against a scratch directory standing in for /etc, seeded with the kit's hostname.</summary>
    private static (string Hostname, string? MachineId) Identity(string cmdline)
    {
        string etc = Path.Combine(Path.GetTempPath(), "vessel-etc-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(etc);
        try
        {
            File.WriteAllText(Path.Combine(etc, "hostname"), "vessel\n");
            string script = GuestInitScript.ParameterFunction + "\n" + GuestInitScript.IdentityFunction + "\ncmdline=\"$1\"\nvessel_identity \"$2\"\n";
            var (code, output) = HostTools.Run("sh", ["-c", script, "sh", cmdline, etc]);
            Assert.True(code == 0, output);
            string machineId = Path.Combine(etc, "machine-id");
            return (File.ReadAllText(Path.Combine(etc, "hostname")), File.Exists(machineId) ? File.ReadAllText(machineId) : null);
        }
        finally
        {
            Directory.Delete(etc, recursive: true);
        }
    }

    [RequiresToolFact("sh")]
    public void Identity_FromCommandLine()
    {
        var (hostname, machineId) = Identity("console=ttyS0 vessel.hostname=web-2 vessel.machine_id=0123456789abcdef0123456789abcdef");
        Assert.Equal("web-2\n", hostname);
        Assert.Equal("0123456789abcdef0123456789abcdef\n", machineId);
    }

    [RequiresToolFact("sh")]
    public void Identity_AbsentKeepsTheKitDefault() =>
        Assert.Equal(("vessel\n", (string?)null), Identity("console=ttyS0 vessel.agent=1"));

    [RequiresToolFact("sh")]
    public void Identity_InvalidValuesAreIgnored()
    {
        Assert.Equal(("vessel\n", (string?)null), Identity("vessel.hostname=-bad vessel.machine_id=0123"));
        Assert.Equal(("vessel\n", (string?)null), Identity("vessel.hostname=a_b vessel.machine_id=0123456789ABCDEF0123456789ABCDEF"));
        Assert.Equal(("vessel\n", (string?)null), Identity("vessel.hostname=" + new string('a', 64)));
    }
}
