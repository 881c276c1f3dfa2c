namespace Actors.Inference.Errors;

/// <summary>The requested device string is malformed or names a device that is not there.</summary>
public sealed class DeviceUnavailableException(string message) : InferenceException(message)
{
    public override string Code => "device_unavailable";
}
