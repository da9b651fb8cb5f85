using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Abstractions;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img snapshot -l|-c NAME|-a NAME|-d NAME FILE</c>: lists, creates, applies or deletes a qcow2 image's
/// internal snapshots, with qemu-img snapshot's options, listing layout and exit codes (0 done, 1 failed).
/// </summary>
public sealed class ImgSnapshotCommand : Command<ImgSnapshotCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("-l|--list")]
        [Description("List the snapshots.")]
        public bool List { get; init; }

        [CommandOption("-c|--create <NAME>")]
        [Description("Create snapshot NAME of the current contents.")]
        public string? Create { get; init; }

        [CommandOption("-a|--apply <NAME>")]
        [Description("Revert the disk to snapshot NAME (an id or a name).")]
        public string? Apply { get; init; }

        [CommandOption("-d|--delete <NAME>")]
        [Description("Delete snapshot NAME (an id or a name).")]
        public string? Delete { get; init; }

        public override ValidationResult Validate()
        {
            int actions = (List ? 1 : 0) + (Create is null ? 0 : 1) + (Apply is null ? 0 : 1) + (Delete is null ? 0 : 1);
            return actions == 1
                ? ValidationResult.Success()
                : ValidationResult.Error("give exactly one of -l, -c NAME, -a NAME, -d NAME");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            if (ImageFormatDetector.Detect(settings.File) != ImageFormat.Qcow2)
            {
                Console.Error.WriteLine($"vessel img snapshot: {settings.File}: only qcow2 images have internal snapshots");
                return 1;
            }

            using var image = Qcow2Image.Open(settings.File, readOnly: settings.List);
            if (settings.List)
            {
                PrintList(image.ListSnapshots());
            }
            else if (settings.Create is { } create)
            {
                image.CreateSnapshot(create);
            }
            else if (settings.Apply is { } apply)
            {
                image.ApplySnapshot(apply);
            }
            else if (settings.Delete is { } delete)
            {
                image.DeleteSnapshot(delete);
            }

            return 0;
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img snapshot: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img snapshot: {settings.File}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>qemu-img's table: ID, TAG, VM SIZE, DATE (local time), VM CLOCK, ICOUNT (blank when off).</summary>
    private static void PrintList(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        if (snapshots.Count == 0)
        {
            return;
        }

        Console.WriteLine("Snapshot list:");
        Console.WriteLine($"{"ID",-9} {"TAG",-17}{"VM SIZE",8}{"DATE",20}{"VM CLOCK",13}{"ICOUNT",11}");
        foreach (var s in snapshots)
        {
            string date = s.Date.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            ulong ms = s.VmClockNanoseconds / 1_000_000;
            string clock = string.Create(
                CultureInfo.InvariantCulture,
                $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}.{ms % 1000:000}");
            string icount = s.Icount < 0 ? string.Empty : s.Icount.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine($"{s.Id,-9} {s.Name,-17}{(s.VmStateSize == 0 ? "0 B" : DataSize.Format(s.VmStateSize)),8}{date,20}{clock,13}{icount,11}");
        }
    }
}
