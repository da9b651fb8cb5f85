namespace Vessel.Images;

/// <summary>The files of a ready guest kit, for booting: firmware at 0x8000_0000, kernel, initrd.</summary>
/// <param name="Directory">The kit's folder.</param>
/// <param name="Kernel">The uncompressed RISC-V Linux <c>Image</c>.</param>
/// <param name="Firmware">OpenSBI <c>fw_dynamic.bin</c>.</param>
/// <param name="Initramfs">The gzip-compressed newc initramfs.</param>
/// <param name="KernelVersion">The kernel release (<c>uname -r</c>).</param>
public sealed record GuestKitPaths(string Directory, string Kernel, string Firmware, string Initramfs, string KernelVersion)
{
    public const string KernelFileName = "Image";
    public const string FirmwareFileName = "fw_dynamic.bin";
    public const string InitramfsFileName = "initramfs.cpio.gz";
    public const string ManifestFileName = "manifest.json";

    /// <summary>The output files every kit has.</summary>
    public static IReadOnlyList<string> RequiredFiles { get; } = [KernelFileName, FirmwareFileName, InitramfsFileName];

    public static GuestKitPaths In(string directory, string kernelVersion) => new(
        directory,
        Path.Combine(directory, KernelFileName),
        Path.Combine(directory, FirmwareFileName),
        Path.Combine(directory, InitramfsFileName),
        kernelVersion);
}
