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
    public static async Task<JsonElement?> SendAsync(string socketPath, string command, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] request = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { command }, Json) + "\n");
            await stream.WriteAsync(request, cts.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string? line = await reader.ReadLineAsync(cts.Token);
            if (line is null)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True ? doc.RootElement.Clone() : null;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }
}
