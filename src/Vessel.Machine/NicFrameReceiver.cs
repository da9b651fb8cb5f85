using Vessel.Devices.Virtio;
using Vessel.Networking;

namespace Vessel.Machine;

/// <summary>Connects a network port's output to a virtio-net device's receive queue.</summary>
internal sealed class NicFrameReceiver(VirtioNetwork nic) : IFrameReceiver
{
    public void Receive(ReadOnlySpan<byte> frame) => nic.TryReceive(frame);
}
