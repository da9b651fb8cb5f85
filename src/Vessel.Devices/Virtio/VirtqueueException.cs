namespace Vessel.Devices.Virtio;

/// <summary>The driver broke the virtqueue rules (bad address, loop, wrong lengths): the device needs a reset.</summary>
public sealed class VirtqueueException(string message) : Exception(message);
