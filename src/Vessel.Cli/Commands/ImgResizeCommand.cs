using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Abstractions;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img resize [--shrink] FILE [+|-]SIZE</c>: changes the virtual size like qemu-img resize. Shrinking
/// discards data and needs --shrink. Exit 0 done, 1 failed.
/// </summary>
public sealed class ImgResizeCommand : Command<ImgResizeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandArgument(1, "[SIZE]")]
        [Description("New size, or +SIZE / -SIZE relative to the current one (K, M, G, T suffixes).")]
        public string? Size { get; init; }

        [CommandOption("-f|--format <FORMAT>")]
        [Description("Treat the image as this format instead of probing its content.")]
        public string? Format { get; init; }

        [CommandOption("--shrink")]
        [Description("Allow shrinking (the data past the new end is lost).")]
        public bool Shrink { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string? text = settings.Size ?? context.Remaining.Raw.FirstOrDefault();
        if (text is null)
        {
            Console.Error.WriteLine("vessel img resize: SIZE is required");
            return 1;
        }

        try
        {
            ulong current;
            using (var image = DiskImage.Open(settings.File, settings.Format, readOnly: true))
            {
                current = image.Size;
            }

            if (!TryParseSize(text, current, out ulong size))
            {
                Console.Error.WriteLine($"vessel img resize: invalid size '{text}'");
                return 1;
            }

            ImageResizer.Resize(settings.File, settings.Format, size, settings.Shrink);
            Console.WriteLine("Image resized.");
            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img resize: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img resize: {settings.File}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>An absolute size, or one relative to <paramref name="current"/> with a leading + or -.</summary>
    private static bool TryParseSize(string text, ulong current, out ulong size)
    {
        size = 0;
        text = text.Trim();
        char sign = text.Length > 0 ? text[0] : ' ';
        if (!DataSize.TryParse(sign is '+' or '-' ? text[1..] : text, out ulong value))
        {
            return false;
        }

        if (sign == '+')
        {
            size = current + value;
            return size >= current;
        }

        if (sign == '-')
        {
            size = current - value;
            return value <= current;
        }

        size = value;
        return true;
    }
}
