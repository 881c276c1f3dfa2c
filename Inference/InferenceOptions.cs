namespace Actors.Inference;

/// <summary>Settings of the inference engine (configuration section "Inference").</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>auto (CUDA when available, else CPU), cpu, cuda or cuda:N.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>libtorch intra-op threads; 0 = one per core.</summary>
    public int Threads { get; set; }

    /// <summary>Keep libtorch's big buffers on the heap (glibc mallopt); 1.5-2x faster on CPU.</summary>
    public bool TuneAllocator { get; set; } = true;

    /// <summary>Folder holding one sub-folder per model (manifest.json + TorchScript file).</summary>
    public string ModelsPath { get; set; } = "models";

    /// <summary>Largest accepted image, in pixels (width x height).</summary>
    public long MaxImagePixels { get; set; } = 4096L * 4096;

    /// <summary>Largest accepted volume, in bytes of voxel data once decompressed.</summary>
    public long MaxVolumeVoxelBytes { get; set; } = 256L << 20;

    /// <summary>Batches in flight per model on a GPU (on a CPU always 1: libtorch already uses
    /// every core). More lets batches be assembled while others run.</summary>
    public int GpuConcurrentBatches { get; set; } = 2;

    /// <summary>Waiting requests per model before callers are pushed back.</summary>
    public int MaxQueuedPerModel { get; set; } = 1024;
}
