using Actors.Inference.Models;
using Actors.Inference;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Actors.Silo.Inference;

/// <summary>Registers the inference engine: options from "Inference", started with the host
/// (models loaded before the first request), disposed with it.</summary>
internal static class InferenceHosting
{
    public static WebApplicationBuilder AddInferenceEngine(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.Section)
            .PostConfigure(o => o.ModelsPath = ModelRegistry.ResolvePath(o.ModelsPath, builder.Environment.ContentRootPath))
            .Validate(o => o.MaxImagePixels > 0 && o.MaxQueuedPerModel > 0 && o.Threads >= 0, "Inference options out of range")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EngineHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineHost>());
        return builder;
    }
}
