using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Vessel.Hosting.GuestAgent;

namespace Vessel.Hosting;

/// <summary>
/// <c>vessel vm exec</c>: the supervisor hands the request to the VM's worker on its control socket, and the worker
/// to the guest agent over the VM's virtio-console port (<see cref="WorkerGuestAgent"/>).
/// </summary>
public sealed partial class VmSupervisor
{
    /// <summary>
    /// Runs a command in a running VM's guest. Throws <see cref="VmValidationException"/> for a bad request,
    /// <see cref="VmConflictException"/> when the VM is not running, <see cref="GuestAgentException"/> when the agent
    /// does not answer in time or refuses.
    /// </summary>
    public async Task<VmExecResponse> ExecAsync(string name, VmExecRequest request, CancellationToken cancellationToken)
    {
        Registry.Get(name);
        var agentRequest = request.ToAgentRequest();
        var runtime = Runtime(name);
        if (runtime.State is not (VmState.Running or VmState.Starting))
        {
            throw new VmConflictException($"VM '{name}' is not running (it is {runtime.State.ToString().ToLowerInvariant()}); start it first");
        }

        // The worker answers within the command's timeout plus the agent's grace; allow a little more for the hop.
        var budget = agentRequest.Timeout + GuestAgentClient.ReplyGrace + TimeSpan.FromSeconds(5);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(budget);
        string line = JsonSerializer.Serialize(new { command = "exec", request }, Json);
        JsonElement reply;
        try
        {
            reply = await SendControlLineAsync(Paths(name).ControlSocket, line, cts.Token);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new GuestAgentException($"VM '{name}': its worker did not answer the exec request ({e.Message})", notAnswering: true);
        }

        if (reply.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True && reply.TryGetProperty("exec", out var exec))
        {
            return exec.Deserialize<VmExecResponse>(Json) ?? throw new GuestAgentException($"VM '{name}': empty exec result from the worker");
        }

        string error = reply.TryGetProperty("error", out var e2) ? e2.GetString() ?? "unknown error" : "unknown error";
        bool notAnswering = reply.TryGetProperty("notAnswering", out var na) && na.ValueKind == JsonValueKind.True;
        throw new GuestAgentException($"VM '{name}': {error}", notAnswering);
    }

    /// <summary>One request line to a worker and its one reply line, retrying the connection while a worker starts.</summary>
    private static async Task<JsonElement> SendControlLineAsync(string socketPath, string line, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            }
            catch (SocketException)
            {
                await Task.Delay(250, cancellationToken);
                continue;
            }

            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string reply = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("the worker closed the control connection");
            using var doc = JsonDocument.Parse(reply);
            return doc.RootElement.Clone();
        }
    }
}
