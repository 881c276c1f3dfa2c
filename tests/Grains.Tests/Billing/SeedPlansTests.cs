using Actors.Grains.Billing;
using Actors.Grains.Jobs;
using Actors.Grains.Tenants;

namespace Actors.Grains.Tests.Billing;

/// <summary>Seed 003's price lists, plan by plan, in the seed's own unit (an image, or a request for
/// the other models): each test states the seed's numbers and runs a month of them through the
/// tenant's admission and settlement with the default options.</summary>
public sealed class SeedPlansTests
{
    private static readonly BillingOptions Defaults = new();

    /// <summary>The first of a 31-day month, midnight UTC: the calendar period is the whole month.</summary>
    private static readonly long MonthStart = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private const long Minute = 60_000;

    private static TenantRecord Tenant(string plan, BillingOptions? billing = null)
    {
        var b = billing ?? Defaults;
        return TenantBilling.Rolled(new TenantRecord { Name = "t", Created = true, PlanId = plan, Tier = b.Plan(plan).Tier }, b, MonthStart).State;
    }

    /// <summary>A tenant on <paramref name="plan"/> through a live Stripe subscription, which is
    /// what bills its overage.</summary>
    private static TenantRecord Subscribed(string plan) =>
        Tenant(plan) with { CustomerId = "cus_1", SubscriptionId = "sub_1", SubscriptionStatus = "active" };

    /// <summary>One image: admitted (or not) at <paramref name="at"/>, and if admitted run and settled.</summary>
    private static (TenantRecord State, Admission Answer) Image(TenantRecord r, string jobId, long at, BillingOptions? billing = null, string model = "diffusion")
    {
        var b = billing ?? Defaults;
        var admitted = TenantBilling.Admit(r, new AdmissionRequest("t", jobId, model), b, at);
        if (!admitted.Result.Admitted)
        {
            return (admitted.State, admitted.Result);
        }

        var job = new JobSnapshot
        {
            JobId = jobId, Status = JobStatus.Succeeded, Request = new JobRequest { TenantId = "t", Model = model, ModelVersion = "1" },
            Result = new JobResult("out", "img", CacheHit: false, ProducedBy: jobId),
        };
        return (TenantBilling.Settle(admitted.State, [(jobId, job)], b, at + 1000).State, admitted.Result);
    }

    /// <summary>Images one a minute from <paramref name="start"/> (past every plan's rate limits).</summary>
    private static (TenantRecord State, List<Admission> Answers) Images(TenantRecord r, int count, long start, string prefix, BillingOptions? billing = null)
    {
        var answers = new List<Admission>();
        for (var i = 0; i < count; i++)
        {
            Admission answer;
            (r, answer) = Image(r, $"{prefix}-{i}", start + (i * Minute), billing);
            answers.Add(answer);
        }

        return (r, answers);
    }

    [Fact]
    public void OptionCFreeIsTwentyImagesADayEveryDayOfTheMonthAtLowPriorityWithAWatermark()
    {
        var plan = Defaults.Plan("free");
        Assert.Equal((0m, Tier.Free, true, 300), (plan.MonthlyPriceUsd, plan.Tier, plan.Watermark, plan.MaxWaitSeconds));
        var r = Tenant("free");
        for (var day = 0; day < 31; day++)
        {
            List<Admission> answers;
            (r, answers) = Images(r, 21, MonthStart + (day * TenantBilling.DayMs), $"d{day}");
            Assert.All(answers.Take(20), a => Assert.True(a.Admitted, $"day {day + 1}: {a.Code} {a.Detail}"));
            Assert.All(answers.Take(20), a => Assert.Equal(((int)Tier.Free, true), (a.Priority, a.Watermark)));
            Assert.Equal("daily_quota_exceeded", answers[20].Code); // the 21st image of a day
        }

        Assert.Equal(620, r.JobsThisPeriod); // 20 a day for all 31 days: the month never ran out first
    }

