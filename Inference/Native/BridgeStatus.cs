namespace Actors.Inference.Native;

/// <summary>tb_status from torchbridge.h.</summary>
internal enum BridgeStatus
{
    Ok = 0,
    Argument = 1,
    Load = 2,
    Device = 3,
    Forward = 4,
    Output = 5,
}
