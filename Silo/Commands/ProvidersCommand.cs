using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;
using Actors.Fleet.Providers.Lambda;
using Actors.Fleet.Providers.RunPod;
using Actors.Fleet.Providers.Vast;
using Actors.Silo.Fleet;
using Spectre.Console;

namespace Actors.Silo.Commands;

/// <summary><c>silo providers check</c>: for each cloud enabled in section "Providers" (appsettings,
/// environment, or <c>--Providers:RunPod:ApiKeyFile=…</c> style arguments), validate the key and
/// list the offers and our machines. Read-only: it rents, stops and terminates nothing. Exit code
/// 0 when every enabled cloud answered, 1 when one did not, 2 when none is enabled.</summary>
internal static class ProvidersCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var limit = new Option<int>("--offers") { Description = "Offers shown per cloud (cheapest first)", DefaultValueFactory = _ => 15 };
        var check = new Command("check", "Validate each enabled cloud's API key and list its offers and our machines (rents nothing)") { json, limit };
        check.TreatUnmatchedTokensAsErrors = false; // --Providers:… settings pass through to the configuration
        check.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
                .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
                .AddEnvironmentVariables()
                .AddCommandLine(parse.UnmatchedTokens.ToArray())
                .Build();
            var options = configuration.GetSection(CloudsOptions.Section).Get<CloudsOptions>() ?? new CloudsOptions();
            var results = new List<CloudCheck>();
            foreach (var (settings, create) in new (CloudApiOptions, Func<ICloudApi>)[]
            {
                (options.RunPod, () => new RunPodClient(options.RunPod, TimeProvider.System)),
                (options.Vast, () => new VastClient(options.Vast, TimeProvider.System)),
                (options.Lambda, () => new LambdaCloudClient(options.Lambda, TimeProvider.System)),
            }.Where(c => c.Item1.Enabled))
            {
                results.Add(await CheckAsync(settings, create, parse.GetValue(limit), cancellationToken));
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(results, Json));
            }
            else
            {
                Print(results);
            }

            return results.Count == 0 ? 2 : results.All(r => r.Error is null) ? 0 : 1;
        });
        return new Command("providers", "The GPU clouds this cluster rents from") { check };
    }

    private static async Task<CloudCheck> CheckAsync(CloudApiOptions settings, Func<ICloudApi> create, int limit, CancellationToken cancellationToken)
    {
        var name = settings.GetType().Name.Replace("Options", "", StringComparison.Ordinal).Replace("CloudClient", "", StringComparison.Ordinal);
        Console.Error.WriteLine($"checking {name} at {settings.BaseUrl} …");
        try
        {
            var api = create();
            using var _ = api as IDisposable;
            var offers = await api.OffersAsync(cancellationToken);
            var ours = await api.ListAsync(cancellationToken);
            return new CloudCheck(api.Cloud, settings.BaseUrl, api.Capabilities, offers.Count, offers.Count(o => o.Available),
                [.. offers.Where(o => o.Available).OrderBy(o => o.PerHour).Take(limit)], [.. ours.Select(m => $"{m.Name} ({m.Id}, {m.Detail})")], null);
        }
        catch (ProviderException e)
        {
            return new CloudCheck(name.ToLowerInvariant(), settings.BaseUrl, null, 0, 0, [], [], $"{e.Code}: {e.Message}");
        }
    }

    private static void Print(List<CloudCheck> results)
    {
        if (results.Count == 0)
        {
            AnsiConsole.MarkupLine("[yellow]No cloud enabled[/]: set Providers:RunPod:Enabled, Providers:Vast:Enabled or Providers:Lambda:Enabled with its key (docs/fleet.md).");
            return;
        }

        foreach (var r in results)
        {
            if (r.Error is not null)
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Cloud)}[/] at {Markup.Escape(r.BaseUrl)}: {Markup.Escape(r.Error)}");
                continue;
            }

            var c = r.Capabilities!;
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(r.Cloud)}[/]: key accepted; {r.Available} of {r.Offers} offers available; stop/resume {(c.CanStop ? "yes" : "no")}, spot {(c.Spot ? "yes" : "no")}; {r.OurMachines.Count} machine(s) of ours");
            var table = new Table().AddColumns("GPU type", "kind", "region", "$/h", "stopped $/h", "offer id");
            foreach (var o in r.Cheapest)
            {
                table.AddRow(Markup.Escape(o.GpuType), o.Spot ? "spot" : "on demand", Markup.Escape(o.Region), o.PerHour.ToString("0.000", CultureInfo.InvariantCulture),
                    o.StoppedPerHour.ToString("0.0000", CultureInfo.InvariantCulture), Markup.Escape(o.OfferId));
            }

            AnsiConsole.Write(table);
            foreach (var m in r.OurMachines)
            {
                AnsiConsole.MarkupLine("  ours: " + Markup.Escape(m));
            }
        }
    }

    private sealed record CloudCheck(string Cloud, string BaseUrl, ProviderCapabilities? Capabilities, int Offers, int Available, IReadOnlyList<CloudOffer> Cheapest,
        IReadOnlyList<string> OurMachines, string? Error);
}
