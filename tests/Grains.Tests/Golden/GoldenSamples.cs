using Actors.Fleet.Providers;
using Actors.Grains.Billing;
using Actors.Grains.Instances;
using Actors.Grains.Jobs;
using Actors.Grains.Stores;
using Actors.Grains.Tenants;

namespace Actors.Grains.Tests.Golden;

/// <summary>One value of each type that crosses silos, built only from members every version
/// since 4b96934 has. Their bytes as that version's serializers wrote them are in this folder
/// (<c>*.bin</c>); <see cref="GoldenBytesTests"/> reads them with today's types.</summary>
internal static class GoldenSamples
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 8, 30, 0, TimeSpan.Zero);

    public static readonly JobRequest Request = new()
    {
        TenantId = "tenant-golden", Model = "segmentation", ModelVersion = "1.2.0", Tier = 2, InputRef = new string('d', 64),
        InputContentType = "image/png", Parameters = new JobParameters { Shape = [1, 1, 16], SpacingXMm = 0.8, Seed = 42, Prompt = "a red circle", Steps = 25 },
        IdempotencyKey = "key-1", WebhookUrl = "https://hooks.example/job", MaxAttempts = 4, Billed = true, Watermark = true, MaxWaitSeconds = 300,
        Retention = new DataRetention { InputDays = 3, OutputDays = 14, CacheDays = 21 }, SharedCache = true,
    };

    public static readonly IReadOnlyDictionary<string, object> Values = new Dictionary<string, object>
    {
        ["JobSnapshot"] = new JobSnapshot
        {
            JobId = "job-golden", Status = JobStatus.Succeeded, Request = Request, Attempts = 2, InstanceId = "gpu-3", Reason = "retried once",
            Result = new JobResult("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", null, true, 12.5, "job-other"),
            QueuedAt = At, StartedAt = At.AddSeconds(2), FinishedAt = At.AddSeconds(3), Progress = new JobProgress(3, 10, "slices"), DataErasedAt = At.AddDays(1),
        },
        ["JobErasure"] = new JobErasure(new JobSnapshot { JobId = "job-e", Status = JobStatus.Failed, Request = Request }, new ErasureCount(2, 4096, 1), 3),
        ["Admission"] = new Admission
        {
            Admitted = true, Code = "ok", Detail = "admitted", RetryAfterSeconds = 7, Priority = 3, Watermark = true, Throttled = true, ReservedCredits = 5,
            ReservedOverage = 2, RateLimit = new RateLimitStatus(10, 9, 60), MaxWaitSeconds = 120, Retention = new DataRetention { OutputDays = 10 }, Repeated = true,
        },
        ["UsageSnapshot"] = new UsageSnapshot
        {
            TenantId = "tenant-golden", PlanId = "pro", PlanName = "Pro", Priority = 2, Throttled = false, JobsToday = 17, DailyJobs = 100, DayResetsAt = At.AddHours(15),
            JobsThisPeriod = 301, MonthlyJobs = 5000, PeriodStart = At.AddDays(-6), PeriodEnd = At.AddDays(24), IncludedCredits = 900, PurchasedCredits = 40,
        },
        ["TenantSnapshot"] = new TenantSnapshot("tenant-golden", "Golden Clinic", Tier.Pro, true, ["key-a", "key-b"], "pro"),
        ["LedgerEntry"] = new LedgerEntry("settle:job-golden", "settle", -1, 0, 0, "job-golden", "ref-9"),
        ["InstanceSnapshot"] = new InstanceSnapshot("gpu-3", "H100", InstanceState.Serving, At, new HourlyRates(0m, 0.10m, 2.49m, 2.49m), 12.345m,
            new Dictionary<InstanceState, TimeSpan> { [InstanceState.Hot] = TimeSpan.FromMinutes(5), [InstanceState.Serving] = TimeSpan.FromMinutes(42) })
        {
            HostSiloId = "S127.0.0.1:11111:1", Models = ["segmentation", "identity"], Health = InstanceHealth.Degraded, HealthReason = "slow", Provider = "runpod",
            Pending = new PendingOperation("resume", At, At.AddMinutes(2), 1, "queue"), LastError = "none",
            MeasuredSeconds = new Dictionary<string, double> { ["rent"] = 61.5 },
        },
        ["GpuOffer"] = new GpuOffer("H100", 2.49m, 0.10m, true, 80),
        ["ProviderStatus"] = new ProviderStatus("gpu-3", ProviderPhase.Hot, InstanceState.Hot, At, "late"),
        ["HousekeepingReport"] = new Actors.Grains.Cluster.HousekeepingReport(1, 2, 3, 4, 5, 6),
    };
}
