namespace Vessel.Hosting.Tests.GuestAgent;

/// <summary>A fact that runs the riscv64 guest agent on the host through qemu-user; skipped when qemu-riscv64 is missing (.ci/setup installs it).</summary>
public sealed class QemuUserFactAttribute : FactAttribute
{
    public QemuUserFactAttribute()
    {
        if (AgentUnderQemu.QemuPath is null)
        {
            Skip = "qemu-riscv64 (Debian's qemu-user) is not installed";
        }
    }
}
