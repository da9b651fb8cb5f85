using System.IO.Compression;

namespace Vessel.Images;

/// <summary>
/// Builds the guest initramfs: a gzip-compressed newc cpio (see <see cref="CpioArchiveWriter"/>) holding a static
/// busybox with its applet links, <c>/init</c> (<see cref="GuestInitScript"/>), a minimal <c>/etc</c>, the console and
/// null device nodes, and the chosen kernel modules (decompressed) under <c>/lib/modules/VERSION</c> with a
/// modules.dep for modprobe and <c>vessel.modules</c>, the load order /init follows, and the guest agent
/// (<see cref="GuestAgentBinary"/>) as <c>/sbin/vessel-agent</c>.
/// </summary>
public sealed class InitramfsBuilder
{
    /// <summary>Bumped whenever the layout or /init changes, so cached kits built by older code are rebuilt.</summary>
    public const int LayoutVersion = 5;

    /// <summary>
    /// Modules wanted by default: virtio over MMIO and its block, net, rng, console and balloon drivers, ext4 (and the
    /// crc32c it soft-depends on), 9p over virtio and vsock over virtio. Dependencies are added by
    /// <see cref="KernelModuleResolver"/>; built-in ones are skipped.
    /// </summary>
    public static IReadOnlyList<string> DefaultModules { get; } =
    [
        "virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net", "rng_core", "virtio_rng", "virtio_console",
        "virtio_balloon", "crc32c", "ext4", "netfs", "9pnet", "9pnet_virtio", "9p", "vsock", "vmw_vsock_virtio_transport_common",
        "vmw_vsock_virtio_transport",
    ];

    /// <summary>The static busybox executable (riscv64).</summary>
    public required byte[] Busybox { get; init; }

    /// <summary>The kernel release (<c>uname -r</c>), e.g. "6.12.117+deb13-riscv64".</summary>
    public required string KernelVersion { get; init; }

    /// <summary>Modules to include, in load order; null for none.</summary>
    public KernelModuleSelection? Modules { get; init; }

    /// <summary>The kernel's modules.builtin text, copied so modprobe knows what needs no file; null to leave it out.</summary>
    public string? ModulesBuiltin { get; init; }

    /// <summary>The static riscv64 guest agent installed as /sbin/vessel-agent (default: the one built into Vessel).</summary>
    public byte[] GuestAgent { get; init; } = GuestAgentBinary.Load();

    /// <summary>Host name the guest sets at boot.</summary>
    public string HostName { get; init; } = "vessel";

    /// <summary>Writes the gzip-compressed initramfs.</summary>
    public void WriteCompressed(Stream output)
    {
        using var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true);
        WriteCpio(gzip);
    }

    /// <summary>Writes the uncompressed cpio archive.</summary>
    public void WriteCpio(Stream output)
    {
        using var cpio = new CpioArchiveWriter(output, leaveOpen: true);
        foreach (string dir in new[] { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "mnt", "run", "var", "lib" })
        {
            cpio.AddDirectory(dir);
        }

        cpio.AddDirectory("tmp", (UnixFileMode)0x3FF); // 1777
        cpio.AddDirectory("root", (UnixFileMode)0x1C0); // 0700
        cpio.AddCharacterDevice("dev/console", 5, 1);
        cpio.AddCharacterDevice("dev/null", 1, 3, (UnixFileMode)0x1B6); // 0666

        cpio.AddFile("bin/busybox", Busybox, CpioArchiveWriter.ExecutableMode);
        // Every applet the binary has; /init's "busybox --install -s" would add any missed ones at boot.
        foreach (string applet in BusyboxApplets.ToLink(Busybox))
        {
            cpio.AddSymbolicLink($"bin/{applet}", "busybox");
        }

        cpio.AddFile("sbin/vessel-agent", GuestAgent, CpioArchiveWriter.ExecutableMode);
        cpio.AddFile("init", GuestInitScript.BuildInit(), CpioArchiveWriter.ExecutableMode);
        cpio.AddFile("etc/passwd", "root::0:0:root:/root:/bin/sh\n");
        cpio.AddFile("etc/group", "root:x:0:\ntty:x:5:\n");
        cpio.AddFile("etc/shells", "/bin/sh\n/bin/ash\n");
        cpio.AddFile("etc/hostname", HostName + "\n");
        cpio.AddFile("etc/hosts", $"127.0.0.1\tlocalhost {HostName}\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        cpio.AddFile("etc/profile", GuestInitScript.Profile);
        cpio.AddFile("etc/inittab", GuestInitScript.Inittab);
        cpio.AddFile("usr/share/udhcpc/default.script", GuestInitScript.DhcpScript, CpioArchiveWriter.ExecutableMode);

        string moduleRoot = $"lib/modules/{KernelVersion}";
        cpio.AddDirectory(moduleRoot);
        IReadOnlyList<KernelModule> modules = Modules?.Modules ?? [];
        foreach (KernelModule module in modules)
        {
            cpio.AddFile($"{moduleRoot}/{module.RelativePath}", module.Image);
        }

        cpio.AddFile($"{moduleRoot}/modules.dep", Modules?.ToModulesDep() ?? string.Empty);
        cpio.AddFile($"{moduleRoot}/vessel.modules", string.Concat(modules.Select(m => m.RelativePath + "\n")));
        if (ModulesBuiltin is not null)
        {
            cpio.AddFile($"{moduleRoot}/modules.builtin", ModulesBuiltin);
        }
    }
}
