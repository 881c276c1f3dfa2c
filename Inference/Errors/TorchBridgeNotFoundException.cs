namespace Actors.Inference.Errors;

/// <summary>libtorchbridge.so (or the libtorch it links) could not be loaded.</summary>
public sealed class TorchBridgeNotFoundException(string message, Exception? inner = null)
    : InferenceException(message, inner)
{
    public override string Code => "bridge_missing";
}