    [Fact]
    public void OptionBFreeIsFiftyImagesAMonthWithoutOverage()
    {
        var plan = Defaults.Plan("free_monthly");
        Assert.Equal((0m, 50L, (decimal?)null, Tier.Free), (plan.MonthlyPriceUsd, plan.IncludedCredits, plan.OverageUsdPerCredit, plan.Tier));
        var (r, answers) = Images(Tenant("free_monthly"), 51, MonthStart, "m");
        Assert.All(answers.Take(50), a => Assert.True(a.Admitted, a.Code));
        Assert.Equal("payment_required", answers[50].Code);
        Assert.Equal(0, r.OverageThisPeriod);
    }

    [Theory]
    [InlineData("starter", 9, 500, 0.025, Tier.Premium)]
    [InlineData("creator", 29, 2_000, 0.018, Tier.Pro)]
    [InlineData("studio", 99, 10_000, 0.012, Tier.Enterprise)]
    public void OptionBSubscriptionsIncludeTheirImagesAndBillEachImagePastThemAtTheOverage(string id, decimal monthly, long images, decimal overage, Tier priority)
    {
        var plan = Defaults.Plan(id);
        Assert.Equal((monthly, images, (decimal?)overage, priority), (plan.MonthlyPriceUsd, plan.IncludedCredits, plan.OverageUsdPerCredit, plan.Tier));
        var (r, answers) = Images(Subscribed(id), (int)images + 3, MonthStart, id);
        Assert.All(answers, a => Assert.True(a.Admitted, a.Code));
        Assert.Equal(3, r.OverageThisPeriod); // images past the included ones, each billed at the overage price
        Assert.Equal(0, r.Book.Balance);
    }

    [Theory]
    [InlineData("premium", 15, Tier.Premium, false)]
    [InlineData("pro", 49, Tier.Pro, true)]
    public void OptionCPaidPlansAreUnlimitedUpToFiveThousandImagesAndThenThrottledNotRefused(string id, decimal monthly, Tier priority, bool api)
    {
        var plan = Defaults.Plan(id);
        Assert.Equal((monthly, priority, api, false, 5_000), (plan.MonthlyPriceUsd, plan.Tier, plan.ApiAccess, plan.Watermark, plan.FairUseJobsPerPeriod));
        var r = Tenant(id) with { JobsThisPeriod = 4_999 };
        Admission last, past;
        (r, last) = Image(r, "5000th", MonthStart + Minute);
        (r, past) = Image(r, "5001st", MonthStart + (2 * Minute));
        Assert.Equal((true, (int)priority, false), (last.Admitted, last.Priority, last.Throttled));
        Assert.Equal((true, (int)Tier.Free, true), (past.Admitted, past.Priority, past.Throttled)); // throttled, still served
        Assert.Equal(0, r.OverageThisPeriod); // "unlimited": nothing owed
    }

    [Fact]
    public void OptionAFreeIsTenImagesADay()
    {
        Assert.Equal((0m, 10, Tier.Free), (Defaults.Plan("free_daily").MonthlyPriceUsd, Defaults.Plan("free_daily").DailyJobs, Defaults.Plan("free_daily").Tier));
        var (_, answers) = Images(Tenant("free_daily"), 11, MonthStart, "a");
        Assert.All(answers.Take(10), a => Assert.True(a.Admitted, a.Code));
        Assert.Equal("daily_quota_exceeded", answers[10].Code);
    }

    [Fact]
    public void OptionABasicBillsEveryImageAtTwoCentsWithNoMonthlyFee()
    {
        var plan = Defaults.Plan("basic");
        Assert.Equal((0m, 0L, (decimal?)0.02m, Tier.Premium), (plan.MonthlyPriceUsd, plan.IncludedCredits, plan.OverageUsdPerCredit, plan.Tier));
        var (r, answers) = Images(Subscribed("basic"), 7, MonthStart, "b");
        Assert.All(answers, a => Assert.True(a.Admitted, a.Code));
        Assert.Equal(7, r.OverageThisPeriod); // 7 images → 7 × $0.02 owed
    }

