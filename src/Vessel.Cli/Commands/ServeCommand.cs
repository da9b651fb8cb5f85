using System.ComponentModel;
using System.Net;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Cli;
using Vessel.Api;
using Vessel.Cli.Hosting;
using Vessel.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel serve</c>: the supervisor and its API, in the foreground (DESIGN.md §6).</summary>
public sealed class ServeCommand : Command<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--state-dir <DIR>")]
        [Description("Where VM definitions, history and sockets live. Default: ~/.local/share/vessel.")]
        public string? StateDir { get; init; }

        [CommandOption("--listen <ADDRESS:PORT>")]
        [Description("Also serve the API on loopback TCP (bearer token from <state-dir>/api-token).")]
        public string? Listen { get; init; }

        [CommandOption("--allow-overcommit")]
        [Description("Start VMs even when their vCPUs or memory exceed what running VMs left unallocated.")]
        public bool AllowOvercommit { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Listen is not null && (!IPEndPoint.TryParse(Listen, out var endpoint) || !IPAddress.IsLoopback(endpoint.Address) || endpoint.Port == 0))
            {
                return Spectre.Console.ValidationResult.Error($"--listen {Listen}: give a loopback address and port, e.g. 127.0.0.1:7070.");
            }

            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string state = StateDirectory.Resolve(settings.StateDir);
        IPEndPoint? listen = settings.Listen is null ? null : IPEndPoint.Parse(settings.Listen);
        var options = new ApiServerOptions(state, listen, StateDirectory.SelfCommand());
        using var supervisor = new VmSupervisor(state, options.WorkerCommand) { AllowOvercommit = settings.AllowOvercommit };
        supervisor.Recover();
        var app = ApiServer.Build(options, supervisor);
        try
        {
            app.StartAsync(cancellationToken).GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            System.Console.Error.WriteLine($"vessel serve: cannot listen: {e.Message}");
            return 2;
        }

        System.Console.Error.WriteLine($"vessel serve: API on {options.SocketPath}{(listen is null ? string.Empty : $" and http://{listen}")}; state in {state}");
        if (listen is not null)
        {
            // The token rides in the fragment, which browsers never send; the page trades it for a session cookie.
            System.Console.Error.WriteLine($"vessel serve: dashboard at http://{listen}/#token={ApiToken.LoadOrCreate(state)}");
        }

        app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        ((IAsyncDisposable)app).DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
