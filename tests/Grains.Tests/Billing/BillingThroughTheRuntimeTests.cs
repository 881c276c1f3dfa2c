using Actors.Grains.Billing;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Actors.Storage.Billing;

namespace Actors.Grains.Tests;

/// <summary>Admission and settlement on a real Orleans silo (SQLite): the job grain's end
/// settles or refunds the tenant's reservation, reading the job's committed state.</summary>
public sealed partial class GrainsThroughTheRuntimeTests
{
    [Fact]
    public async Task AJobsEndSettlesOrRefundsItsReservationExactlyOnce()
    {
        var services = await ServicesAsync();
        var silo = services.GetRequiredService<IGrainFactory>();
        var ledger = services.GetRequiredService<CreditLedger>();
        var tenant = silo.GetGrain<ITenantGrain>("t-settle");
        await tenant.CreateAsync("Settle", Tier.Free); // 50 included credits
        Assert.Equal(50, (await tenant.GetUsageAsync()).Balance);

        async Task<string> AdmitAndSubmitAsync(string id, long seed)
        {
            var admission = await tenant.AdmitAsync(id, "segmentation", mayRepeat: false);
            Assert.True(admission.Admitted, admission.Detail);
            await silo.GetGrain<IJobGrain>(id).SubmitAsync(Request("t-settle", seed) with { Billed = true });
            return id;
        }

        var succeeded = await AdmitAndSubmitAsync("job-ok", 1);
        var failed = await AdmitAndSubmitAsync("job-fail", 2);
        var canceled = await AdmitAndSubmitAsync("job-cancel", 3);
        var expired = await AdmitAndSubmitAsync("job-expire", 4);
        Assert.Equal(46, (await tenant.GetUsageAsync()).Balance);

        await silo.GetGrain<IJobGrain>(succeeded).StartAsync("gpu-1", 1);
        await silo.GetGrain<IJobGrain>(succeeded).SucceedAsync(1, new JobResult("out", null, false, 5));
        await silo.GetGrain<IJobGrain>(failed).StartAsync("gpu-1", 1);
        await silo.GetGrain<IJobGrain>(failed).FailAsync("model crashed", 1);
        await silo.GetGrain<IJobGrain>(canceled).CancelAsync();
        await silo.GetGrain<IJobGrain>(expired).ExpireAsync();

        // Settlement follows each commit; the same finish again (a retry, the reminder) changes nothing.
        var usage = await EventuallyAsync(tenant, u => u.Reservations == 0);
        Assert.Equal(49, usage.Balance);
        Assert.Equal(1, usage.JobsToday); // refunded jobs give their quota back
        var outcomes = await Task.WhenAll(new[] { succeeded, failed, canceled, expired, succeeded }.Select(id => silo.GetGrain<IJobGrain>(id).GetAsync()));
        Assert.Equal(0, await tenant.FinishJobsAsync(outcomes));
        Assert.Equal(0, await tenant.FinishJobsAsync([outcomes[1]]));

        Assert.True(await ledger.HasAsync("t-settle", "settle:" + succeeded));
        Assert.False(await ledger.HasAsync("t-settle", "release:" + succeeded));
        Assert.All(new[] { failed, canceled, expired }, id => Assert.True(ledger.HasAsync("t-settle", "release:" + id).Result));
        var sums = await ledger.SumAsync("t-settle");
        Assert.Equal((usage.IncludedCredits, usage.PurchasedCredits), (sums.Included, sums.Purchased));
    }

    [Fact]
    public async Task AReservationWhoseJobNeverAppearsIsReleasedByTheReminder()
    {
        var services = await ServicesAsync();
        var silo = services.GetRequiredService<IGrainFactory>();
        var tenant = silo.GetGrain<ITenantGrain>("t-ghost");
        await tenant.CreateAsync("Ghost", Tier.Free);
        Assert.True((await tenant.AdmitAsync("job-never-submitted", "diffusion", mayRepeat: false)).Admitted);
        Assert.Equal(46, (await tenant.GetUsageAsync()).Balance);

        var registered = await services.GetRequiredService<IReminderTable>().ReadRows(tenant.GetGrainId());
        Assert.Equal(TenantGrain.ReservationsReminder, registered.Reminders.Single().ReminderName);
        _time.Advance(TimeSpan.FromSeconds(61)); // first check: the job is younger than the grace period
        await TickAsync(tenant, TenantGrain.ReservationsReminder);
        Assert.Equal(1, (await tenant.GetUsageAsync()).Reservations);

        _time.Advance(TimeSpan.FromSeconds(61)); // past the 120 s grace: released
        await TickAsync(tenant, TenantGrain.ReservationsReminder);
        var usage = await tenant.GetUsageAsync();
        Assert.Equal((0, 50L), (usage.Reservations, usage.Balance));
        Assert.True(await services.GetRequiredService<CreditLedger>().HasAsync("t-ghost", "release:job-never-submitted"));
    }

