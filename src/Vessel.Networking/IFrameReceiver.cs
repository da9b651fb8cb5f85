namespace Vessel.Networking;

/// <summary>The NIC side of a link: takes frames travelling toward the guest (may drop them if the guest has no buffers).</summary>
public interface IFrameReceiver
{
    void Receive(ReadOnlySpan<byte> frame);
}
