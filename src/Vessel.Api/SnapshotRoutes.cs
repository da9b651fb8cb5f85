using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>Pause/resume and snapshot routes under /api/vms/{name}/ (issue 6).</summary>
public static class SnapshotRoutes
{
    /// <summary>The request body of POST /api/vms/{name}/snapshots.</summary>
    public sealed record SnapshotCreateRequest(string Name, string? Description);

    public static void MapSnapshotRoutes(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{name}/pause", (string name, VmSnapshotService s) => s.PauseAsync(name)).WithName("PauseVm");
        vms.MapPost("/{name}/resume", (string name, VmSnapshotService s) => s.ResumeAsync(name)).WithName("ResumeVm");
        vms.MapGet("/{name}/snapshots", (string name, VmSnapshotService s) => s.List(name)).WithName("ListSnapshots");
        vms.MapPost("/{name}/snapshots", async (string name, SnapshotCreateRequest request, VmSnapshotService s) =>
        {
            var snapshot = await s.CreateAsync(name, request.Name, request.Description);
            return Results.Created($"/api/vms/{name}/snapshots/{snapshot.Name}", snapshot);
        }).WithName("CreateSnapshot");
        vms.MapPost("/{name}/snapshots/{snap}/revert", (string name, string snap, VmSnapshotService s) => s.RevertAsync(name, snap)).WithName("RevertSnapshot");
        vms.MapDelete("/{name}/snapshots/{snap}", async (string name, string snap, VmSnapshotService s) =>
        {
            await s.DeleteAsync(name, snap);
            return Results.NoContent();
        }).WithName("DeleteSnapshot");
    }
}
