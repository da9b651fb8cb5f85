using System.Security.Cryptography;
using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-rng (virtio 1.2 §5.4): fills every device-writable buffer the driver offers with bytes from the host's
/// CSPRNG, so the guest's entropy pool (and /dev/hwrng) is seeded at boot without waiting for timer jitter.
/// </summary>
public sealed class VirtioEntropy(GuestMemory memory) : IVirtioDevice
{
    public const uint EntropyDeviceId = 4;

    /// <summary>Largest request served at once; Linux asks for at most a page or so.</summary>
    private const uint MaxRequest = 64 << 10;

    public uint DeviceId => EntropyDeviceId;

    public ulong Features => VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

    public int QueueCount => 1;

    public int QueueMaxSize => 64;

    public ReadOnlySpan<byte> Config => [];

    /// <summary>Random bytes handed to the guest, for statistics.</summary>
    public ulong BytesServed { get; private set; }

    public void Activate(ulong negotiatedFeatures)
    {
    }

    public void Reset()
    {
    }

    public bool ProcessQueue(int index, Virtqueue queue)
    {
        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            uint written = 0;
            foreach (var segment in chain)
            {
                // §5.4.6.1: the device only writes; a device-readable buffer in the request is a driver error.
                if (!segment.DeviceWritable)
                {
                    throw new VirtqueueException("virtio-rng request has a device-readable buffer");
                }

                uint length = Math.Min(segment.Length, MaxRequest - written);
                if (length == 0)
                {
                    break;
                }

                if (!memory.TryGetSpan(segment.Address, (int)length, out var span))
                {
                    throw new VirtqueueException($"buffer 0x{segment.Address:x}+0x{length:x} is outside guest RAM");
                }

                RandomNumberGenerator.Fill(span);
                written += length;
            }

            queue.Push(head, written);
            BytesServed += written;
            any = true;
        }

        return any;
    }
}
