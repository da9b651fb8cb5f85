using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary><c>GET /api/vms/{name}/console/ws</c>: the serial console over a WebSocket for the dashboard (issue 7).</summary>
public static class ConsoleWebSocketRoutes
{
    private static readonly TimeSpan AttachWait = TimeSpan.FromSeconds(15);

    public static void MapConsoleWebSocketRoutes(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{name}/console/ws", async (string name, VmSupervisor s, HttpContext context) =>
        {
            var vm = s.Get(name);
            if (vm.State is not ("running" or "starting" or "paused"))
            {
                throw new VmConflictException($"VM '{name}' is {vm.State}; start it first");
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: "this route only speaks WebSocket");
            }

            using var console = await ConnectAsync(vm.ConsoleSocket, context.RequestAborted);
            using var webSocket = await context.WebSockets.AcceptWebSocketAsync();
            await ConsoleWebSocketBridge.RunAsync(webSocket, console, context.RequestAborted);
            return Results.Empty;
        }).WithName("ConsoleWebSocket").WithDescription("WebSocket: guest serial output as binary frames; frames sent are typed into the console.");
    }

    private static async Task<Socket> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + AttachWait;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (DateTime.UtcNow >= deadline)
                {
                    throw new VmConflictException($"cannot attach to the console at {path}: {e.Message}");
                }

                await Task.Delay(200, cancellationToken); // a starting worker opens its console socket shortly
            }
        }
    }
}
