using System.ComponentModel;
using System.Text;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img map [--output json] FILE</c>: where each range of the disk lives through the backing chain, in
/// qemu-img map's layouts (human: data ranges with their host offset and file; json: every range). Exit 0 or 1.
/// </summary>
public sealed class ImgMapCommand : Command<ImgMapCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("-f|--format <FORMAT>")]
        [Description("Treat the image as this format instead of probing its content.")]
        public string? Format { get; init; }

        [CommandOption("--output <FORMAT>")]
        [Description("human (default) or json.")]
        [DefaultValue("human")]
        public string Output { get; init; } = "human";

        public override ValidationResult Validate() => Output is "human" or "json"
            ? ValidationResult.Success()
            : ValidationResult.Error("--output must be human or json");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        List<ImageMapEntry> entries;
        try
        {
            entries = ImageMapper.Map(settings.File, settings.Format);
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img map: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img map: {settings.File}: {ex.Message}");
            return 1;
        }

        Console.WriteLine(settings.Output == "json" ? ToJson(entries) : ToText(entries));
        return 0;
    }

    private static string ToJson(List<ImageMapEntry> entries)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            text.Append(i == 0 ? string.Empty : ",\n")
                .Append($"{{ \"start\": {e.Start}, \"length\": {e.Length}, \"depth\": {e.Depth}, ")
                .Append($"\"present\": {Json(e.Present)}, \"zero\": {Json(e.Zero)}, \"data\": {Json(e.Data)}")
                .Append(e.Offset is { } offset ? $", \"offset\": {offset}}}" : "}");
        }

        return text.Append(']').ToString();
    }

    private static string ToText(List<ImageMapEntry> entries)
    {
        var text = new StringBuilder($"{"Offset",-16}{"Length",-16}{"Mapped to",-16}File");
        foreach (var e in entries.Where(e => e.Data && e.Offset is not null))
        {
            text.Append('\n').Append($"{Hex(e.Start),-16}{Hex(e.Length),-16}{Hex(e.Offset!.Value),-16}{e.File}");
        }

        return text.ToString();
    }

    private static string Json(bool value) => value ? "true" : "false";

    private static string Hex(ulong value) => value == 0 ? "0" : $"0x{value:x}";
}
