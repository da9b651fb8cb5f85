using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>
/// The web dashboard of <c>vessel serve</c> (issue 7): its page and bundle at <c>/</c>, the cookie session for TCP
/// (<see cref="DashboardAuthentication"/>), recent events across VMs, and one server-sent event stream of host, VM and
/// statistics snapshots that keeps every page live.
/// </summary>
public static class DashboardRoutes
{
    /// <summary>The request body of POST /dashboard/session.</summary>
    public sealed record DashboardSessionRequest(string? Token);

    /// <summary>One frame of GET /api/live.</summary>
    public sealed record DashboardSnapshot(HostInfo Host, IReadOnlyList<VmInfo> Vms, IReadOnlyList<VmStats> Stats, IReadOnlyList<VmEvent> Events);

    private static readonly TimeSpan LiveInterval = TimeSpan.FromSeconds(1);

    /// <summary>Paths that need no credentials: the page, its assets and the session exchange.</summary>
    public static bool IsPublic(PathString path, DashboardAssets assets) =>
        path == "/" || path == "/dashboard/session" || (path.Value is { Length: > 1 } p && assets.Names.Contains(p[1..]));

    public static void MapDashboard(this WebApplication app, DashboardAuthentication auth, DashboardAssets assets)
    {
        foreach (string name in assets.Names)
        {
            string route = name == "index.html" ? "/" : "/" + name;
            app.MapGet(route, (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-cache";
                context.Response.Headers["X-Content-Type-Options"] = "nosniff";
                context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
                return Results.Bytes(assets.Get(name), DashboardAssets.ContentType(name));
            }).ExcludeFromDescription();
        }

        if (!assets.Names.Contains("index.html"))
        {
            // Built on a machine without npm (Vessel.Api.csproj skips the bundle there): say so instead of a bare 404.
            app.MapGet("/", () => Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Dashboard not built",
                detail: "This vessel was built without npm, so the web dashboard was not bundled. Install nodejs and npm (apt-get install nodejs npm), then rebuild (rm -rf artifacts/cli; ./vessel serve). The REST API under /api/ works as usual."))
                .ExcludeFromDescription();
        }

        app.MapPost("/dashboard/session", (DashboardSessionRequest request, HttpContext context) =>
        {
            if (!auth.TokenMatches(request.Token))
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                    detail: $"that is not the API token; it is in the state directory's {ApiToken.FileName} file, and `vessel serve --listen` prints a dashboard URL with it");
            }

            context.Response.Cookies.Append(DashboardAuthentication.CookieName, auth.SessionValue, auth.CookieOptions());
            return Results.NoContent();
        }).ExcludeFromDescription();
        app.MapDelete("/dashboard/session", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(DashboardAuthentication.CookieName, auth.CookieOptions());
            return Results.NoContent();
        }).ExcludeFromDescription();

        app.MapGet("/api/events", (VmSupervisor s, int? limit) => RecentEvents(s, Math.Clamp(limit ?? 50, 1, 1000)))
            .WithName("ListRecentEvents").WithDescription("The latest events of all defined VMs, newest first.");
        app.MapGet("/api/live", LiveAsync)
            .WithName("LiveSnapshots").WithDescription("Server-sent events: a 'snapshot' of host, VMs, stats and recent events every second.");
    }

    public static IReadOnlyList<VmEvent> RecentEvents(VmSupervisor supervisor, int limit) =>
        [.. supervisor.Registry.List()
            .SelectMany(d => supervisor.Registry.Events(d.Name, limit))
            .OrderByDescending(e => e.Id)
            .Take(limit)];

    private static async Task LiveAsync(HttpContext context, VmSupervisor supervisor, VmStatisticsCollector collector)
    {
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var aborted = context.RequestAborted;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                var snapshot = new DashboardSnapshot(
                    await collector.HostAsync(), supervisor.List(), await collector.ListAsync(), RecentEvents(supervisor, 20));
                string data = JsonSerializer.Serialize(snapshot, json);
                await context.Response.WriteAsync($"event: snapshot\ndata: {data}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                await Task.Delay(LiveInterval, aborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }
}
