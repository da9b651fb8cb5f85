namespace Vessel.Hosting;

/// <summary>What the supervisor does when a VM's worker exits without being asked to (DESIGN.md §6).</summary>
public enum RestartPolicy
{
    /// <summary>Never restart.</summary>
    No,

    /// <summary>Restart after a crash, a kill from outside Vessel or a machine failure; not after a guest poweroff.</summary>
    OnFailure,

    /// <summary>Restart after every exit the user did not ask for (also a guest poweroff).</summary>
    Always,
}
