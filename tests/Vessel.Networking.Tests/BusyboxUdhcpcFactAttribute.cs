namespace Vessel.Networking.Tests;

/// <summary>Runs only where a TAP device can be made and the guest kit's busybox can run under qemu-user.</summary>
public sealed class BusyboxUdhcpcFactAttribute : FactAttribute
{
    public BusyboxUdhcpcFactAttribute()
    {
        Skip = new RootWithTunFactAttribute().Skip;
        if (Skip == null && (BusyboxDhcpTests.FindBusyboxDeb() == null || BusyboxDhcpTests.FindQemuUser() == null))
        {
            Skip = "needs qemu-riscv64 and the guest kit's busybox-static package (./vessel images pull)";
        }
    }
}
