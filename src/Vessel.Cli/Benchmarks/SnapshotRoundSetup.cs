using Vessel.Images;

namespace Vessel.Cli.Benchmarks;

/// <summary>What one snapshot round boots: the guest kit with <see cref="MemorySize"/> of RAM and one qcow2 disk (vda).</summary>
public sealed record SnapshotRoundSetup(GuestKitPaths Kit, ulong MemorySize, string Disk, string WorkDirectory)
{
    /// <summary>The banner the guest kit's init prints just before it starts the shell.</summary>
    public const string ReadyMarker = "Vessel guest ready";

    /// <summary>The snapshot's name on the disk (and the state file's), like a user's snapshot name.</summary>
    public const string SnapshotName = "bench";

    public Vessel.RiscV.CpuEngine Engine { get; init; } = Vessel.RiscV.CpuEngine.Interpreter;

    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a shell may take to answer, and a savevm/loadvm to finish.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The kernel command line: quiet, so the console carries only the shell.</summary>
    public const string CommandLine = "console=ttyS0 quiet";
}
