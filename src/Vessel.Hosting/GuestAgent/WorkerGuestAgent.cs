using System.Text.Json;
using Vessel.Machine;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// The worker's end of the guest agent: connects each boot's virtio-console port to a <see cref="GuestAgentClient"/>
/// and serves the control socket's <c>exec</c> and <c>agent-ping</c> commands (one JSON object per line:
/// <c>{"command":"exec","request":{VmExecRequest}}</c> → <c>{"ok":true,"exec":{VmExecResponse}}</c>, or
/// <c>{"ok":false,"error":"…","notAnswering":true|false}</c>).
/// </summary>
public sealed class WorkerGuestAgent
{
    /// <summary>Longest control request line: an exec with 1 MiB of stdin, JSON-escaped, fits.</summary>
    public const int MaxControlRequestChars = 8 << 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly VirtioConsoleAgentTransport _transport = new();
    private readonly GuestAgentClient _client;

    public WorkerGuestAgent()
    {
        _client = new GuestAgentClient(_transport.SendAsync);
    }

    /// <summary>Connects a freshly built machine (every boot) to the agent client.</summary>
    public void Attach(VirtMachine machine)
    {
        machine.VirtioConsoleOutput = _client.OnGuestOutput;
        _transport.Port = machine.VirtioConsole;
    }

    /// <summary>The reply to an agent control command, or null when <paramref name="line"/> is not one.</summary>
    public Task<string>? TryHandle(string line)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(line);
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("command", out var command) || command.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return command.GetString() switch
        {
            "exec" => ExecAsync(root),
            "agent-ping" => PingAsync(),
            _ => null,
        };
    }

    private async Task<string> ExecAsync(JsonElement root)
    {
        try
        {
            var request = (root.TryGetProperty("request", out var r) ? r.Deserialize<VmExecRequest>(Json) : null)
                ?? throw new GuestAgentException("exec without a request");
            var result = await _client.ExecAsync(request.ToAgentRequest(), CancellationToken.None);
            return JsonSerializer.Serialize(new { ok = true, exec = VmExecResponse.From(result) }, Json);
        }
        catch (GuestAgentException e)
        {
            return JsonSerializer.Serialize(new { ok = false, error = e.Message, notAnswering = e.NotAnswering }, Json);
        }
        catch (Exception e) when (e is JsonException or VmValidationException or ArgumentException)
        {
            return JsonSerializer.Serialize(new { ok = false, error = e.Message, notAnswering = false }, Json);
        }
    }

    private async Task<string> PingAsync()
    {
        try
        {
            string version = await _client.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            return JsonSerializer.Serialize(new { ok = true, version }, Json);
        }
        catch (GuestAgentException e)
        {
            return JsonSerializer.Serialize(new { ok = false, error = e.Message, notAnswering = e.NotAnswering }, Json);
        }
    }
}
