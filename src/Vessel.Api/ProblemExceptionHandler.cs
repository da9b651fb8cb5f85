using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Vessel.Hosting;
using Vessel.Hosting.GuestAgent;
using Vessel.Hosting.Portability;
using Vessel.Storage;

namespace Vessel.Api;

/// <summary>Turns Vessel's exceptions into RFC 7807 problem details with the message the user needs.</summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem = exception switch
        {
            VmValidationException v => new HttpValidationProblemDetails(v.Errors.ToDictionary(e => e.Key, e => e.Value))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid VM definition",
                Detail = v.Message,
            },
            VmNotFoundException n => new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "No such VM", Detail = n.Message },
            VmSnapshotNotFoundException m => new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "No such snapshot", Detail = m.Message },
            VmConflictException c => new ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "Conflict", Detail = c.Message },
            GuestAgentException g => new ProblemDetails
            {
                Status = g.NotAnswering ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                Title = g.NotAnswering ? "Guest agent not answering" : "Guest agent error",
                Detail = g.Message,
            },
            VmArchiveException a => new ProblemDetails { Status = StatusCodes.Status400BadRequest, Title = "Invalid VM archive", Detail = a.Message },
            DiskImageException d => new ProblemDetails { Status = StatusCodes.Status422UnprocessableEntity, Title = "Disk image problem", Detail = d.Message },
            BadHttpRequestException b => new ProblemDetails { Status = b.StatusCode, Title = "Bad request", Detail = b.InnerException?.Message ?? b.Message },
            _ => new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Internal error", Detail = exception.Message },
        };

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }
}
