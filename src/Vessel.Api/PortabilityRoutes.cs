using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vessel.Hosting;
using Vessel.Hosting.Portability;

namespace Vessel.Api;

/// <summary>Clone, export and import of stopped VMs (issue 6). Paths are on the supervisor's host.</summary>
public static class PortabilityRoutes
{
    public static void MapPortabilityRoutes(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{name}/clone", async (string name, VmCloneRequest request, VmSupervisor s, VmSnapshotService snapshots, HttpContext context) =>
        {
            if (request.Snapshot is { } snapshot)
            {
                snapshots.RequireSnapshot(name, snapshot);
            }

            var clone = await Task.Run(() => s.Clone(name, request, context.RequestAborted));
            return Results.Created($"/api/vms/{clone.Name}", s.Get(clone.Name));
        }).WithName("CloneVm").WithDescription("Full (disks copied) or linked (qcow2 overlays on the source's disks) clone of a stopped VM, with new MACs; with snapshot, the disks as they were at that snapshot (full copies, or overlays on read-only images of the snapshot that it then keeps).");
        vms.MapPost("/{name}/export", (string name, VmExportRequest request, VmSupervisor s, HttpContext context) =>
            Task.Run(() => s.Export(name, request, context.RequestAborted)))
            .WithName("ExportVm").WithDescription("Writes a stopped VM (definition and flattened qcow2 disks, with checksums) to one tar archive.");
        vms.MapPost("/import", async (VmImportRequest request, VmSupervisor s, HttpContext context) =>
        {
            var vm = await Task.Run(() => s.Import(request, context.RequestAborted));
            return Results.Created($"/api/vms/{vm.Name}", s.Get(vm.Name));
        }).WithName("ImportVm").WithDescription("Creates a VM from an exported archive after verifying every file's size and SHA-256.");
    }
}
