using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Vessel.Api.Tests;

/// <summary>
/// The dashboard's side of the API (issue 7): its page and bundle, the cookie session that TCP browsers use instead of
/// the bearer header (and only from the dashboard's own origin), recent events, the live stream, the console
/// WebSocket's refusals, and the VM actions the UI offers on a VM that is not running.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DashboardApiTests
{
    [Fact]
    public async Task PageAndBundleAreServedWithoutCredentials()
    {
        await using var api = await RunningApi.StartAsync();
        var page = await api.Tcp.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("src=\"/app.js\"", html);
        Assert.Contains("href=\"/app.css\"", html);

        var script = await api.Tcp.GetAsync("/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        string js = await script.Content.ReadAsStringAsync();
        Assert.Contains("/console/ws", js); // the bundle holds the dashboard's own code
        Assert.Contains("xterm", js); // and xterm.js, bundled rather than fetched from a CDN
        Assert.Equal(HttpStatusCode.OK, (await api.Tcp.GetAsync("/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Tcp.GetAsync("/api/vms")).StatusCode);
    }

    [Fact]
    public async Task WrongTokenGetsNoSession()
    {
        await using var api = await RunningApi.StartAsync();
        var response = await api.Tcp.PostAsJsonAsync("/dashboard/session", new { token = new string('0', 64) });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("not the API token", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task SessionCookieIsHttpOnlyStrictAndHonouredOnlyFromTheDashboardsOrigin()
    {
        await using var api = await RunningApi.StartAsync();
        string token = (await File.ReadAllTextAsync(Path.Combine(api.StateDirectory, ApiToken.FileName))).Trim();
        var response = await api.Tcp.PostAsJsonAsync("/dashboard/session", new { token });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        string cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(token, cookie); // the cookie is derived from the token, not the token itself
        string pair = cookie.Split(';')[0];
        using var cookieless = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = api.Tcp.BaseAddress };

        async Task<HttpStatusCode> GetVmsAsync(params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/vms");
            request.Headers.Add("Cookie", pair);
            foreach (var (name, value) in headers)
            {
                request.Headers.Add(name, value);
            }

            return (await cookieless.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await GetVmsAsync(("Sec-Fetch-Site", "same-origin")));
        Assert.Equal(HttpStatusCode.OK, await GetVmsAsync(("Origin", $"http://127.0.0.1:{api.Port}")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetVmsAsync()); // a tool replaying the cookie
        Assert.Equal(HttpStatusCode.Unauthorized, await GetVmsAsync(("Sec-Fetch-Site", "cross-site")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetVmsAsync(("Origin", "http://evil.example")));

        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/vms");
        forged.Headers.Add("Cookie", "vessel_dashboard=" + new string('a', 64));
        forged.Headers.Add("Sec-Fetch-Site", "same-origin");
        Assert.Equal(HttpStatusCode.Unauthorized, (await cookieless.SendAsync(forged)).StatusCode);
    }

    [Fact]
    public async Task RecentEventsSpanAllVmsNewestFirst()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "one" });
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "two" });
        var events = await api.Unix.GetFromJsonAsync<JsonElement>("api/events?limit=10");
        Assert.Equal(["two", "one"], events.EnumerateArray().Select(e => e.GetProperty("vm").GetString()!).ToArray());
        Assert.All(events.EnumerateArray(), e => Assert.Equal("created", e.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task LiveStreamSendsSnapshotsOfHostVmsAndEvents()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "watched", cpus = 2 });
        using var response = await api.Unix.GetAsync("api/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var frames = new List<JsonElement>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (frames.Count < 2)
        {
            string line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the live stream ended");
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                frames.Add(JsonDocument.Parse(line[6..]).RootElement.Clone());
            }
            else
            {
                Assert.True(line.Length == 0 || line == "event: snapshot", line);
            }
        }

        var frame = frames[1];
        Assert.True(frame.GetProperty("host").GetProperty("cores").GetInt32() >= 1);
        var vm = Assert.Single(frame.GetProperty("vms").EnumerateArray());
        Assert.Equal(2, vm.GetProperty("definition").GetProperty("cpus").GetInt32());
        Assert.Equal("watched", Assert.Single(frame.GetProperty("stats").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal("created", Assert.Single(frame.GetProperty("events").EnumerateArray()).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task ConsoleWebSocketIsRefusedForUnknownAndStoppedVms()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "idle" });
        string token = (await File.ReadAllTextAsync(Path.Combine(api.StateDirectory, ApiToken.FileName))).Trim();
        Assert.Equal(HttpStatusCode.NotFound, await HandshakeStatusAsync(api, "ghost", token));
        Assert.Equal(HttpStatusCode.Conflict, await HandshakeStatusAsync(api, "idle", token));
        Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeStatusAsync(api, "idle", token: null));
    }

    [Fact]
    public async Task VmActionsOfTheUiAnswerWithProblemsWhenTheVmIsNotRunning()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "idle" });
        Assert.Empty((await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/idle/snapshots")).EnumerateArray());
        foreach (string action in new[] { "pause", "resume" })
        {
            await AssertProblemAsync(await api.Unix.PostAsync($"api/vms/idle/{action}", null), HttpStatusCode.Conflict);
        }

        var snapshot = await api.Unix.PostAsJsonAsync("api/vms/idle/snapshots", new { name = "s1" });
        await AssertProblemAsync(snapshot, HttpStatusCode.Conflict);
        var badName = await AssertProblemAsync(await api.Unix.PostAsJsonAsync("api/vms/idle/snapshots", new { name = "no spaces" }), HttpStatusCode.BadRequest);
        Assert.Contains("snapshot name 'no spaces'", badName.GetProperty("errors").GetProperty("name")[0].GetString());
        var revert = await AssertProblemAsync(await api.Unix.PostAsync("api/vms/idle/snapshots/s1/revert", null), HttpStatusCode.NotFound);
        Assert.Equal("VM 'idle' has no snapshot named 's1'", revert.GetProperty("detail").GetString());
        await AssertProblemAsync(await api.Unix.DeleteAsync("api/vms/idle/snapshots/s1"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await api.Unix.PostAsync("api/vms/ghost/pause", null), HttpStatusCode.NotFound);
    }

    private static async Task<HttpStatusCode> HandshakeStatusAsync(RunningApi api, string vm, string? token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{api.Port}/api/vms/{vm}/console/ws"), CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync())).RootElement.Clone();
    }
}
