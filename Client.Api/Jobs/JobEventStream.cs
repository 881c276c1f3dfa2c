using System.Text.Json;
using Actors.Grains.Jobs;
using Microsoft.AspNetCore.Http;

namespace Actors.Client.Api.Jobs;

/// <summary><c>text/event-stream</c> of one job: <c>queued</c> (position, ETA; again when the
/// position changes), <c>running</c> (instance, attempt; again as a volume's slices finish, with
/// <c>progress</c>: done, total, unit), then the final event
/// (<c>succeeded</c>, <c>failed</c>, <c>canceled</c>, <c>expired</c>) and the stream ends.</summary>
internal static class JobEventStream
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task RunAsync(HttpContext context, JobReader reader, QueueEta eta, JobSnapshot job)
    {
        var response = context.Response;
        ServerSentEvents.Begin(response);
        var ct = context.RequestAborted;
        string? last = null;
        var sequence = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var view = await reader.ViewAsync(job);
                object data = job.Status switch
                {
                    JobStatus.Queued => new { id = job.JobId, status = "queued", position = view.QueuePosition ?? 0, etaSeconds = eta.EstimateSeconds(job.Model, view.QueuePosition ?? 0), attempts = job.Attempts },
                    JobStatus.Running => new { id = job.JobId, status = "running", instance = job.InstanceId, attempt = job.Attempts, progress = job.Progress },
                    _ => view,
                };
                var text = JsonSerializer.Serialize(data, Json);
                if (text != last)
                {
                    await ServerSentEvents.SendAsync(response, ++sequence, view.Status, text, ct);
                    last = text;
                }

                if (job.IsTerminal)
                {
                    if (job.StartedAt is { } started && job.FinishedAt is { } finished)
                    {
                        eta.Observe(job.Model, finished - started);
                    }

                    return;
                }

                job = await reader.WaitForChangeAsync(job, TimeSpan.FromSeconds(1), ct);
            }
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
    }
}
