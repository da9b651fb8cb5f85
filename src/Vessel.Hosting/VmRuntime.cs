namespace Vessel.Hosting;

/// <summary>The supervisor's live view of one VM's worker.</summary>
internal sealed class VmRuntime(string name)
{
    public string Name { get; } = name;

    public VmState State { get; set; } = VmState.Stopped;

    public int? Pid { get; set; }

    /// <summary>Set by stop/kill: the exit that follows is the user's wish, not a failure to restart from.</summary>
    public bool UserStop { get; set; }

    public int Restarts { get; set; }

    /// <summary>The worker's harts are parked (vm pause); cleared whenever the worker starts or ends.</summary>
    public bool Paused { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public CancellationTokenSource? Monitor { get; set; }
}
