namespace Actors.Inference.Models;

/// <summary>How a model runs on one kind of device (the manifest's <c>runtime.cpu</c> or
/// <c>runtime.cuda</c>): its precision, memory order and largest batch there.</summary>
public sealed record DeviceRuntime
{
    /// <summary>fp32, tf32, bf16-autocast, fp16-autocast, bf16 or fp16 (<see cref="Precisions"/>).</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>4-D weights and inputs in channels-last order (NHWC).</summary>
    public bool ChannelsLast { get; init; }

    /// <summary>Frozen for inference at load (torch.jit.freeze and optimize_for_inference): weights
    /// as constants, batch norms folded into the convolutions before them, oneDNN layouts on CPU.</summary>
    public bool Freeze { get; init; }

    /// <summary>CUDA graphs (runtime.cuda only): each batch, padded to one of a few sizes up to the
    /// max batch, replays a graph captured at the first batch of its shape (a sampling run, a
    /// one-step graph once per step). Needs a bridge built with them (<c>TorchRuntime.Features</c>)
    /// and rows that do not depend on each other.</summary>
    public bool CudaGraphs { get; init; }

    /// <summary>Overrides <see cref="BatchLimits.MaxBatchSize"/> on this kind of device.</summary>
    public int? MaxBatchSize { get; init; }

    /// <summary>With nothing of the model running, a batch closes once no request has come for
    /// this many microseconds instead of waiting out <see cref="BatchLimits.MaxQueueDelayMs"/>
    /// (<see cref="Batching.BatcherOptions.IdleGap"/>); at most the max delay. Not given: 200 on
    /// cuda (<see cref="LoadedModel.GpuIdleGap"/>), none on cpu.</summary>
    public int? IdleGapMicros { get; init; }

    /// <summary>Largest max |output − float32 reference| over the reference's scale accepted at
    /// load; <see cref="Precisions.DefaultTolerance"/> when not given.</summary>
    public double? Tolerance { get; init; }

    /// <summary>float32, row-major, unfrozen, no graphs: as the export ran it, so the load needs no
    /// check against the reference.</summary>
    public bool IsPlain => string.Equals(Precision, "fp32", StringComparison.OrdinalIgnoreCase) && !ChannelsLast && !Freeze && !CudaGraphs;

    /// <summary>"cuda" for cuda and cuda:N, else "cpu".</summary>
    public static string KindOf(string device) => device.StartsWith("cuda", StringComparison.Ordinal) ? "cuda" : "cpu";
}