    [Fact]
    public async Task ASettlementLostWithItsSiloIsAppliedSoonAfterTheTenantComesBackNotAtTheReminder()
    {
        // Silo A runs the job to its end but never tells the tenant (it "dies" in between).
        var a = await ServicesAsync(loseSettlements: true);
        var grainsA = a.GetRequiredService<IGrainFactory>();
        var tenantA = grainsA.GetGrain<ITenantGrain>("t-lost");
        await tenantA.CreateAsync("Lost", Tier.Free);
        Assert.True((await tenantA.AdmitAsync("job-lost", "segmentation", mayRepeat: false)).Admitted);
        var job = grainsA.GetGrain<IJobGrain>("job-lost");
        await job.SubmitAsync(Request("t-lost", 31) with { Billed = true });
        await job.StartAsync("gpu-1", 1);
        await job.SucceedAsync(1, new JobResult("out", null, false, 5));
        await Task.Delay(300);
        Assert.Equal(1, (await tenantA.GetUsageAsync()).Reservations); // the finish call was lost
        await _silos[0].StopAsync();

        // Silo B: the tenant activates with the open reservation and settles it a second later,
        // without waiting for its reservations reminder (every 60 s).
        var b = await ServicesAsync();
        var tenantB = b.GetRequiredService<IGrainFactory>().GetGrain<ITenantGrain>("t-lost");
        var before = await tenantB.GetUsageAsync(); // activates it
        Assert.Equal(1, before.Reservations);
        _time.Advance(TimeSpan.FromSeconds(2));
        var usage = await EventuallyAsync(tenantB, u => u.Reservations == 0);
        Assert.Equal((0, 49L), (usage.Reservations, usage.Balance)); // settled once, at its price
    }

    [Fact]
    public async Task AJobPastItsPlansMaxWaitExpiresInsteadOfStartingAndIsRefunded()
    {
        var services = await ServicesAsync();
        var silo = services.GetRequiredService<IGrainFactory>();
        var tenant = silo.GetGrain<ITenantGrain>("t-wait");
        await tenant.CreateAsync("Wait", Tier.Free); // Free: max wait 5 min
        var admission = await tenant.AdmitAsync("job-waits", "segmentation", false);
        Assert.Equal(300, admission.MaxWaitSeconds);
        var job = silo.GetGrain<IJobGrain>("job-waits");
        await job.SubmitAsync(Request("t-wait", 77) with { Billed = true, MaxWaitSeconds = admission.MaxWaitSeconds });

        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var after = await job.StartAsync("gpu-1", 1);
        Assert.Equal(JobStatus.Expired, after.Status);
        var usage = await EventuallyAsync(tenant, u => u.Reservations == 0);
        Assert.Equal((50L, 0), (usage.Balance, usage.JobsToday));
    }

    [Fact]
    public async Task ACacheHitIsChargedAtThePlansCachePrice()
    {
        var services = await ServicesAsync();
        var silo = services.GetRequiredService<IGrainFactory>();
        var tenant = silo.GetGrain<ITenantGrain>("t-cache");
        await tenant.CreateAsync("Cache", Tier.Premium); // cache hits at half price, rounded up
        await tenant.SetPlanAsync("premium");
        var start = (await tenant.GetUsageAsync()).Balance;

        Assert.True((await tenant.AdmitAsync("first", "diffusion", false)).Admitted);
        var first = silo.GetGrain<IJobGrain>("first");
        var request = Request("t-cache", 9) with { Model = "diffusion", Billed = true };
        await first.SubmitAsync(request);
        await first.StartAsync("gpu-1", 1);
        var output = await services.GetRequiredService<Actors.Storage.Blobs.BlobStore>().PutAsync("t-cache", Actors.Grains.Stores.BlobClass.Output,
            "{\"image\":1}"u8.ToArray(), "application/json", "job:first", services.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(1));
        var result = new JobResult(output.Hash, null, false, 5, "first");
        await first.SucceedAsync(1, result);
        await services.GetRequiredService<Actors.Storage.Cache.ResultCache>().PutAsync(request.CacheKey, "diffusion", "t-cache", result, TimeSpan.FromDays(1));

        Assert.True((await tenant.AdmitAsync("second", "diffusion", false)).Admitted);
        var second = await silo.GetGrain<IJobGrain>("second").SubmitAsync(request);
        Assert.True(second.Result!.CacheHit);

        var usage = await EventuallyAsync(tenant, u => u.Reservations == 0);
        Assert.Equal(start - 4 - 2, usage.Balance);
    }

    private static async Task<UsageSnapshot> EventuallyAsync(ITenantGrain tenant, Func<UsageSnapshot, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var usage = await tenant.GetUsageAsync();
            if (done(usage) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return usage;
            }

            await Task.Delay(20);
        }
    }
}
