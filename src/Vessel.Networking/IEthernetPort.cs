namespace Vessel.Networking;

/// <summary>
/// One end of a virtual Ethernet link. The NIC calls <see cref="Send"/> with each frame the guest transmits
/// (Ethernet II, no FCS); the port copies what it keeps and never throws for a malformed frame — it counts and
/// drops it. The port delivers frames toward the guest by calling the receiver set with <see cref="Attach"/>,
/// from any thread.
/// </summary>
public interface IEthernetPort : IDisposable
{
    /// <summary>Sets the receiver of frames travelling toward the guest (replaces any earlier one).</summary>
    void Attach(IFrameReceiver receiver);

    /// <summary>Hands over one frame the guest transmitted.</summary>
    void Send(ReadOnlySpan<byte> frame);
}
