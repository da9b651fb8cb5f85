using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;
using Vessel.Images;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel images pull</c>: downloads Debian's riscv64 kernel, OpenSBI and busybox from the host's Debian mirror
/// (signature- and checksum-verified) and builds the guest kit's initramfs; a no-op when the cached kit is intact.
/// </summary>
public sealed class ImagesPullCommand : Command<ImagesPullCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-f|--force")]
        [Description("Rebuild even if a valid kit is cached (verified downloads are reused).")]
        public bool Force { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var kit = new GuestKit();
        GuestKitPullResult result;
        try
        {
            result = AnsiConsole.Profile.Capabilities.Interactive
                ? PullWithProgressBars(kit, settings.Force, cancellationToken)
                : kit.PullAsync(settings.Force, new LineProgress(), cancellationToken).GetAwaiter().GetResult();
        }
        catch (GuestKitException ex)
        {
            Console.Error.WriteLine($"vessel images pull: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("vessel images pull: cancelled");
            return 130;
        }

        GuestKitManifest m = result.Manifest;
        AnsiConsole.MarkupLine(result.Built
            ? $"[green]Guest kit {Markup.Escape(m.Name)} built[/] in {result.Elapsed.TotalSeconds:0.0} s (Linux {Markup.Escape(m.KernelVersion)})"
            : $"Guest kit {Markup.Escape(m.Name)} is up to date (Linux {Markup.Escape(m.KernelVersion)}, built {m.CreatedUtc.ToLocalTime():yyyy-MM-dd HH:mm}); --force rebuilds it");
        var table = new Table().AddColumns("file", "size", "sha256");
        foreach (var (name, entry) in m.Files)
        {
            table.AddRow(Markup.Escape(name), FormatSize(entry.Size), entry.Sha256[..16] + "…");
        }

        AnsiConsole.Write(table);
        Console.WriteLine(result.Paths.Directory);
        return 0;
    }

    private static GuestKitPullResult PullWithProgressBars(GuestKit kit, bool force, CancellationToken cancellationToken) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new BytesColumn(),
                new SpinnerColumn())
            .StartAsync(ctx => kit.PullAsync(force, new BarProgress(ctx), cancellationToken))
            .GetAwaiter().GetResult();

    private static string FormatSize(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:0.0} MiB" : $"{bytes / 1024.0:0.0} KiB";

    /// <summary>One progress bar per step; steps without a byte count pulse until done.</summary>
    private sealed class BarProgress(ProgressContext context) : IProgress<GuestKitProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();

        public void Report(GuestKitProgress value)
        {
            lock (_gate)
            {
                if (!_tasks.TryGetValue(value.Step, out ProgressTask? task))
                {
                    task = context.AddTask(Markup.Escape(value.Step), maxValue: value.Total ?? 1);
                    task.IsIndeterminate = value.Total is null;
                    task.State.Update<bool>(BytesColumn.StateKey, _ => value.Total is not null);
                    _tasks[value.Step] = task;
                }

                if (value.Total is { } total && total > 0)
                {
                    task.IsIndeterminate = false;
                    task.MaxValue = total;
                    task.Value = value.Completed;
                }

                if (value.Done)
                {
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    task.StopTask();
                }
            }
        }
    }

    /// <summary>"done/total MiB  speed" for download steps; empty for the others.</summary>
    private sealed class BytesColumn : ProgressColumn
    {
        public const string StateKey = "bytes";

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            if (!task.State.Get<bool>(StateKey))
            {
                return Text.Empty;
            }

            string amount = task.IsFinished
                ? FormatSize((long)task.MaxValue)
                : $"{task.Value / 1048576.0:0.0}/{task.MaxValue / 1048576.0:0.0} MiB";
            string speed = !task.IsFinished && task.Speed is { } bytesPerSecond ? $"  {bytesPerSecond / 1048576.0:0.0} MiB/s" : string.Empty;
            return new Markup(Markup.Escape(amount + speed));
        }
    }

    /// <summary>Plain lines for logs and pipes: one when each step finishes.</summary>
    private sealed class LineProgress : IProgress<GuestKitProgress>
    {
        private readonly Lock _gate = new();

        public void Report(GuestKitProgress value)
        {
            if (!value.Done)
            {
                return;
            }

            lock (_gate)
            {
                Console.WriteLine(value.Total is { } total ? $"{value.Step}: {FormatSize(total)}" : $"{value.Step}: done");
            }
        }
    }
}
