using System.Net;

namespace Vessel.Api;

/// <summary>Where <c>vessel serve</c> keeps state and listens: always its Unix socket, and TCP when <see cref="Listen"/> is set.</summary>
public sealed record ApiServerOptions(string StateDirectory, IPEndPoint? Listen, IReadOnlyList<string> WorkerCommand)
{
    public string SocketPath => Path.Combine(StateDirectory, "vessel.sock");
}
