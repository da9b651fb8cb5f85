namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// The guest agent could not run a request: it did not answer in time (<see cref="NotAnswering"/>: the guest is still
/// booting, has no agent, or is hung), or it refused the request or answered with something malformed.
/// </summary>
public sealed class GuestAgentException(string message, bool notAnswering = false) : Exception(message)
{
    public bool NotAnswering { get; } = notAnswering;
}
