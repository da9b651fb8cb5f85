using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>The virtio-balloon route under /api/vms/{name}/ (issue 6: take memory back from guests).</summary>
public static class BalloonRoutes
{
    /// <summary>The body of PUT /api/vms/{name}/balloon: the guest's memory size after inflation, in MiB.</summary>
    public sealed record BalloonRequest(long TargetMiB);

    public static void MapBalloonRoutes(this RouteGroupBuilder vms)
    {
        vms.MapPut("/{name}/balloon", (string name, BalloonRequest request, VmSupervisor s) => s.SetBalloonAsync(name, request.TargetMiB))
            .WithName("SetVmBalloon");
    }
}
