using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Abstractions;
using Vessel.Storage;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel img info [--output json] FILE</c>: format, sizes and qcow2 header fields of an image.</summary>
public sealed class ImgInfoCommand : Command<ImgInfoCommand.Settings>
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
        DiskImageInfo info;
        try
        {
            info = DiskImageInspector.Inspect(settings.File, settings.Format);
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img info: {ex.Message}");
            return 1;
        }

        Console.WriteLine(settings.Output == "json" ? ToJson(info) : ToText(info));
        return 0;
    }

    private static string ToText(DiskImageInfo info)
    {
        var text = new StringBuilder()
            .AppendLine($"image: {info.Path}")
            .AppendLine($"file format: {info.Format.ToName()}")
            .AppendLine($"virtual size: {DataSize.Format(info.VirtualSize)} ({info.VirtualSize} bytes)")
            .Append($"file length: {DataSize.Format(info.FileLength)} ({info.FileLength} bytes)");
        if (info.ClusterSize is { } cluster)
        {
            text.AppendLine().Append($"cluster_size: {cluster}");
        }

        if (info.BackingFile is { } backing)
        {
            text.AppendLine().Append($"backing file: {backing}");
            if (info.BackingFormat is { } backingFormat)
            {
                text.AppendLine().Append($"backing file format: {backingFormat}");
            }
        }

        if (info.Compat is { } compat)
        {
            text.AppendLine().AppendLine("Format specific information:")
                .AppendLine($"    compat: {compat}")
                .AppendLine($"    lazy refcounts: {(info.LazyRefcounts == true ? "true" : "false")}")
                .AppendLine($"    refcount bits: {info.RefcountBits}")
                .AppendLine($"    corrupt: {(info.Corrupt == true ? "true" : "false")}")
                .Append($"    snapshots: {info.SnapshotCount}");
        }

        return text.ToString();
    }

    private static string ToJson(DiskImageInfo info)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            // Key names follow qemu-img info --output=json.
            json.WriteStartObject();
            json.WriteNumber("virtual-size", info.VirtualSize);
            json.WriteString("filename", info.Path);
            json.WriteString("format", info.Format.ToName());
            json.WriteNumber("actual-size", info.FileLength);
            if (info.ClusterSize is { } cluster)
            {
                json.WriteNumber("cluster-size", cluster);
            }

            if (info.BackingFile is { } backing)
            {
                json.WriteString("backing-filename", backing);
                if (info.BackingFormat is { } backingFormat)
                {
                    json.WriteString("backing-filename-format", backingFormat);
                }
            }

            if (info.Compat is { } compat)
            {
                json.WriteStartObject("format-specific");
                json.WriteString("type", "qcow2");
                json.WriteStartObject("data");
                json.WriteString("compat", compat);
                json.WriteBoolean("lazy-refcounts", info.LazyRefcounts == true);
                json.WriteNumber("refcount-bits", info.RefcountBits ?? 16);
                json.WriteBoolean("corrupt", info.Corrupt == true);
                json.WriteNumber("snapshots", info.SnapshotCount ?? 0);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteBoolean("dirty-flag", info.Dirty == true);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
