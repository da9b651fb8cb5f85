namespace Vessel.Hosting;

/// <summary>A VM definition is invalid; <see cref="Errors"/> maps each bad field to what is wrong with it.</summary>
public sealed class VmValidationException(IReadOnlyDictionary<string, string[]> errors)
    : Exception("the VM definition is invalid: " + string.Join("; ", errors.SelectMany(e => e.Value)))
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
