using System.Collections.Concurrent;
using Actors.Client.Api.Admin;
using Actors.Fleet.Providers;
using Actors.Fleet.Providers.Cloud;
using Actors.Fleet.Providers.Lambda;
using Actors.Fleet.Providers.RunPod;
using Actors.Fleet.Providers.Vast;
using Actors.Grains;
using Actors.Grains.Diagnostics;
using Actors.Grains.Instances;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Fleet;

/// <summary>The GPU clouds this silo rents from: one API client per enabled cloud, one provider per
/// kind it rents (on demand "runpod", spot "runpod-spot", …), the offers as last read, the last
/// reconciliation of each cloud and the machines found lost — for <c>/admin/fleet</c>, the
/// dashboard and the metrics. Keys are read here (a clear start-up error names the setting when a
/// cloud is enabled without one) and never leave.</summary>
internal sealed partial class CloudFleet : IDisposable, ICloudsView
{
    /// <summary>On demand, then spot.</summary>
    private static readonly bool[] Kinds = [false, true];

    private readonly List<ICloudApi> _apis = [];
    private readonly List<CloudProvider> _providers = [];
    private readonly ConcurrentDictionary<string, ReconcileReport> _reconciled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _offerErrors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CloudLoss> _lost = new();
    private readonly ConcurrentQueue<CloudOrphan> _orphans = new();
    private readonly TimeProvider _time;
    private readonly ILogger<CloudFleet> _logger;

    public CloudFleet(IOptions<CloudsOptions> options, IConfiguration configuration, IClusterJoin join, TimeProvider time, ILogger<CloudFleet> logger)
    {
        _time = time;
        _logger = logger;
        var o = options.Value;
        var environment = o.ForwardClusterSettings ? GpuHostSettings.From(configuration) : [];
        foreach (var (key, value) in o.Environment)
        {
            environment[key] = value;
        }

        foreach (var (settings, create) in new (CloudApiOptions, Func<ICloudApi>)[]
        {
            (o.RunPod, () => new RunPodClient(o.RunPod, time)),
            (o.Vast, () => new VastClient(o.Vast, time)),
            (o.Lambda, () => new LambdaCloudClient(o.Lambda, time)),
        }.Where(c => c.Item1.Enabled))
        {
            if (o.Image.Length == 0)
            {
                throw new InvalidOperationException($"{CloudsOptions.Section}:Image is required to rent from a cloud: the GPU-host silo image machines run (docs/fleet.md)");
            }

            var api = create();
            _apis.Add(api);
            foreach (var spot in Kinds.Where(s => s ? settings.Spot && api.Capabilities.Spot : settings.OnDemand))
            {
                var provider = new CloudProvider(api, settings.Provider(spot, o.Image, environment), join, time);
                provider.Lost += (instanceId, why) => Lose(provider.Name, instanceId, why);
                _providers.Add(provider);
            }
        }
    }

    public IReadOnlyList<CloudProvider> Providers => _providers;

    public IReadOnlyList<ICloudApi> Apis => _apis;

    /// <summary>Reads every provider's offers (a failure is kept and shown, the old offers stay).</summary>
    public async Task RefreshOffersAsync(CancellationToken cancellationToken)
    {
        foreach (var provider in _providers)
        {
            try
            {
                await provider.RefreshOffersAsync(cancellationToken);
                _offerErrors.TryRemove(provider.Name, out _);
            }
            catch (ProviderException e)
            {
                _offerErrors[provider.Name] = e.Message;
                LogOffersFailed(_logger, provider.Name, e.Message);
            }
        }
    }

    /// <summary>Each cloud's machines against the instance grains: ours kept, orphans terminated.</summary>
    public async Task ReconcileAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        foreach (var api in _apis)
        {
            try
            {
                var report = await CloudReconciliation.ReconcileAsync(api, async (instanceId, _) =>
                {
                    var instance = await grains.GetGrain<IInstanceGrain>(instanceId).GetAsync();
                    return instance.State != InstanceState.Cold || instance.Pending is not null;
                }, id => _providers.Any(p => p.Api == api && p.LaunchedRecently(id)), cancellationToken);
                _reconciled[api.Cloud] = report;
                ActorsMetrics.CloudMachines.Record(report.Kept.Count, new KeyValuePair<string, object?>("cloud", api.Cloud));
                foreach (var terminated in report.Terminated)
                {
                    _orphans.Enqueue(new CloudOrphan(_time.GetUtcNow(), api.Cloud, terminated));
                    while (_orphans.Count > 20 && _orphans.TryDequeue(out _))
                    {
                    }

                    ActorsMetrics.CloudOrphansTerminated.Add(1, new KeyValuePair<string, object?>("cloud", api.Cloud));
                    LogOrphan(_logger, api.Cloud, terminated);
                }
            }
            catch (ProviderException e)
            {
                _reconciled[api.Cloud] = new ReconcileReport(api.Cloud, 0, [], [], [e.Message]);
                LogReconcileFailed(_logger, api.Cloud, e.Message);
            }
        }
    }

    public IReadOnlyList<CloudView> Clouds() =>
        [.. _providers.Select(p => new CloudView(p.Name, p.Api.Cloud, p.Capabilities.CanStop, p.Capabilities.Spot, p.Capabilities.StoppedBillsStorage,
            p.Capabilities.TypicalTimeToReady.TotalSeconds, p.Options.MaxPerHour, p.PriceList.Count, p.PriceList.Count > 0 ? p.PriceList[0].HotPerHour : null,
            _offerErrors.GetValueOrDefault(p.Name), _reconciled.TryGetValue(p.Api.Cloud, out var r) ? r : null))];

    public IReadOnlyList<CloudLoss> Lost() => [.. _lost];

    public IReadOnlyList<CloudOrphan> OrphansTerminated() => [.. _orphans];

    public void Dispose()
    {
        foreach (var api in _apis.OfType<IDisposable>())
        {
            api.Dispose();
        }
    }

    private void Lose(string provider, string instanceId, string why)
    {
        _lost.Enqueue(new CloudLoss(_time.GetUtcNow(), provider, instanceId, why));
        while (_lost.Count > 20 && _lost.TryDequeue(out _))
        {
        }

        ActorsMetrics.CloudMachinesLost.Add(1, new KeyValuePair<string, object?>("provider", provider));
        LogLost(_logger, provider, instanceId, why);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider}: reading offers failed: {Error}")]
    private static partial void LogOffersFailed(ILogger logger, string provider, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Cloud}: terminated orphan machine {Machine}")]
    private static partial void LogOrphan(ILogger logger, string cloud, string machine);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Cloud}: reconciliation failed: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, string cloud, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider}: instance {InstanceId} lost: {Why}")]
    private static partial void LogLost(ILogger logger, string provider, string instanceId, string why);
}
