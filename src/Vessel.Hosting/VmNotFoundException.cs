namespace Vessel.Hosting;

/// <summary>No VM of that name is defined.</summary>
public sealed class VmNotFoundException(string name) : Exception($"no VM named '{name}' is defined")
{
    public string Name { get; } = name;
}
