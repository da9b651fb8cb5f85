namespace Vessel.Hosting;

/// <summary>What a revert leaves in <see cref="VmPaths.RestoreRequest"/> for the next worker start.</summary>
public sealed record RestoreRequest(string Id);
