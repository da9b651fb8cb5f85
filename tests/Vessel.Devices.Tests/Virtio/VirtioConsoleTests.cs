using System.Text;
using Vessel.Devices.Virtio;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>virtio-console single port (virtio 1.2 §5.3): receiveq 0 carries host input, transmitq 1 guest output.</summary>
public sealed class VirtioConsoleTests : IDisposable
{
    private readonly List<byte> _output = [];
    private readonly VirtioTestDriver _driver;

    public VirtioConsoleTests()
    {
        _driver = new VirtioTestDriver(m => new VirtioConsole(m, data => _output.AddRange(data.ToArray())), queues: 2);
    }

    private VirtioConsole Console => (VirtioConsole)_driver.Device;

    public void Dispose() => _driver.Dispose();

    [Fact]
    public void GuestOutputReachesTheHandler()
    {
        _driver.Initialize();
        ulong a = VirtioTestDriver.Buffer(1, 0), b = VirtioTestDriver.Buffer(1, 1);
        Encoding.ASCII.GetBytes("hello ").CopyTo(_driver.Memory.GetSpan(a, 6));
        Encoding.ASCII.GetBytes("host").CopyTo(_driver.Memory.GetSpan(b, 4));
        _driver.Post(1, [(a, 6, false), (b, 4, false)]);
        Assert.Equal("hello host", Encoding.ASCII.GetString([.. _output]));
        Assert.Single(_driver.TakeUsed(1));
    }

    [Fact]
    public void InputWaitsForBuffersThenArrivesInOrder()
    {
        _driver.Initialize();
        Assert.True(Console.TryEnqueueInput("abcdef"u8));
        Assert.Empty(_driver.TakeUsed(0));
        ulong a = VirtioTestDriver.Buffer(0, 0), b = VirtioTestDriver.Buffer(0, 1);
        _driver.Post(0, [(a, 4, true)]);
        var first = Assert.Single(_driver.TakeUsed(0));
        Assert.Equal(4u, first.Length);
        Assert.Equal("abcd", Encoding.ASCII.GetString(_driver.Memory.GetSpan(a, 4)));
        _driver.Post(0, [(b, 64, true)]);
        Assert.Equal(2u, Assert.Single(_driver.TakeUsed(0)).Length);
        Assert.Equal("ef", Encoding.ASCII.GetString(_driver.Memory.GetSpan(b, 2)));

        // With a buffer already posted, input is delivered at once from the caller's thread.
        _driver.Post(0, [(a, 64, true)]);
        Assert.Empty(_driver.TakeUsed(0));
        var writer = new Thread(() => Console.TryEnqueueInput("xyz"u8));
        writer.Start();
        writer.Join();
        Assert.Equal(3u, Assert.Single(_driver.TakeUsed(0)).Length);
        Assert.Equal("xyz", Encoding.ASCII.GetString(_driver.Memory.GetSpan(a, 3)));
    }

    [Fact]
    public void FullBacklogRefusesInputWithoutLosingWhatIsQueued()
    {
        _driver.Initialize();
        byte[] block = new byte[VirtioConsole.InputBacklogLimit - 1];
        Assert.True(Console.TryEnqueueInput(block));
        Assert.False(Console.TryEnqueueInput("ab"u8));
        Assert.True(Console.TryEnqueueInput("c"u8));
    }

    [Fact]
    public void WritableTransmitBufferPutsTheDeviceIntoNeedsReset()
    {
        _driver.Initialize();
        _driver.Post(1, [(VirtioTestDriver.Buffer(1, 0), 8, true)]);
        Assert.True(_driver.NeedsReset);
    }
}
