using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Abstractions;
using Vessel.Storage;
using Vessel.Storage.Qcow2;
using Vessel.Storage.Vdi;
using Vessel.Storage.Vhd;
using Vessel.Storage.Vmdk;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel img create -f raw|qcow2|vpc|vmdk|vdi [-b BACKING [-F FMT]] [-o OPTIONS] FILE [SIZE]</c>: creates an empty disk image.</summary>
public sealed class ImgCreateCommand : Command<ImgCreateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The image file to create (replaced if it exists).")]
        public string File { get; init; } = string.Empty;

        [CommandArgument(1, "[SIZE]")]
        [Description("Virtual size: bytes or with a K, M, G or T suffix. Defaults to the backing file's size.")]
        public string? Size { get; init; }

        [CommandOption("-f|--format <FORMAT>")]
        [Description("raw, qcow2, vpc (VHD), vmdk or vdi.")]
        [DefaultValue("raw")]
        public string Format { get; init; } = "raw";

        [CommandOption("-o|--options <OPTIONS>")]
        [Description("Format options as qemu-img: vpc takes subformat=dynamic|fixed and force_size=on|off; vmdk takes subformat=monolithicSparse (default), monolithicFlat or streamOptimized; vdi takes static=on|off.")]
        public string? Options { get; init; }

        [CommandOption("-b|--backing <FILE>")]
        [Description("qcow2 or vmdk: backing file; vpc: parent of a differencing disk. Relative to the new image's folder unless absolute.")]
        public string? Backing { get; init; }

        [CommandOption("-F|--backing-format <FORMAT>")]
        [Description("Format of the backing file (probed when omitted).")]
        public string? BackingFormat { get; init; }

        [CommandOption("--cluster-size <BYTES>")]
        [Description("qcow2 only: cluster size, a power of two from 512 to 2M.")]
        public string? ClusterSize { get; init; }

        public override ValidationResult Validate()
        {
            if (!ImageFormatNames.TryParse(Format, out var format) || format is not (ImageFormat.Raw or ImageFormat.Qcow2 or ImageFormat.Vhd or ImageFormat.Vmdk or ImageFormat.Vdi))
            {
                return ValidationResult.Error($"unsupported format '{Format}' (raw, qcow2, vpc, vmdk or vdi)");
            }

            if (format == ImageFormat.Vhd && BackingFormat is not null)
            {
                return ValidationResult.Error("--backing-format does not apply to -f vpc (a VHD's parent is probed)");
            }

            if (format != ImageFormat.Qcow2 && ClusterSize is not null)
            {
                return ValidationResult.Error("--cluster-size needs -f qcow2");
            }

            if (format is ImageFormat.Raw or ImageFormat.Vdi && Backing is not null)
            {
                return ValidationResult.Error("--backing needs -f qcow2, vmdk or vpc");
            }

            if (!FormatOptions.TryParse(Options, out var options, out string optionError))
            {
                return ValidationResult.Error(optionError);
            }

            if (FormatOptions.Unknown(options, Format, format switch { ImageFormat.Vmdk => ["subformat"], ImageFormat.Vdi => ["static"], ImageFormat.Vhd => ["subformat", "force_size"], _ => [] }) is { } unknown)
            {
                return ValidationResult.Error(unknown);
            }

            if (Size is null && Backing is null)
            {
                return ValidationResult.Error("SIZE is required without a backing file");
            }

            if (Size is not null && !DataSize.TryParse(Size, out _))
            {
                return ValidationResult.Error($"invalid size '{Size}'");
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var format = ImageFormatNames.ParseSupported(settings.Format);
            if (format == ImageFormat.Raw)
            {
                DataSize.TryParse(settings.Size, out ulong rawSize);
                RawImage.Create(settings.File, rawSize);
                Console.WriteLine($"Formatting '{settings.File}', fmt=raw size={rawSize}");
                return 0;
            }

            if (format == ImageFormat.Vhd)
            {
                var options = VhdCreateOptions.Parse(settings.Options);
                ulong requested = 0;
                if (settings.Size is not null)
                {
                    DataSize.TryParse(settings.Size, out requested);
                }

                ulong vhdSize = VhdImage.Create(settings.File, requested, options.Type, settings.Backing, options.ForceSize);
                string parentNote = settings.Backing is null ? string.Empty : $" parent={settings.Backing}";
                string subformat = settings.Backing is null ? options.Type.ToString().ToLowerInvariant() : "differencing";
                Console.WriteLine($"Formatting '{settings.File}', fmt=vpc size={vhdSize} subformat={subformat}{parentNote}");
                return 0;
            }

            if (format == ImageFormat.Vdi)
            {
                FormatOptions.TryParse(settings.Options, out var vdiOptions, out _);
                string staticOption = vdiOptions.GetValueOrDefault("static", "off");
                if (staticOption is not ("on" or "off"))
                {
                    Console.Error.WriteLine($"vessel img create: static={staticOption}: expected on or off");
                    return 2;
                }

                bool fixedSize = staticOption == "on";
                DataSize.TryParse(settings.Size, out ulong vdiSize);
                VdiImage.Create(settings.File, vdiSize, fixedSize);
                Console.WriteLine($"Formatting '{settings.File}', fmt=vdi size={vdiSize} static={(fixedSize ? "on" : "off")}");
                return 0;
            }

            if (format == ImageFormat.Vmdk)
            {
                FormatOptions.TryParse(settings.Options, out var options, out _);
                var subformat = options.TryGetValue("subformat", out string? name) ? VmdkSubformatNames.Parse(name) : VmdkSubformat.MonolithicSparse;
                ulong vmdkSize;
                if (settings.Size is null)
                {
                    using var parent = DiskImage.Open(Qcow2Image.ResolveBackingPath(settings.File, settings.Backing!), settings.BackingFormat, readOnly: true);
                    vmdkSize = parent.Size;
                }
                else
                {
                    DataSize.TryParse(settings.Size, out vmdkSize);
                }

                VmdkImage.Create(settings.File, vmdkSize, subformat, settings.Backing);
                string parentNote = settings.Backing is null ? string.Empty : $" backing_file={settings.Backing}";
                Console.WriteLine($"Formatting '{settings.File}', fmt=vmdk size={vmdkSize} subformat={subformat.ToName()}{parentNote}");
                return 0;
            }

            int clusterBits = 16;
            if (settings.ClusterSize is not null)
            {
                if (!DataSize.TryParse(settings.ClusterSize, out ulong clusterSize) || clusterSize == 0 ||
                    !ulong.IsPow2(clusterSize) || clusterSize < 512 || clusterSize > 2 << 20)
                {
                    Console.Error.WriteLine($"vessel img create: invalid cluster size '{settings.ClusterSize}'");
                    return 2;
                }

                clusterBits = System.Numerics.BitOperations.Log2(clusterSize);
            }

            string? backingFormat = settings.BackingFormat;
            ulong size = 0;
            if (settings.Backing is { } backing)
            {
                // The backing file must open (through its own chain) before the overlay refers to it.
                string backingPath = Qcow2Image.ResolveBackingPath(settings.File, backing);
                using var backingDisk = DiskImage.Open(backingPath, backingFormat, readOnly: true);
                backingFormat ??= ImageFormatDetector.Detect(backingPath).ToName(); // what Open just probed
                size = backingDisk.Size;
            }

            if (settings.Size is not null)
            {
                DataSize.TryParse(settings.Size, out size);
            }

            Qcow2Image.Create(settings.File, size, clusterBits, settings.Backing, settings.Backing is null ? null : backingFormat);
            string backingNote = settings.Backing is null ? string.Empty : $" backing_file={settings.Backing} backing_fmt={backingFormat}";
            Console.WriteLine($"Formatting '{settings.File}', fmt=qcow2 cluster_size={1 << clusterBits} size={size}{backingNote}");
            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img create: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img create: {settings.File}: {ex.Message}");
            return 1;
        }
    }
}
