using System.Buffers.Binary;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>virtio-balloon (virtio 1.2 §5.5) behind the MMIO transport, driven by a fake guest.</summary>
public sealed class VirtioBalloonTests : IDisposable
{
    /// <summary>Pages from here on are free for ballooning (the test driver's rings and buffers sit below).</summary>
    private const ulong FreeArea = VirtioTestDriver.Ram + 0x38_0000;

    private readonly VirtioTestDriver _driver = new(m => new VirtioBalloon(m), queues: 2);

    public void Dispose() => _driver.Dispose();

    private VirtioBalloon Balloon => (VirtioBalloon)_driver.Device;

    /// <summary>Writes <paramref name="pfns"/> as le32 into a buffer of queue <paramref name="queue"/> and posts it.</summary>
    private void PostPfns(int queue, params uint[] pfns)
    {
        ulong buffer = VirtioTestDriver.Buffer(queue, 0);
        var span = _driver.Memory.GetSpan(buffer, 4 * pfns.Length);
        for (int i = 0; i < pfns.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[(4 * i)..], pfns[i]);
        }

        _driver.Post(queue, [(buffer, (uint)(4 * pfns.Length), false)]);
    }

    private static uint Pfn(ulong address) => (uint)(address >> 12);

    [Fact]
    public void IdentifiesAsABalloonWithAnEightByteConfig()
    {
        Assert.Equal(5u, _driver.Reg(0x008));
        Assert.Equal(8, Balloon.Config.Length);
        Assert.Equal(0UL, _driver.OfferedFeatures() & 0xFF); // no STATS_VQ or other optional queues
    }

    [Fact]
    public void NewTargetRaisesAConfigChangeInterruptAndShowsInNumPages()
    {
        _driver.Initialize();
        uint generation = _driver.Reg(0x0FC);
        Assert.True(Balloon.TrySetTargetPages(300));
        Assert.True(_driver.Irq.Level);
        Assert.Equal(2u, _driver.Reg(0x060) & 2);
        Assert.NotEqual(generation, _driver.Reg(0x0FC));
        Assert.Equal(300u, _driver.Reg(0x100));
        Assert.False(Balloon.TrySetTargetPages((4 << 20 >> 12) + 1));
        Assert.Equal(300u, _driver.Reg(0x100)); // a refused target changes nothing
    }

    [Fact]
    public void DriverWritesActualButNotNumPages()
    {
        _driver.Initialize();
        Assert.True(Balloon.TrySetTargetPages(10));
        _driver.Set(0x104, 7);
        _driver.Set(0x100, 99);
        Assert.Equal(7u, Balloon.ActualPages);
        Assert.Equal(10u, Balloon.TargetPages);
        Assert.Equal(7u, _driver.Reg(0x104));
    }

    [Fact]
    public void InflateReleasesThePagesSoTheyReadAsZero()
    {
        _driver.Initialize();
        var pages = _driver.Memory.GetSpan(FreeArea, 4 * 4096);
        pages.Fill(0xAB);
        // Out of order, with a gap: runs 0-1 and 3, and page 2 is kept.
        PostPfns(0, Pfn(FreeArea + 4096), Pfn(FreeArea + (3 * 4096)), Pfn(FreeArea));
        Assert.Single(_driver.TakeUsed(0));
        Assert.Equal(3UL, Balloon.InflatedPages);
        Assert.Equal(0UL, Balloon.InvalidPfns);
        if (OperatingSystem.IsLinux() && Environment.SystemPageSize == 4096)
        {
            Assert.Equal(3UL * 4096, Balloon.ReleasedBytes);
            Assert.False(pages[..(2 * 4096)].ContainsAnyExcept((byte)0));
            Assert.False(pages[(2 * 4096)..(3 * 4096)].ContainsAnyExcept((byte)0xAB));
            Assert.False(pages[(3 * 4096)..].ContainsAnyExcept((byte)0));
        }
    }

    [Fact]
    public void PfnsOutsideRamAreCountedAndIgnored()
    {
        _driver.Initialize();
        _driver.Memory.GetSpan(FreeArea, 4096).Fill(1);
        PostPfns(0, 0, Pfn(VirtioTestDriver.Ram) - 1, Pfn(VirtioTestDriver.Ram + (4 << 20)), uint.MaxValue, Pfn(FreeArea));
        Assert.Single(_driver.TakeUsed(0));
        Assert.False(_driver.NeedsReset);
        Assert.Equal(4UL, Balloon.InvalidPfns);
        Assert.Equal(1UL, Balloon.InflatedPages);

        PostPfns(1, Pfn(FreeArea), 5);
        Assert.Single(_driver.TakeUsed(1));
        Assert.Equal(1UL, Balloon.DeflatedPages);
        Assert.Equal(5UL, Balloon.InvalidPfns);
    }

    [Fact]
    public void DeflateLeavesMemoryAlone()
    {
        _driver.Initialize();
        _driver.Memory.GetSpan(FreeArea, 4096).Fill(7);
        PostPfns(1, Pfn(FreeArea));
        Assert.Single(_driver.TakeUsed(1));
        Assert.False(_driver.Memory.GetSpan(FreeArea, 4096).ContainsAnyExcept((byte)7));
    }

    [Fact]
    public void WritablePfnBufferPutsTheDeviceIntoNeedsReset()
    {
        _driver.Initialize();
        _driver.Post(0, [(VirtioTestDriver.Buffer(0, 0), 4, true)]);
        Assert.True(_driver.NeedsReset);
        Assert.Empty(_driver.TakeUsed(0));
    }

    [Fact]
    public void PfnBufferOutsideRamPutsTheDeviceIntoNeedsReset()
    {
        _driver.Initialize();
        _driver.Post(0, [(0x1000, 16, false)]);
        Assert.True(_driver.NeedsReset);
        Assert.Equal(0UL, Balloon.InflatedPages);
    }

    [Fact]
    public void DriverResetEmptiesTheBalloonButKeepsTheTarget()
    {
        _driver.Initialize();
        Assert.True(Balloon.TrySetTargetPages(64));
        _driver.Set(0x104, 64);
        _driver.Set(0x070, 0);
        Assert.Equal(0u, Balloon.ActualPages);
        Assert.Equal(64u, Balloon.TargetPages);
    }

    [Fact]
    public void StateSurvivesSaveAndLoad()
    {
        _driver.Initialize();
        Assert.True(Balloon.TrySetTargetPages(123));
        _driver.Set(0x104, 45);
        PostPfns(0, Pfn(FreeArea), 1);
        var writer = new StateWriter();
        _driver.Transport.SaveState(writer);

        using var copy = new VirtioTestDriver(m => new VirtioBalloon(m), queues: 2);
        var reader = new StateReader(writer.ToArray());
        copy.Transport.LoadState(reader);
        Assert.True(reader.AtEnd);
        var restored = (VirtioBalloon)copy.Device;
        Assert.Equal(123u, restored.TargetPages);
        Assert.Equal(45u, restored.ActualPages);
        Assert.Equal(1UL, restored.InflatedPages);
        Assert.Equal(1UL, restored.InvalidPfns);
    }
}
