using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class QemuMonitorReplyTests
{
    // What QEMU 7.2's monitor really sent for "savevm s1" (readline redraws the line on every keystroke).
    private const string SavevmEcho =
        "s\u001b[K\u001b[Dsa\u001b[K\u001b[D\u001b[Dsav\u001b[K\u001b[D\u001b[D\u001b[Dsave\u001b[K\u001b[D\u001b[D\u001b[D\u001b[Dsavevm s1\u001b[K\r\n";

    [Fact]
    public void SilentSavevmIsSuccess()
    {
        string reply = SavevmEcho + "(qemu) ";
        Assert.True(QemuMonitorReply.IsComplete(reply));
        Assert.Equal(string.Empty, QemuMonitorReply.Output(reply));
        Assert.Null(QemuMonitorReply.Error(reply));
    }

    [Fact]
    public void OutputLinesAreTheErrorWithoutEscapesOrCarriageReturns()
    {
        string reply = "loadvm nope\u001b[K\r\nError: Snapshot 'nope' does not exist in one or more devices\r\n(qemu) ";
        Assert.Equal("Error: Snapshot 'nope' does not exist in one or more devices", QemuMonitorReply.Error(reply));
    }

    [Fact]
    public void MultiLineOutputKeepsItsLines()
    {
        string reply = "info snapshots\r\nList of snapshots present on all disks:\r\nID  TAG\r\n--  s1\r\n(qemu) ";
        Assert.Equal("List of snapshots present on all disks:\nID  TAG\n--  s1", QemuMonitorReply.Output(reply));
    }

    [Fact]
    public void ReplyWithoutPromptIsIncomplete()
    {
        string partial = SavevmEcho + "(qemu";
        Assert.False(QemuMonitorReply.IsComplete(partial));
        Assert.Throws<FormatException>(() => QemuMonitorReply.Output(partial));
    }

    [Fact]
    public void BannerIsCompleteOnItsPrompt() =>
        Assert.True(QemuMonitorReply.IsComplete("QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) "));

    [Theory]
    [InlineData("")]
    [InlineData("savevm a\nquit")]
    [InlineData("savevm a\r")]
    [InlineData("savevm \u0003")]
    public void CommandsThatAreNotOneLineAreRefused(string command) =>
        Assert.Throws<ArgumentException>(() => QemuMonitorReply.Encode(command));

    [Fact]
    public void CommandIsSentAsOneLine() =>
        Assert.Equal("savevm bench\n"u8.ToArray(), QemuMonitorReply.Encode("savevm bench"));
}
