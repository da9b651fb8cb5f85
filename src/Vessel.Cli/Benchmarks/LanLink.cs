namespace Vessel.Cli.Benchmarks;

/// <summary>
/// A NIC on a private two-VM LAN. Vessel joins the L2 switch <see cref="SwitchName"/> (<c>--net switch:NAME</c>);
/// QEMU 7.2 sends each frame as one UDP datagram from <see cref="LocalPort"/> to the peer's <see cref="PeerPort"/> on
/// loopback (<c>-netdev socket,udp=…,localaddr=…</c>), which, unlike listen/connect, needs no start order.
/// </summary>
public sealed record LanLink(string SwitchName, int LocalPort, int PeerPort, string Mac);
