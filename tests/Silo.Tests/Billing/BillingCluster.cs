using Microsoft.Extensions.DependencyInjection;

namespace Actors.Silo.Tests.Billing;

/// <summary>A silo with the real plans (no relaxed Free plan) on a PostgreSQL database, talking to
/// <see cref="FakeStripe"/>; prices, packs and short billing timings for tests.</summary>
public sealed class BillingSiloFactory(string connectionString, string bucket, FakeStripe stripe, string roles) : SiloFactory
{
    /// <summary>The silo's object store (the shared bucket) with uploads that can be made to fail.</summary>
    public FaultyObjectStore Objects => (FaultyObjectStore)Services.GetRequiredService<Actors.Storage.Blobs.IObjectStore>();

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            var real = services.Last(d => d.ServiceType == typeof(Actors.Storage.Blobs.IObjectStore));
            services.Remove(real);
            services.AddSingleton<Actors.Storage.Blobs.IObjectStore>(sp => new FaultyObjectStore((Actors.Storage.Blobs.IObjectStore)real.ImplementationFactory!(sp)));
            services.AddSingleton<TimeProvider>(stripe.Time); // the cluster's clock: Stripe's and the silos' agree
        });
    }

    /// <summary>The real plans, with two settings these tests were written for: a dearer model
    /// (diffusion 4 credits, a per-model price) and a Free plan of 50 credits.</summary>
    protected override IEnumerable<(string Key, string Value)> PlanSettings() =>
        [("Billing:ModelPrices:diffusion", "4"), ("Billing:Plans:free:IncludedCredits", "50")];

    protected override IEnumerable<(string Key, string Value)> Settings() =>
    [
        .. TestDatabases.ClusterOn(connectionString),
        ("Cluster:Store", "postgres"),
        ("Cluster:ConnectionString", connectionString),
        ("Cluster:Roles", roles),
        .. TestBuckets.Settings(bucket),
        ("Billing:Stripe:SecretKey", FakeStripe.SecretKey),
        ("Billing:Stripe:BaseUrl", stripe.Url),
        ("Billing:Stripe:WebhookSecrets:0", FakeStripe.WebhookSecret),
        ("Billing:Stripe:WebhookSecrets:1", FakeStripe.OldWebhookSecret),
        ("Billing:Plans:premium:StripePriceId", "price_premium_monthly"),
        ("Billing:Plans:pro:StripePriceId", "price_pro_monthly"),
        ("Billing:Plans:starter:StripePriceId", "price_starter_monthly"),
        ("Billing:Packs:credits_1000:StripePriceId", "price_pack_1000"),
        ("Billing:Plans:quota50:Name", "Quota 50"),
        ("Billing:Plans:quota50:Tier", "Premium"),
        ("Billing:Plans:quota50:DailyJobs", "50"),
        ("Billing:Plans:quota50:IncludedCredits", "1000"),
        ("Billing:Plans:quota50:RateLimit:Jobs", "100000"),
        ("Billing:Plans:textonly:Name", "Classification only"),
        ("Billing:Plans:textonly:IncludedCredits", "10"),
        ("Billing:Plans:textonly:Models:0", "classification"),
        ("Billing:ReservationCheckSeconds", "1"),
        ("Billing:ReservationGraceSeconds", "2"),
    ];
}

/// <summary>Two silos on one PostgreSQL database (A: every role; B: api only) and one fake Stripe.
/// Like any cluster they share one blob store, a bucket: an input stored by B is run by A's GPU host.
/// They and Stripe share one clock, started at 09:00 UTC on a fixed day, so the daily quota's
/// midnight is 15 hours off whenever the tests run.</summary>
public sealed class BillingCluster : IDisposable
{
    public BillingCluster()
    {
        Clock = new RunningClock(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
        Stripe = new FakeStripe(Clock);
        var database = TestDatabases.Create("billing");
        var bucket = TestBuckets.NewBucket();
        A = new BillingSiloFactory(database, bucket, Stripe, "api,control,gpu");
        B = new BillingSiloFactory(database, bucket, Stripe, "api");
        ApiA = new ApiClient(A.CreateClient());
        ApiB = new ApiClient(B.CreateClient());
    }

    public RunningClock Clock { get; }

    public FakeStripe Stripe { get; }

    public BillingSiloFactory A { get; }

    public BillingSiloFactory B { get; }

    public ApiClient ApiA { get; }

    public ApiClient ApiB { get; }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        Stripe.Dispose();
    }
}
