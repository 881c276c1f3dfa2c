using Actors.Client.Api.Auth;
using Actors.Inference.Models;
using Actors.Silo.Cluster;
using Actors.Silo.Gpu;
using Actors.Silo.Inference;

namespace Actors.Silo.Fleet;

/// <summary>A GPU host's own control door (admin key): where it is, resume (load the models, start
/// claiming), stop (drain, unload) and shut down (drain, leave, exit). Providers drive instances
/// through it; every call returns at once, <c>GET /admin/host</c> says when it got there.</summary>
internal static class HostApi
{
    public static RouteGroupBuilder MapHostControl(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/host").WithTags("gpu host");
        group.RequireAdminKey();
        group.MapGet("", (GpuHost host, EngineHost engine, SiloIdentity silo) => TypedResults.Ok(Status(host, engine, silo)));
        group.MapPost("/resume", (GpuHost host, EngineHost engine, SiloIdentity silo) =>
        {
            host.BeginResume();
            return TypedResults.Accepted("/admin/host", Status(host, engine, silo));
        });
        group.MapPost("/stop", (GpuHost host, EngineHost engine, SiloIdentity silo) =>
        {
            host.BeginStop();
            return TypedResults.Accepted("/admin/host", Status(host, engine, silo));
        });
        group.MapPost("/shutdown", (GpuHost host, EngineHost engine, SiloIdentity silo, IHostApplicationLifetime lifetime) =>
        {
            lifetime.StopApplication();
            return TypedResults.Accepted("/admin/host", Status(host, engine, silo) with { Phase = "stopping" });
        });
        return group;
    }

    internal static HostStatus Status(GpuHost host, EngineHost engine, SiloIdentity silo)
    {
        // Read once: a stop may unload the engine between two reads.
        var loaded = engine.Current;
        return new(silo.InstanceId, silo.SiloId, host.Phase.ToString().ToLowerInvariant(), host.PhaseSince, host.LastError,
            loaded?.Device, loaded is null ? [] : [.. loaded.Models.Select(m => m.Name)],
            host.Holding, host.Completed, engine.LastLoad?.TotalSeconds, Environment.ProcessId,
            loaded is null ? [] : [.. loaded.Models.Select(ModelRuntimeStatus.Of).OrderBy(m => m.Name, StringComparer.Ordinal)]);
    }
}

/// <summary>What <c>GET /admin/host</c> answers.</summary>
public sealed record HostStatus(string InstanceId, string SiloId, string Phase, DateTimeOffset Since, string? LastError, string? Device,
    string[] Models, int Holding, long Completed, double? LoadSeconds, int ProcessId, ModelRuntimeStatus[]? Runtime = null);

/// <summary>How one loaded model runs on this host (the manifest's runtime for the device, as
/// loaded): precision, memory order, frozen, CUDA graphs captured and the first capture that
/// failed, the error against the float32 reference measured at load, the batcher's max batch
/// and its idle gap in microseconds (null: a batch waits out the max delay).</summary>
public sealed record ModelRuntimeStatus(string Name, string Precision, bool ChannelsLast, bool Frozen, bool CudaGraphs, int GraphsCaptured,
    string? GraphFailure, double? ReferenceError, int MaxBatch, double? IdleGapMicros)
{
    internal static ModelRuntimeStatus Of(Actors.Inference.LoadedModel m) =>
        new(m.Name, m.Precision.Name(), m.ChannelsLast, m.Frozen, m.CudaGraphs, m.GraphCount, m.GraphFailure, m.ReferenceError, m.Batcher.Options.MaxBatchSize,
            m.Batcher.Options.IdleGap?.TotalMicroseconds);
}
