
namespace Vessel.Images;

/// <summary>
/// The guest agent executable (static riscv64 Linux, <c>GuestAgent/vessel-agent.c</c>) embedded in this assembly;
/// the initramfs installs it as <c>/sbin/vessel-agent</c> and /init starts it when the VM has <c>/dev/hvc0</c>.
/// </summary>
public static class GuestAgentBinary
{
    public const string ResourceName = "vessel-agent";

    /// <summary>Where the guest's /init runs it from.</summary>
    public const string GuestPath = "/sbin/vessel-agent";

    public static byte[] Load()
    {
        using var stream = typeof(GuestAgentBinary).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new GuestKitException($"the {ResourceName} resource is missing from {typeof(GuestAgentBinary).Assembly.GetName().Name}; rebuild Vessel");
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