    [Theory]
    [InlineData("pro_per_image", 0.015, 500, Tier.Pro)]
    [InlineData("enterprise_per_image", 0.01, 5_000, Tier.Enterprise)]
    public void OptionAMinimumsAreThatManyImagesAtThePerImagePriceAndEachImagePastThemAtTheSamePrice(string id, decimal perImage, long minimum, Tier priority)
    {
        var plan = Defaults.Plan(id);
        Assert.Equal((minimum * perImage, minimum, (decimal?)perImage, priority), (plan.MonthlyPriceUsd, plan.IncludedCredits, plan.OverageUsdPerCredit, plan.Tier));
        var (r, answers) = Images(Subscribed(id), (int)minimum + 2, MonthStart, id);
        Assert.All(answers, a => Assert.True(a.Admitted, a.Code));
        Assert.Equal(2, r.OverageThisPeriod);
    }

    /// <summary>Paid overage is billed as meter events on the tenant's Stripe subscription: without
    /// a live one (none, or past due) nothing would ever collect it, so the job past the credits
    /// is a 402 that changes nothing. Enterprise's overage is invoiced by contract and needs none;
    /// the "unlimited" plans' overage is free and needs none either.</summary>
    [Theory]
    [InlineData(null, null, false)]
    [InlineData("sub_1", "past_due", false)]
    [InlineData("sub_1", "canceled", false)]
    [InlineData("sub_1", "trialing", true)]
    [InlineData("sub_1", "active", true)]
    public void PaidOverageNeedsALiveStripeSubscription(string? subscription, string? status, bool admitted)
    {
        var r = Tenant("basic") with { CustomerId = "cus_1", SubscriptionId = subscription, SubscriptionStatus = status };
        var answer = TenantBilling.Admit(r, new AdmissionRequest("t", "img", "diffusion"), Defaults, MonthStart + Minute);
        Assert.Equal(admitted, answer.Result.Admitted);
        if (!admitted)
        {
            Assert.Equal("payment_required", answer.Result.Code);
            Assert.Contains("no active one", answer.Result.Detail, StringComparison.Ordinal);
            Assert.Contains("POST /v1/billing/checkout", answer.Result.Detail, StringComparison.Ordinal);
            Assert.Same(r, answer.State); // a refusal writes nothing
            Assert.Empty(answer.Effects.Ledger);
        }
        else
        {
            Assert.Equal(1, answer.Result.ReservedOverage);
        }

        Assert.Equal(admitted, TenantBilling.Usage("t", answer.State, Defaults, MonthStart + Minute).OverageAllowed);
    }

    [Theory]
    [InlineData("enterprise")] // invoiced by contract
    [InlineData("pro")] // past the credits it is free
    public void OverageThatStripeDoesNotBillNeedsNoSubscription(string id)
    {
        var r = Tenant(id) with { CustomerId = "cus_1" }; // a customer (it bought a pack once), no subscription
        r = r with { Book = r.Book with { Included = 0 } };
        var admitted = TenantBilling.Admit(r, new AdmissionRequest("t", "img", "diffusion"), Defaults, MonthStart + Minute);
        Assert.True(admitted.Result.Admitted, admitted.Result.Detail);
        Assert.Equal(1L, admitted.Result.ReservedOverage); // the whole price past the credits

        var job = new JobSnapshot
        {
            JobId = "img", Status = JobStatus.Succeeded, Request = new JobRequest { TenantId = "t", Model = "diffusion", ModelVersion = "1" },
            Result = new JobResult("out", "img", CacheHit: false, ProducedBy: "img"),
        };
        var settled = TenantBilling.Settle(admitted.State, [("img", job)], Defaults, MonthStart + (2 * Minute));
        Assert.Equal(1, settled.State.OverageThisPeriod);
        Assert.Empty(settled.Effects.Meters); // nothing for Stripe: the contract's invoice, or free
    }

    [Fact]
    public void OneCreditIsOneImageOrRequestUnlessAModelIsPricedHigher()
    {
        var (r, _) = Image(Tenant("starter"), "seg", MonthStart, model: "segmentation");
        Assert.Equal(499, r.Book.Balance); // a segmentation request is one credit
        var dearer = new BillingOptions { ModelPrices = new() { ["diffusion"] = 4 } };
        var (d, answer) = Image(Tenant("starter", dearer), "img", MonthStart, dearer);
        Assert.Equal((4L, 496L), (answer.ReservedCredits, d.Book.Balance)); // per-model prices stay possible
    }
}
