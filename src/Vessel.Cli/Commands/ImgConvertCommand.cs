using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Storage;
using Vessel.Storage.Vmdk;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel img convert [-f FMT] -O raw|qcow2|vpc|vmdk|vdi [-o OPTIONS] [-c] SRC DST</c>: copies a disk into a new image, sparse.</summary>
public sealed class ImgConvertCommand : Command<ImgConvertCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SRC>")]
        public string Source { get; init; } = string.Empty;

        [CommandArgument(1, "<DST>")]
        public string Target { get; init; } = string.Empty;

        [CommandOption("-f|--format <FORMAT>")]
        [Description("Format of SRC (probed when omitted).")]
        public string? SourceFormat { get; init; }

        [CommandOption("-O|--output-format <FORMAT>")]
        [Description("raw, qcow2, vpc (VHD), vmdk or vdi.")]
        [DefaultValue("raw")]
        public string TargetFormat { get; init; } = "raw";

        [CommandOption("-o|--options <OPTIONS>")]
        [Description("Output format options as qemu-img: vpc takes subformat=dynamic|fixed and force_size=on|off; vmdk takes subformat=monolithicSparse (default), monolithicFlat or streamOptimized.")]
        public string? Options { get; init; }

        [CommandOption("-c|--compress")]
        [Description("Compress the qcow2 output's clusters (zlib).")]
        public bool Compress { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("No progress bar.")]
        public bool Quiet { get; init; }

        public override ValidationResult Validate()
        {
            if (!ImageFormatNames.TryParse(TargetFormat, out var format) || format is not (ImageFormat.Raw or ImageFormat.Qcow2 or ImageFormat.Vhd or ImageFormat.Vmdk or ImageFormat.Vdi))
            {
                return ValidationResult.Error($"unsupported output format '{TargetFormat}' (raw, qcow2, vpc, vmdk or vdi)");
            }

            if (!FormatOptions.TryParse(Options, out var options, out string optionError))
            {
                return ValidationResult.Error(optionError);
            }

            string[] known = format switch
            {
                ImageFormat.Vmdk => ["subformat"],
                ImageFormat.Vhd => ["subformat", "force_size"],
                _ => [],
            };
            if (FormatOptions.Unknown(options, TargetFormat, known) is { } unknown)
            {
                return ValidationResult.Error(unknown);
            }

            return Compress && format != ImageFormat.Qcow2
                ? ValidationResult.Error("-c needs -O qcow2")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var target = ImageFormatNames.ParseSupported(settings.TargetFormat);
            FormatOptions.TryParse(settings.Options, out var options, out _);
            // -o goes to the format that understands it: VHD parses its own text, VMDK takes the subformat.
            string? vhdOptions = target == ImageFormat.Vhd ? settings.Options : null;
            var subformat = target == ImageFormat.Vmdk && options.TryGetValue("subformat", out string? name) ? VmdkSubformatNames.Parse(name) : VmdkSubformat.MonolithicSparse;
            if (settings.Quiet || !AnsiConsole.Profile.Capabilities.Interactive)
            {
                ImageConverter.Convert(settings.Source, settings.SourceFormat, settings.Target, target, settings.Compress, cancellationToken: cancellationToken, options: vhdOptions, vmdkSubformat: subformat);
                return 0;
            }

            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape($"{Path.GetFileName(settings.Source)} → {Path.GetFileName(settings.Target)}"), maxValue: 1);
                    ImageConverter.Convert(
                        settings.Source,
                        settings.SourceFormat,
                        settings.Target,
                        target,
                        settings.Compress,
                        progress: (done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                        },
                        cancellationToken: cancellationToken,
                        options: vhdOptions,
                        vmdkSubformat: subformat);
                    task.Value = task.MaxValue;
                });
            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img convert: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img convert: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("vessel img convert: cancelled");
            return 130;
        }
    }
}
