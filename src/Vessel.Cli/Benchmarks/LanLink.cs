namespace Vessel.Cli.Benchmarks;

/// <summary>
/// A NIC on a private two-VM LAN. Vessel joins the L2 switch <see cref="SwitchName"/> (<c>--net switch:NAME</c>);
/// QEMU 7.2 sends each frame as one UDP datagram from <see cref="LocalPort"/> to the peer's <see cref="PeerPort"/> on
/// loopback (<c>-netdev dgram</c>), which, unlike stream listen/connect, needs no start order. (QEMU 7.2's older
/// <c>-netdev socket,udp=…,localaddr=…</c> passed no frames between two VMs when tried.)
/// </summary>
public sealed record LanLink(string SwitchName, int LocalPort, int PeerPort, string Mac);
