using System.Diagnostics;
using Kubesharp.ApiMachinery.Metrics;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>The request pipeline's entry, measured (<see cref="Metrics.RequestMetrics"/>), and <c>/metrics</c>.</summary>
internal sealed partial class RequestHandler
{
    public Task HandleAsync(HttpContext context)
    {
        if (RequestHeadLimit.TryRefuse(context, out var refusal))
        {
            return refusal;
        }

        var started = Stopwatch.GetTimestamp();
        var serving = ServeAsync(context);
        if (serving.IsCompletedSuccessfully)
        {
            _requestMetrics.Finished(context, started);
            return Task.CompletedTask;
        }

        return FinishAsync(serving, context, started);
    }

    private async Task FinishAsync(Task serving, HttpContext context, long started)
    {
        try
        {
            await serving.ConfigureAwait(false);
        }
        finally
        {
            _requestMetrics.Finished(context, started);
        }
    }

    /// <summary>This server's metrics, then the process's (work queues, scheduler, runtime), in the text format.</summary>
    private async Task WriteMetricsAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = MetricsExposition.ContentType;
        await MetricsExposition.WriteAsync(context.Response.Body, [_requestMetrics.Families.Registry, ComponentMetrics.Registry], context.RequestAborted).ConfigureAwait(false);
    }
}
