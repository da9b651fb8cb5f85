namespace Vessel.Networking;

public enum ForwardProtocol
{
    Tcp,
    Udp,
}
