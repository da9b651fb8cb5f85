namespace Vessel.Images;

/// <summary>What guest kit to build and where to keep it.</summary>
public sealed record GuestKitOptions
{
    /// <summary>Cache root; defaults to <see cref="GuestKitCache.DefaultRoot"/>.</summary>
    public string CacheRoot { get; init; } = GuestKitCache.DefaultRoot();

    /// <summary>Debian suite (codename).</summary>
    public string Suite { get; init; } = "trixie";

    /// <summary>Debian architecture of the guest.</summary>
    public string Architecture { get; init; } = "riscv64";

    public string Component { get; init; } = "main";

    /// <summary>The archive to use; null to take it from <see cref="DebianMirror.FromHost"/> when a download is needed.</summary>
    public DebianMirror? Mirror { get; init; }

    /// <summary>Kernel modules wanted in the initramfs (dependencies are added).</summary>
    public IReadOnlyList<string> Modules { get; init; } = InitramfsBuilder.DefaultModules;

    /// <summary>The kernel metapackage, which depends on the current concrete kernel package.</summary>
    public string KernelMetapackage => $"linux-image-{Architecture}";

    public string FirmwarePackage { get; init; } = "opensbi";

    /// <summary>Path of the firmware inside <see cref="FirmwarePackage"/>.</summary>
    public string FirmwarePath { get; init; } = "usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";

    public string BusyboxPackage { get; init; } = "busybox-static";

    /// <summary>The kit's folder name, e.g. "debian-trixie-riscv64".</summary>
    public string KitName => $"debian-{Suite}-{Architecture}";
}
