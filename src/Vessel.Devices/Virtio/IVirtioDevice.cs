using Vessel.Machine.Abstractions.State;
namespace Vessel.Devices.Virtio;

/// <summary>A virtio device type behind the MMIO transport (virtio 1.2 ch. 5): its ID, features, queues and config.</summary>
public interface IVirtioDevice
{
    uint DeviceId { get; }

    /// <summary>Device-specific and transport feature bits offered (VIRTIO_F_VERSION_1 is added by the transport).</summary>
    ulong Features { get; }

    int QueueCount { get; }

    int QueueMaxSize { get; }

    /// <summary>The device configuration space (little-endian struct).</summary>
    ReadOnlySpan<byte> Config { get; }

    /// <summary>Called when the driver accepted features and set DRIVER_OK.</summary>
    void Activate(ulong negotiatedFeatures);

    /// <summary>Handles every available chain of queue <paramref name="index"/>; returns true if any was used.</summary>
    bool ProcessQueue(int index, Virtqueue queue);

    void Reset();

    /// <summary>
    /// A driver write of <paramref name="data"/> at <paramref name="offset"/> in the config space; devices without
    /// driver-writable fields ignore it (§4.2.2.2: the driver writes only fields it may write).
    /// </summary>
    void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    /// <summary>Gives the device its transport, for devices that have input of their own (network, console).</summary>
    void Connect(IVirtqueueRunner runner)
    {
    }

    /// <summary>Writes the device's own state (beyond what the transport holds); a stateless device writes nothing.</summary>
    void SaveState(StateWriter writer)
    {
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote; runs after the transport re-activated the device.</summary>
    void LoadState(StateReader reader)
    {
    }
}
