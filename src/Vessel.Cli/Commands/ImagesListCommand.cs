using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Images;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel images list</c>: the guest kits in the cache, each checked against its manifest's SHA-256s.</summary>
public sealed class ImagesListCommand : Command<ImagesListCommand.Settings>
{
    public sealed class Settings : CommandSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var cache = new GuestKitCache(GuestKitCache.DefaultRoot());
        IReadOnlyList<GuestKitStatus> kits = cache.ListAsync(cancellationToken).GetAwaiter().GetResult();
        if (kits.Count == 0)
        {
            Console.WriteLine($"No guest kits in {cache.ImagesDirectory}; 'vessel images pull' builds one.");
            return 0;
        }

        var table = new Table().AddColumns("name", "kernel", "built", "size", "status");
        foreach (GuestKitStatus kit in kits)
        {
            GuestKitManifest? m = kit.Manifest;
            table.AddRow(
                Markup.Escape(kit.Name),
                Markup.Escape(m?.KernelVersion ?? "-"),
                m is null ? "-" : m.CreatedUtc.ToLocalTime().ToString("yyyy-MM-dd HH:mm"),
                $"{kit.SizeBytes / 1048576.0:0.0} MiB",
                kit.IsValid ? "[green]ok[/]" : $"[red]{Markup.Escape(kit.Problem!)}[/]");
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"in {cache.ImagesDirectory}");
        return 0;
    }
}
