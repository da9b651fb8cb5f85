using Vessel.Networking;

namespace Vessel.Machine;

/// <summary>Opens the host side of a NIC from its backend text (see <see cref="NetworkInterfaceConfiguration"/>).</summary>
public static class NetworkBackends
{
    /// <summary>Opens the port; throws <see cref="NetworkConfigurationException"/> with a message for the user.</summary>
    public static IEthernetPort Open(string backend)
    {
        string kind = backend.Split(',', ':')[0];
        return kind switch
        {
            "user" => new UserNetwork(UserNetworkOptions.Parse(backend)),
            _ => throw new NetworkConfigurationException($"network backend '{backend}' is not available in this build"),
        };
    }
}
