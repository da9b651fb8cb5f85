using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

public sealed class VmSnapshotStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-snapstore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Db => Path.Combine(_dir, "vessel.db");

    [Fact]
    public void SnapshotsFormATreeThroughTheCurrentOneAndSurviveReopening()
    {
        using (var store = new VmSnapshotStore(Db))
        {
            store.Add("vm", "s1", "first");
            store.Add("vm", "s2", "second");
            store.SetCurrent("vm", "s1");
            store.Add("vm", "s3", "branch");
            store.Add("other", "s1", "another VM");
        }

        using var reopened = new VmSnapshotStore(Db);
        var list = reopened.List("vm");
        Assert.Equal(["s1", "s2", "s3"], list.Select(s => s.Name));
        Assert.Null(list[0].Parent);
        Assert.Equal("s1", list[1].Parent);
        Assert.Equal("s1", list[2].Parent);
        Assert.Equal("s3", Assert.Single(list, s => s.Current).Name);
        Assert.Equal("first", list[0].Description);
        Assert.Single(reopened.List("other"));
    }

    [Fact]
    public void DeletingReparentsChildrenAndMovesCurrentToTheParent()
    {
        using var store = new VmSnapshotStore(Db);
        store.Add("vm", "s1", "");
        store.Add("vm", "s2", "");
        store.Add("vm", "s3", "");
        store.Remove("vm", "s2");
        var list = store.List("vm");
        Assert.Equal(["s1", "s3"], list.Select(s => s.Name));
        Assert.Equal("s1", list[1].Parent);
        store.Remove("vm", "s3");
        Assert.True(Assert.Single(store.List("vm")).Current);
    }

    [Fact]
    public void ADuplicateNameIsAConflict()
    {
        using var store = new VmSnapshotStore(Db);
        store.Add("vm", "s1", "");
        var e = Assert.Throws<VmConflictException>(() => store.Add("vm", "s1", ""));
        Assert.Contains("already has a snapshot named 's1'", e.Message);
        Assert.Single(store.List("vm"));
    }
}
