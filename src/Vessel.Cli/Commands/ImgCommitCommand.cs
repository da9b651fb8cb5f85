using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img commit [-d] FILE</c>: writes a qcow2 overlay's changes into its backing file and empties the overlay
/// (unless -d), like qemu-img commit. Exit 0 done, 1 failed.
/// </summary>
public sealed class ImgCommitCommand : Command<ImgCommitCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("-d|--keep")]
        [Description("Do not empty the overlay afterwards.")]
        public bool Keep { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            ImageCommitter.Commit(settings.File, emptyOverlay: !settings.Keep);
            Console.WriteLine("Image committed.");
            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img commit: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img commit: {settings.File}: {ex.Message}");
            return 1;
        }
    }
}
