using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Storage;
using Vessel.Storage.Qcow2;
using Vessel.Storage.Vdi;
using Vessel.Storage.Vmdk;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel img check [-r leaks|all] FILE</c>: checks a qcow2, VMDK or VDI image's metadata (and repairs qcow2). Exit codes as qemu-img
/// check, after any repair: 0 clean, 1 check not completed, 2 corruptions, 3 leaked clusters only, 63 the format has
/// nothing to check.
/// </summary>
public sealed class ImgCheckCommand : Command<ImgCheckCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("-r|--repair <MODE>")]
        [Description("leaks: free leaked clusters; all: also fix refcounts that are too low and COPIED flags.")]
        public string? Repair { get; init; }

        public override ValidationResult Validate() => Repair is null or "leaks" or "all"
            ? ValidationResult.Success()
            : ValidationResult.Error("-r must be leaks or all");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ImageCheckResult result;
        Qcow2RepairResult? repair = null;
        try
        {
            var format = ImageFormatDetector.Detect(settings.File);
            if (format is not (ImageFormat.Qcow2 or ImageFormat.Vmdk or ImageFormat.Vdi))
            {
                Console.Error.WriteLine($"vessel img check: {settings.File}: this image format does not support checks");
                return 63;
            }

            if (settings.Repair is not null && format != ImageFormat.Qcow2)
            {
                Console.Error.WriteLine($"vessel img check: {settings.File}: repairs (-r) are only supported for qcow2 images; this one is {format.ToName()}");
                return 63;
            }

            if (settings.Repair is not null)
            {
                repair = Qcow2Repairer.Repair(settings.File, settings.Repair == "all" ? Qcow2RepairMode.All : Qcow2RepairMode.Leaks);
                result = repair.After;
            }
            else
            {
                result = format switch
                {
                    ImageFormat.Vmdk => VmdkImage.Check(settings.File),
                    ImageFormat.Vdi => VdiChecker.Check(settings.File),
                    _ => Qcow2Checker.Check(settings.File),
                };
            }
        }
        catch (DiskImageException ex)
        {
            Console.Error.WriteLine($"vessel img check: {ex.Message}");
            return 1;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"vessel img check: {settings.File}: {ex.Message}");
            return 1;
        }

        if (repair is not null && !repair.Before.IsClean)
        {
            foreach (string message in repair.Before.Messages.Concat(repair.RepairMessages))
            {
                Console.WriteLine(message);
            }

            Console.WriteLine("The following inconsistencies were found and repaired:");
            Console.WriteLine();
            Console.WriteLine($"    {repair.LeaksFixed} leaked clusters");
            Console.WriteLine($"    {repair.CorruptionsFixed} corruptions");
            Console.WriteLine();
            Console.WriteLine("Double checking the fixed image now...");
        }

        foreach (string message in result.Messages)
        {
            Console.WriteLine(message);
        }

        if (result.IsClean)
        {
            Console.WriteLine("No errors were found on the image.");
        }

        if (result.Corruptions > 0)
        {
            Console.WriteLine($"\n{result.Corruptions} errors were found on the image.");
            Console.WriteLine("Data may be corrupted, or further writes to the image may corrupt it.");
        }

        if (result.LeakedClusters > 0)
        {
            Console.WriteLine($"\n{result.LeakedClusters} leaked clusters were found on the image.");
            Console.WriteLine("This means waste of disk space, but no harm to data.");
        }

        if (result.TotalClusters > 0)
        {
            double total = result.TotalClusters;
            Console.WriteLine(
                $"{result.AllocatedClusters}/{result.TotalClusters} = {100 * result.AllocatedClusters / total:0.00}% allocated, " +
                $"{100 * result.CompressedClusters / total:0.00}% compressed clusters");
        }

        if (result.ImageEndOffset is { } end)
        {
            Console.WriteLine($"Image end offset: {end}");
        }
        return result.ExitCode;
    }
}
