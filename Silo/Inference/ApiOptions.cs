namespace Actors.Silo.Inference;

/// <summary>HTTP API limits (configuration section "Api").</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest accepted upload; larger bodies get 413 before they are read whole.</summary>
    public long MaxUploadBytes { get; set; } = 20L * 1024 * 1024;
}
