using System.Text;

namespace Vessel.Images.Tests;

public sealed class GuestAgentInitramfsTests
{
    [Fact]
    public void InitramfsInstallsTheEmbeddedAgentAndInitStartsItOnHvc0()
    {
        byte[] agent = GuestAgentBinary.Load();
        Assert.Equal("\x7F" + "ELF", Encoding.ASCII.GetString(agent, 0, 4));
        Assert.Equal(243, BitConverter.ToUInt16(agent, 18)); // e_machine EM_RISCV

        var builder = new InitramfsBuilder { Busybox = [1, 2, 3], KernelVersion = "6.12.117+deb13-riscv64" };
        using var output = new MemoryStream();
        builder.WriteCompressed(output);
        var byName = NewcTestReader.ReadGzip(output.ToArray()).ToDictionary(e => e.Name);

        Assert.Equal(agent, byName["sbin/vessel-agent"].Data);
        Assert.Equal(0x1EDu, byName["sbin/vessel-agent"].Permissions);
        string init = byName["init"].Text;
        Assert.Contains("[ \"$agent\" = 1 ] && [ -c /dev/hvc0 ] && [ -x /sbin/vessel-agent ]", init, StringComparison.Ordinal);
        Assert.Contains("::respawn:/sbin/vessel-agent /dev/hvc0", init, StringComparison.Ordinal);
        Assert.True(init.IndexOf("vessel-agent", StringComparison.Ordinal) < init.IndexOf("exec /bin/busybox init", StringComparison.Ordinal));
    }
}
