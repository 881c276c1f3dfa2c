namespace Actors.Fleet.Providers.Cloud;

/// <summary>A cloud's list of our machines against what the cluster holds (run by the control
/// silo at start and periodically): a machine whose instance holds it is kept (its provider adopts
/// it by name when asked about it); one that no instance holds — a launch whose answer was lost and
/// never recorded, an instance released while the cloud was down — is an orphan and terminated. A
/// machine without our prefix is never listed, so never touched; one whose launch began less than
/// the grace ago is left alone (its instance has not recorded it yet).</summary>
public static class CloudReconciliation
{
    public static async Task<ReconcileReport> ReconcileAsync(ICloudApi api, Func<string, CancellationToken, Task<bool>> held, Func<string, bool> launchedRecently,
        CancellationToken cancellationToken = default)
    {
        var machines = await api.ListAsync(cancellationToken);
        var kept = new List<string>();
        var terminated = new List<string>();
        var errors = new List<string>();
        foreach (var machine in machines.Where(m => !m.Gone && m.Name.StartsWith(api.NamePrefix, StringComparison.Ordinal)))
        {
            var instanceId = machine.Name[api.NamePrefix.Length..];
            bool isHeld;
            try
            {
                isHeld = launchedRecently(instanceId) || await held(instanceId, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not known to be an orphan is not an orphan: kept, asked again on the next pass.
                errors.Add($"{machine.Name}: could not ask its instance ({e.GetType().Name}: {e.Message}); kept");
                isHeld = true;
            }

            if (isHeld)
            {
                kept.Add(instanceId);
                continue;
            }

            try
            {
                await api.TerminateAsync(machine, cancellationToken);
                terminated.Add($"{machine.Name} ({machine.Id}, {machine.Detail}, ${machine.PerHour}/h)");
            }
            catch (ProviderException e)
            {
                errors.Add($"{machine.Name}: {e.Message}");
            }
        }

        return new ReconcileReport(api.Cloud, machines.Count, kept, terminated, errors);
    }
}

/// <summary>What one reconciliation found: machines listed, instances kept, orphans terminated, errors.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ReconcileReport([Id(1697885706U)] string Cloud, [Id(1982861891U)] int Listed, [Id(870518436U)] IReadOnlyList<string> Kept, [Id(2014862428U)] IReadOnlyList<string> Terminated, [Id(872408805U)] IReadOnlyList<string> Errors);
