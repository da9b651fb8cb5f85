using System.Text.Encodings.Web;
using System.Text.Json;

namespace Vessel.Images;

/// <summary>
/// <c>manifest.json</c> of a cached guest kit: what it was built from (mirror, packages and versions, modules) and
/// the SHA-256 and size of each output file. It is written last, so a kit without a manifest is unfinished.
/// </summary>
public sealed record GuestKitManifest
{
    /// <summary>Version of this file's schema.</summary>
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    /// <summary><see cref="InitramfsBuilder.LayoutVersion"/> of the code that built the kit.</summary>
    public int LayoutVersion { get; init; }

    public required string Name { get; init; }

    public required string Suite { get; init; }

    public required string Architecture { get; init; }

    /// <summary>The archive the packages came from.</summary>
    public required string Mirror { get; init; }

    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>The kernel release, as <c>uname -r</c> prints it.</summary>
    public required string KernelVersion { get; init; }

    public required IReadOnlyList<Package> Packages { get; init; }

    /// <summary>Module names asked for (before dependencies were added).</summary>
    public required IReadOnlyList<string> RequestedModules { get; init; }

    /// <summary>Modules in the initramfs, in load order.</summary>
    public required IReadOnlyList<string> Modules { get; init; }

    /// <summary>Asked-for modules the kernel has built in.</summary>
    public IReadOnlyList<string> BuiltInModules { get; init; } = [];

    /// <summary>Asked-for modules this kernel has neither as a file nor built in.</summary>
    public IReadOnlyList<string> MissingModules { get; init; } = [];

    /// <summary>Output files by name (relative to the kit folder).</summary>
    public required IReadOnlyDictionary<string, FileEntry> Files { get; init; }

    // Relaxed escaping keeps '+' in Debian versions readable ("6.12.117+deb13"); the file is never embedded in HTML.
    private static readonly GuestKitJsonContext Json = new(new JsonSerializerOptions(GuestKitJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public string ToJson() => JsonSerializer.Serialize(this, Json.GuestKitManifest) + "\n";

    /// <summary>Parses a manifest; null when the text is not one.</summary>
    public static GuestKitManifest? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Json.GuestKitManifest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A Debian package the kit was built from.</summary>
    public sealed record Package(string Name, string Version, string Filename, string Sha256);

    /// <summary>An output file's SHA-256 (lower-case hex) and size in bytes.</summary>
    public sealed record FileEntry(string Sha256, long Size);
}
