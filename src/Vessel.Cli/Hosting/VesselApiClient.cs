using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vessel.Cli.Hosting;

/// <summary>Talks to <c>vessel serve</c> over its Unix socket (HttpClient with a ConnectCallback to the socket).</summary>
public sealed class VesselApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _socketPath;

    public VesselApiClient(string stateDirectory)
    {
        _socketPath = Path.Combine(stateDirectory, "vessel.sock");
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://vessel/"), Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>How long a request may take (2 minutes unless a command that waits longer, like exec, sets it before its first request).</summary>
    public TimeSpan Timeout
    {
        get => _http.Timeout;
        set => _http.Timeout = value;
    }

    /// <summary>Sends a request; returns the response body (JSON text, maybe empty) or throws with the problem's detail.</summary>
    public async Task<string> SendAsync(HttpMethod method, string path, object? body = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new VesselApiException($"cannot reach the supervisor at {_socketPath} ({e.Message}); is 'vessel serve' running?");
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            throw new VesselApiException(ProblemText(text, (int)response.StatusCode));
        }
    }

    public async Task<JsonElement> GetJsonAsync(HttpMethod method, string path, object? body = null)
    {
        string text = await SendAsync(method, path, body);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string ProblemText(string body, int status)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var text = new StringBuilder(root.TryGetProperty("detail", out var d) ? d.GetString() : root.TryGetProperty("title", out var t) ? t.GetString() : $"HTTP {status}");
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                text.Clear();
                foreach (var field in errors.EnumerateObject())
                {
                    foreach (var message in field.Value.EnumerateArray())
                    {
                        text.Append(text.Length > 0 ? "\n" : string.Empty).Append(field.Name).Append(": ").Append(message.GetString());
                    }
                }
            }

            return text.ToString();
        }
        catch (JsonException)
        {
            return $"HTTP {status}: {body}";
        }
    }

    public void Dispose() => _http.Dispose();
}
