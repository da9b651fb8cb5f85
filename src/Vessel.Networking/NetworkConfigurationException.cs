namespace Vessel.Networking;

/// <summary>A network specification (for example <c>user,hostfwd=...</c>) is malformed, or a port cannot be opened.</summary>
public sealed class NetworkConfigurationException : Exception
{
    public NetworkConfigurationException(string message)
        : base(message)
    {
    }

    public NetworkConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
