namespace Actors.Inference.Models;

/// <summary>How an uploaded image becomes the model's input: channels, size, normalisation
/// ((pixel/max - mean) / std per channel).</summary>
public sealed record ImagePreprocess
{
    public int Channels { get; init; } = 1;

    public int Height { get; init; }

    public int Width { get; init; }

    public IReadOnlyList<float> Mean { get; init; } = [0f];

    public IReadOnlyList<float> Std { get; init; } = [1f];
}
