using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vessel.Hosting;

/// <summary>
/// Talks to a worker's control socket: one JSON object per line each way (<c>{"command":"status"}</c>,
/// <c>{"command":"stop"}</c>). Every call has a timeout, so a hung worker cannot hang the supervisor.
/// </summary>
public static class WorkerControlClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<bool> PauseAsync(string socketPath, TimeSpan timeout) => await SendAsync(socketPath, "pause", timeout) is not null;

    public static async Task<bool> ResumeAsync(string socketPath, TimeSpan timeout) => await SendAsync(socketPath, "resume", timeout) is not null;

    /// <summary>Pauses the VM, writes its state to <paramref name="statePath"/> and snapshots its disks as <paramref name="id"/>; the error text on failure.</summary>
    public static async Task<string?> SnapshotAsync(string socketPath, string id, string statePath, TimeSpan timeout) =>
        ErrorOf(await SendRequestAsync(socketPath, new { command = "snapshot", id, path = statePath }, timeout));

    /// <summary>Drops internal snapshot <paramref name="id"/> from the running VM's disks; the error text on failure.</summary>
    public static async Task<string?> DeleteSnapshotAsync(string socketPath, string id, TimeSpan timeout) =>
        ErrorOf(await SendRequestAsync(socketPath, new { command = "delete-snapshot", id }, timeout));

    /// <summary>Sets the VM's balloon target to <paramref name="targetPages"/> 4 KiB pages; the error text on failure.</summary>
    public static async Task<string?> SetBalloonAsync(string socketPath, ulong targetPages, TimeSpan timeout) =>
        ErrorOf(await SendRequestAsync(socketPath, new { command = "balloon", targetPages }, timeout));

    private static string? ErrorOf(JsonElement? reply) => reply is not { } r
        ? "the VM's worker did not answer"
        : r.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True
            ? null
            : r.TryGetProperty("error", out var e) ? e.GetString() : "the worker refused without saying why";

    public static async Task<WorkerStatus?> StatusAsync(string socketPath, TimeSpan timeout)
    {
        var reply = await SendAsync(socketPath, "status", timeout);
        return reply is { } r && r.TryGetProperty("status", out var status) ? status.Deserialize<WorkerStatus>(Json) : null;
    }

    public static async Task<WorkerStatistics?> StatisticsAsync(string socketPath, TimeSpan timeout)
    {
        var reply = await SendAsync(socketPath, "stats", timeout);
        return reply is { } r && r.TryGetProperty("stats", out var stats) ? stats.Deserialize<WorkerStatistics>(Json) : null;
    }

    public static async Task<bool> StopAsync(string socketPath, TimeSpan timeout) => await SendAsync(socketPath, "stop", timeout) is not null;

    /// <summary>Sends one command; null when the worker does not answer in time or cannot be reached.</summary>
    public static Task<JsonElement?> SendAsync(string socketPath, string command, TimeSpan timeout) =>
        SendOkAsync(socketPath, new { command }, timeout);

    /// <summary>Sends a command with arguments (e.g. <c>{"command":"snapshot","id":…}</c>); returns the whole reply, ok or not.</summary>
    public static async Task<JsonElement?> SendRequestAsync(string socketPath, object request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, Json) + "\n");
            await stream.WriteAsync(bytes, cts.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string? line = await reader.ReadLineAsync(cts.Token);
            if (line is null)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    private static async Task<JsonElement?> SendOkAsync(string socketPath, object request, TimeSpan timeout)
    {
        if (await SendRequestAsync(socketPath, request, timeout) is { } reply
            && reply.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
        {
            return reply;
        }

        return null;
    }
}
