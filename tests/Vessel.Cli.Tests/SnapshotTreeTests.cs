using Vessel.Cli.Commands;

namespace Vessel.Cli.Tests;

public sealed class SnapshotTreeTests
{
    private static IReadOnlyList<(string Name, int Depth)> Order(params (string Name, string? Parent)[] items) =>
        [.. SnapshotTree.Order(items, i => i.Name, i => i.Parent).Select(o => (o.Item.Name, o.Depth))];

    [Fact]
    public void ChildrenFollowTheirParentIndentedInCreationOrder()
    {
        // s1 -> s2 -> s4, and s3 branched from s1 after a revert to it.
        var ordered = Order(("s1", null), ("s2", "s1"), ("s3", "s1"), ("s4", "s2"));
        Assert.Equal([("s1", 0), ("s2", 1), ("s4", 2), ("s3", 1)], ordered);
    }

    [Fact]
    public void SeveralRootsKeepTheirOrder()
    {
        Assert.Equal([("a", 0), ("a1", 1), ("b", 0)], Order(("a", null), ("b", null), ("a1", "a")));
    }

    [Fact]
    public void AMissingParentMakesARootAndNothingIsDropped()
    {
        Assert.Equal([("x", 0), ("y", 1)], Order(("x", "gone"), ("y", "x")));
    }

    [Fact]
    public void ACycleIsStillListedOnce()
    {
        var ordered = Order(("p", "q"), ("q", "p"));
        Assert.Equal(["p", "q"], ordered.Select(o => o.Name).Order());
    }

    [Fact]
    public void ADeepChainDoesNotRecurse()
    {
        var items = Enumerable.Range(0, 100_000).Select(i => ($"s{i}", i == 0 ? null : $"s{i - 1}")).ToArray();
        var ordered = SnapshotTree.Order(items, i => i.Item1, i => i.Item2);
        Assert.Equal(99_999, ordered[^1].Depth);
    }
}
