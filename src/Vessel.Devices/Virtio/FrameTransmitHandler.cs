namespace Vessel.Devices.Virtio;

/// <summary>Takes an Ethernet frame (no FCS) the guest sent, on the sending hart's thread; copy what you keep.</summary>
public delegate void FrameTransmitHandler(ReadOnlySpan<byte> frame);
