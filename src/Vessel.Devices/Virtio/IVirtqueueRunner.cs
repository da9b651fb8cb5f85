namespace Vessel.Devices.Virtio;

/// <summary>
/// What a device's own threads use to get a queue processed outside a driver notification, for example when a
/// frame arrives for virtio-net's receive queue or console input for virtio-console (virtio 1.2 §2.7.13: the
/// device may use buffers whenever it has them). Thread-safe and non-blocking.
/// </summary>
public interface IVirtqueueRunner
{
    void RunQueue(int index);

    /// <summary>Raises a configuration-change interrupt after the device changed its config space (§2.5.1).</summary>
    void SignalConfigChange();
}
