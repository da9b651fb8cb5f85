using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img compare [-f FMT] [-F FMT] FILE1 FILE2</c>: compares what two images show a guest, like qemu-img
/// compare. Exit 0 identical, 1 different (first differing offset printed), 2 error.
/// </summary>
public sealed class ImgCompareCommand : Command<ImgCompareCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE1>")]
        public string First { get; init; } = string.Empty;

        [CommandArgument(1, "<FILE2>")]
        public string Second { get; init; } = string.Empty;

        [CommandOption("-f|--format <FORMAT>")]
        [Description("Format of FILE1 (probed when omitted).")]
        public string? FirstFormat { get; init; }

        [CommandOption("-F|--second-format <FORMAT>")]
        [Description("Format of FILE2 (probed when omitted).")]
        public string? SecondFormat { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ImageCompareResult result;
        try
        {
            result = ImageComparer.Compare(settings.First, settings.FirstFormat, settings.Second, settings.SecondFormat);
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img compare: {ex.Message}");
            return 2;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img compare: {ex.Message}");
            return 2;
        }

        if (result.SizeMismatch)
        {
            Console.WriteLine("Warning: Image size mismatch!");
        }

        if (result.Identical)
        {
            Console.WriteLine("Images are identical.");
            return 0;
        }

        Console.WriteLine($"Content mismatch at offset {result.FirstMismatch}!");
        return 1;
    }
}
