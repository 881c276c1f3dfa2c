namespace Actors.Inference.Errors;

/// <summary>The model's batch queue is at capacity: back off and retry.</summary>
public sealed class BatchQueueFullException(string model, int capacity)
    : InferenceException($"the batch queue of model '{model}' is full ({capacity} waiting); retry later")
{
    public string Model { get; } = model;

    public override string Code => "queue_full";
}
