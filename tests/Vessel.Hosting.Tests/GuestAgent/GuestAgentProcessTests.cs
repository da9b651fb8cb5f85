using System.Text;
using Vessel.Hosting.GuestAgent;

namespace Vessel.Hosting.Tests.GuestAgent;

/// <summary>The C agent and the C# client against each other: the real riscv64 binary under qemu-user on pipes.</summary>
public sealed class GuestAgentProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static GuestExecRequest Exec(string[] argv, string stdin = "", double seconds = 30) =>
        new(argv, Encoding.UTF8.GetBytes(stdin), TimeSpan.FromSeconds(seconds));

    [QemuUserFact]
    public async Task PingReportsProtocolVersion()
    {
        using var agent = new AgentUnderQemu();
        Assert.StartsWith("vessel-agent 1 ", await agent.Client.PingAsync(Timeout, CancellationToken.None), StringComparison.Ordinal);
    }

    [QemuUserFact]
    public async Task ExecReturnsStdoutStderrAndExitStatus()
    {
        using var agent = new AgentUnderQemu();
        var result = await agent.Client.ExecAsync(Exec(["sh", "-c", "echo out; echo err >&2; exit 3"]), CancellationToken.None);
        Assert.Equal(3, result.ExitCode);
        Assert.Null(result.Signal);
        Assert.Equal("out\n", Encoding.UTF8.GetString(result.Stdout));
        Assert.Equal("err\n", Encoding.UTF8.GetString(result.Stderr));
        Assert.False(result.TimedOut || result.StdoutTruncated || result.StderrTruncated);
    }

    [QemuUserFact]
    public async Task StdinReachesTheCommand()
    {
        using var agent = new AgentUnderQemu();
        string input = string.Concat(Enumerable.Repeat("abc\n", 50000)); // 200 KB, more than a pipe holds
        var result = await agent.Client.ExecAsync(Exec(["wc", "-l"], input), CancellationToken.None);
        Assert.Equal("50000", Encoding.UTF8.GetString(result.Stdout).Trim());
    }

    [QemuUserFact]
    public async Task HugeOutputIsTruncatedAtOneMebibyteWithTheFlag()
    {
        using var agent = new AgentUnderQemu();
        var result = await agent.Client.ExecAsync(Exec(["sh", "-c", "head -c 5000000 /dev/zero; echo tail >&2"]), CancellationToken.None);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(1 << 20, result.Stdout.Length);
        Assert.True(result.StdoutTruncated);
        Assert.False(result.StderrTruncated);
        Assert.Equal("tail\n", Encoding.UTF8.GetString(result.Stderr));
    }

    [QemuUserFact]
    public async Task TimeoutKillsTheCommandAndItsChildren()
    {
        using var agent = new AgentUnderQemu();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await agent.Client.ExecAsync(Exec(["sh", "-c", "sleep 30 & sleep 30"], seconds: 2), CancellationToken.None);
        Assert.True(result.TimedOut);
        Assert.Equal(9, result.Signal);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 15);
    }

    [QemuUserFact]
    public async Task MissingCommandIsStatus127WithAMessage()
    {
        using var agent = new AgentUnderQemu();
        var result = await agent.Client.ExecAsync(Exec(["no-such-command-vessel"]), CancellationToken.None);
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("no-such-command-vessel", Encoding.UTF8.GetString(result.Stderr), StringComparison.Ordinal);
    }

    [QemuUserFact]
    public async Task AgentSurvivesGarbageAndBadFramesThenStillServes()
    {
        using var agent = new AgentUnderQemu();
        byte[] garbage = new byte[300000];
        new Random(7).NextBytes(garbage);
        await agent.SendAsync(garbage, CancellationToken.None);
        await agent.SendAsync("VAGVAGVAG\x01\x03"u8.ToArray(), CancellationToken.None);

        // A well-formed frame of an unknown type and an exec whose argv runs past its payload.
        await agent.SendAsync(new AgentFrame((AgentMessageType)77, 1000, []).Encode(), CancellationToken.None);
        await agent.SendAsync(new AgentFrame(AgentMessageType.Exec, 1001, [0, 0, 0, 0, 1, 0, 0, 0, 255, 255, 0, 0]).Encode(), CancellationToken.None);
        var result = await agent.Client.ExecAsync(Exec(["echo", "alive"]), CancellationToken.None);
        Assert.Equal("alive\n", Encoding.UTF8.GetString(result.Stdout));
    }

    [Fact]
    public async Task AgentThatNeverAnswersIsReportedWithinTheTimeout()
    {
        // A client whose bytes go nowhere: the ping loop must give up at the deadline with a clear message.
        var client = new GuestAgentClient((_, _) => Task.CompletedTask);
        var e = await Assert.ThrowsAsync<GuestAgentException>(() => client.ExecAsync(Exec(["true"], seconds: 2), CancellationToken.None));
        Assert.True(e.NotAnswering);
        Assert.Contains("did not answer within 2 s", e.Message, StringComparison.Ordinal);
    }
}
