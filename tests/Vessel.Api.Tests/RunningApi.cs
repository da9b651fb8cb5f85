using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Vessel.Api;
using Vessel.Hosting;

namespace Vessel.Api.Tests;

/// <summary>A real API server (Kestrel on a Unix socket and loopback TCP) over a temporary state directory.</summary>
internal sealed class RunningApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly VmSupervisor _supervisor;

    private RunningApi(string state, WebApplication app, VmSupervisor supervisor, int port)
    {
        StateDirectory = state;
        _app = app;
        _supervisor = supervisor;
        Port = port;
        Unix = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(state, "vessel.sock")), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://vessel/") };
        Tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public string StateDirectory { get; }

    public int Port { get; }

    public HttpClient Unix { get; }

    public HttpClient Tcp { get; }

    public static async Task<RunningApi> StartAsync()
    {
        string state = Path.Combine(Path.GetTempPath(), "vessel-api-" + Guid.NewGuid().ToString("N"));
        int port = FreePort();
        var options = new ApiServerOptions(state, new IPEndPoint(IPAddress.Loopback, port), ["/bin/false"]);
        Directory.CreateDirectory(state);
        var supervisor = new VmSupervisor(state, options.WorkerCommand);
        var app = ApiServer.Build(options, supervisor);
        await app.StartAsync();
        return new RunningApi(state, app, supervisor, port);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Unix.Dispose();
        Tcp.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _supervisor.Dispose();
        Directory.Delete(StateDirectory, recursive: true);
    }
}
