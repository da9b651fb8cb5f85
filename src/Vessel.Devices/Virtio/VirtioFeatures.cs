namespace Vessel.Devices.Virtio;

/// <summary>Device-independent feature bits (virtio 1.2 §6).</summary>
public static class VirtioFeatures
{
    public const ulong RingIndirectDescriptors = 1UL << 28;
    public const ulong RingEventIndex = 1UL << 29;
    public const ulong Version1 = 1UL << 32;
}
