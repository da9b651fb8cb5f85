namespace Vessel.Networking;

/// <summary>Identifies a TCP connection or UDP flow of the guest: its address and port, and the remote it talks to as the guest sees it.</summary>
internal readonly record struct FlowKey(uint GuestAddress, ushort GuestPort, uint RemoteAddress, ushort RemotePort);
