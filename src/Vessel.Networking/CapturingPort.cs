namespace Vessel.Networking;

/// <summary>Decorates a port so every frame in both directions is also written to a pcap capture (<c>--pcap FILE</c>).</summary>
public sealed class CapturingPort : IEthernetPort
{
    private readonly IEthernetPort inner;
    private readonly PcapWriter writer;
    private readonly bool ownsWriter;

    public CapturingPort(IEthernetPort inner, PcapWriter writer, bool ownsWriter = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(writer);
        this.inner = inner;
        this.writer = writer;
        this.ownsWriter = ownsWriter;
    }

    public void Attach(IFrameReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        inner.Attach(new CapturingReceiver(receiver, writer));
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        writer.Write(frame);
        inner.Send(frame);
    }

    public void Dispose()
    {
        inner.Dispose();
        if (ownsWriter)
        {
            writer.Dispose();
        }
    }

    private sealed class CapturingReceiver(IFrameReceiver target, PcapWriter writer) : IFrameReceiver
    {
        public void Receive(ReadOnlySpan<byte> frame)
        {
            writer.Write(frame);
            target.Receive(frame);
        }
    }
}
