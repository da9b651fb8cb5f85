using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>
/// The REST API of <c>vessel serve</c> (issue 6): every route under <c>/api/</c>, an OpenAPI document at
/// <c>/api/openapi.json</c>, RFC 7807 problem details for every error. The Unix socket (0600) trusts its
/// file permissions; TCP (loopback only) requires the bearer token.
/// </summary>
public static class ApiServer
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(20);

    public static WebApplication Build(ApiServerOptions options, VmSupervisor supervisor)
    {
        Directory.CreateDirectory(options.StateDirectory);
        string token = ApiToken.LoadOrCreate(options.StateDirectory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            File.Delete(options.SocketPath);
            kestrel.ListenUnixSocket(options.SocketPath);
            if (options.Listen is { } endpoint)
            {
                kestrel.Listen(endpoint);
            }
        });
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.KebabCaseLower)));
        builder.Services.AddProblemDetails();

        // Bad request bodies throw, so ProblemExceptionHandler can say what is wrong with them (the default is a bare 400).
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi("v1", o => o.ShouldInclude = _ => true);
        builder.Services.AddSingleton(supervisor);
        builder.Services.AddSingleton<VmStatisticsCollector>();
        builder.Services.AddSingleton<VesselMetrics>();

        // Made by the container (not passed in as instances) so the host disposes the store's SQLite connection when it stops.
        builder.Services.AddSingleton(_ => new VmSnapshotStore(Path.Combine(supervisor.StateDirectory, "vessel.db")));
        builder.Services.AddSingleton<VmSnapshotService>();

        var app = builder.Build();
        var dashboardAuth = new DashboardAuthentication(token);
        var dashboardAssets = new DashboardAssets();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            // TCP connections carry an IP address; Unix socket ones do not and are guarded by the socket's mode.
            if (context.Connection.LocalIpAddress is not null && !ApiToken.Matches(token, context.Request.Headers.Authorization)
                && !DashboardRoutes.IsPublic(context.Request.Path, dashboardAssets) && !dashboardAuth.Allows(context))
            {
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                    detail: $"TCP clients must send 'Authorization: Bearer <token>'; the token is in {Path.Combine(options.StateDirectory, ApiToken.FileName)}")
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.UseWebSockets();
        app.MapOpenApi("/api/openapi.json");
        MapRoutes(app);
        app.MapDashboard(dashboardAuth, dashboardAssets);
        app.MapMetrics("/metrics", app.Services.GetRequiredService<VesselMetrics>().Registry);
        app.Lifetime.ApplicationStarted.Register(() => OwnerOnlyFile.Restrict(options.SocketPath));
        return app;
    }

    private static void MapRoutes(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/host", (VmStatisticsCollector c) => c.HostAsync()).WithName("GetHost");
        api.MapGet("/stats", (VmStatisticsCollector c) => c.ListAsync()).WithName("ListVmStats");
        var vms = api.MapGroup("/vms");
        vms.MapGet("/", (VmSupervisor s) => s.List()).WithName("ListVms");
        vms.MapPost("/", (VmCreateRequest request, VmSupervisor s) =>
        {
            var definition = s.Create(request);
            return Results.Created($"/api/vms/{definition.Name}", s.Get(definition.Name));
        }).WithName("CreateVm");
        vms.MapGet("/{name}", (string name, VmSupervisor s) => s.Get(name)).WithName("GetVm");
        vms.MapDelete("/{name}", (string name, VmSupervisor s) =>
        {
            s.Delete(name);
            return Results.NoContent();
        }).WithName("DeleteVm");
        vms.MapPost("/{name}/start", (string name, VmSupervisor s) => s.Start(name)).WithName("StartVm");
        vms.MapPost("/{name}/stop", (string name, VmSupervisor s) => s.StopAsync(name, StopWait)).WithName("StopVm");
        vms.MapPost("/{name}/kill", (string name, VmSupervisor s) => s.KillAsync(name, StopWait)).WithName("KillVm");
        vms.MapGet("/{name}/stats", (string name, VmStatisticsCollector c) => c.GetAsync(name)).WithName("GetVmStats");
        vms.MapSnapshotRoutes();
        vms.MapBalloonRoutes();
        vms.MapGet("/{name}/events", (string name, VmSupervisor s, int? limit) => s.Events(name, Math.Clamp(limit ?? 100, 1, 10000))).WithName("ListVmEvents");
        vms.MapGuestAgentRoutes();
        vms.MapConsoleWebSocketRoutes();
        vms.MapPortabilityRoutes();
        api.MapFallback(() => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "no such API route; see /api/openapi.json"));
    }
}
