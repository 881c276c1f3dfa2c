namespace Actors.Inference.Errors;

/// <summary>Base of every error the inference engine raises on purpose.</summary>
public abstract class InferenceException : Exception
{
    protected InferenceException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>A stable code for APIs and logs, e.g. <c>invalid_input</c>.</summary>
    public abstract string Code { get; }
}
