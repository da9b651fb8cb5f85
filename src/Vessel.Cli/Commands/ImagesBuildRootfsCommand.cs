using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Images;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel images build-rootfs FILE [--size 256M]</c>: an ext4 root disk (raw) with the guest kit's busybox
/// userland, bootable with <c>vessel run --disk FILE --append "console=ttyS0 root=/dev/vda rw"</c>.
/// </summary>
public sealed class ImagesBuildRootfsCommand : Command<ImagesBuildRootfsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The raw disk image to write.")]
        public string Output { get; init; } = string.Empty;

        [CommandOption("--size <SIZE>")]
        [Description("Disk size, e.g. 256M or 1G.")]
        [DefaultValue("256M")]
        public string Size { get; init; } = "256M";

        public override ValidationResult Validate() =>
            DataSize.TryParse(Size, out _) ? ValidationResult.Success() : ValidationResult.Error($"--size {Size}: not a size.");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        DataSize.TryParse(settings.Size, out ulong size);
        try
        {
            var kit = GuestKitLauncher.Ensure(cancellationToken);
            RootDiskBuilder.BuildAsync(kit, settings.Output, size, cancellationToken).GetAwaiter().GetResult();
            System.Console.WriteLine($"{settings.Output}: ext4 root disk, {DataSize.Format(size)}; boot it with");
            System.Console.WriteLine($"  vessel run --disk {settings.Output} --append \"console=ttyS0 root=/dev/vda rw\"");
            return 0;
        }
        catch (Exception e) when (e is GuestKitException or GuestKitUnavailableException or IOException)
        {
            System.Console.Error.WriteLine($"vessel images build-rootfs: {e.Message}");
            return 1;
        }
    }
}
