using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img rebase -b BACKING [-F FMT] [-u] FILE</c>: points a qcow2 image at another backing file (-b "" for
/// none). Without -u, clusters whose content would change are copied into the image first. Exit 0 done, 1 failed.
/// </summary>
public sealed class ImgRebaseCommand : Command<ImgRebaseCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("-b|--backing <BACKING>")]
        [Description("The new backing file, relative to the image's folder unless absolute; \"\" for none.")]
        public string? Backing { get; init; }

        [CommandOption("-F|--backing-format <FORMAT>")]
        [Description("Format of the new backing file (probed and recorded when omitted, except with -u).")]
        public string? BackingFormat { get; init; }

        [CommandOption("-u|--unsafe")]
        [Description("Only rewrite the header: the guest sees whatever the new backing file holds.")]
        public bool Unsafe { get; init; }

        public override Spectre.Console.ValidationResult Validate() => Backing is null
            ? Spectre.Console.ValidationResult.Error("-b BACKING is required (use -b \"\" to remove the backing file)")
            : Spectre.Console.ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            ImageRebaser.Rebase(settings.File, settings.Backing, settings.BackingFormat, settings.Unsafe);
            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img rebase: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img rebase: {settings.File}: {ex.Message}");
            return 1;
        }
    }
}
