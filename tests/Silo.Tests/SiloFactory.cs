using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Actors.Silo.Tests;

/// <summary>The silo in-process over HTTP, models on INFERENCE_DEVICE (cpu by default).</summary>
public sealed class SiloFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Inference:Device", Environment.GetEnvironmentVariable("INFERENCE_DEVICE") is { Length: > 0 } d ? d : "cpu");
        builder.UseSetting("Api:MaxUploadBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
