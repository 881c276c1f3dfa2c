namespace Actors.Inference.Pipelines;

/// <summary>One inference call: the upload and the task's parameters.</summary>
public sealed record InferenceRequest
{
    /// <summary>The upload: a PNG, or raw little-endian float32 with <see cref="Shape"/>.
    /// Diffusion takes none.</summary>
    public ReadOnlyMemory<byte> Input { get; init; }

    /// <summary>An image type, application/octet-stream (raw float32) or application/x-nifti (a NIfTI-1 volume, plain or gzipped).</summary>
    public string ContentType { get; init; } = "image/png";

    /// <summary>For raw input: [C, H, W] or [1, C, H, W].</summary>
    public IReadOnlyList<long>? Shape { get; init; }

    /// <summary>Segmentation: pixel spacing in mm (x, y); defaults to 1 mm.</summary>
    public double SpacingXMm { get; init; } = 1.0;

    public double SpacingYMm { get; init; } = 1.0;

    /// <summary>Segmentation: slice thickness in mm; when given, volumes are reported.</summary>
    public double? SliceThicknessMm { get; init; }

    /// <summary>Diffusion: DDIM steps (manifest default when null).</summary>
    public int? Steps { get; init; }

    /// <summary>Diffusion: noise seed; the same seed gives the same image.</summary>
    public long Seed { get; init; }

    /// <summary>Diffusion with a class input: one of the model's labels (case and spacing
    /// ignored); null: unconditional.</summary>
    public string? Prompt { get; init; }

    /// <summary>Diffusion: classifier-free guidance scale (manifest default when null).</summary>
    public double? Guidance { get; init; }

    /// <summary>Volumes: told (slices done, slices in all) as slices finish.</summary>
    public IProgress<(int Done, int Total)>? Progress { get; init; }
}
