using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vessel.Hosting;
using Vessel.Hosting.GuestAgent;

namespace Vessel.Api;

/// <summary><c>POST /api/vms/{name}/exec</c>: run a command in the guest through its agent (issue 6).</summary>
public static class GuestAgentRoutes
{
    public static void MapGuestAgentRoutes(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{name}/exec", (string name, VmExecRequest request, VmSupervisor s, HttpContext context) =>
            s.ExecAsync(name, request, context.RequestAborted))
            .WithName("ExecInVm")
            .WithDescription("Runs argv in the guest (stdin optional); 409 when the VM is not running, 504 when its agent does not answer in time.");
    }
}
