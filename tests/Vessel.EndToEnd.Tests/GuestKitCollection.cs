namespace Vessel.EndToEnd.Tests;

/// <summary>Guest boots run one at a time: the machine has two cores and each VM wants them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GuestKitCollection
{
    public const string Name = "guest kit";
}
