namespace Actors.Inference.Errors;

/// <summary>No loaded model has that name.</summary>
public sealed class UnknownModelException(string model, IEnumerable<string> known)
    : InferenceException($"unknown model '{model}'; loaded: {string.Join(", ", known)}")
{
    public string Model { get; } = model;

    public override string Code => "unknown_model";
}
