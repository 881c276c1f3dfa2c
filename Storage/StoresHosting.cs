using Actors.Grains.Stores;
using Actors.Storage.Billing;
using Actors.Storage.OrleansProviders;
using Actors.Storage.Outboxes;
using Actors.Storage.ReadModels;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Storage;

/// <summary>Registers the tables beside Orleans' grain storage (job index, idempotency keys, the
/// credit ledger, the webhook and Stripe outboxes, the dashboard's samples), each once, under its
/// own type for the grains and under the Grains.Abstractions interface the API reads it through.
/// Needs a <see cref="Sql.SqlStore"/> and a <see cref="TimeProvider"/>.</summary>
public static class StoresHosting
{
    public static IServiceCollection AddActorsStores(this IServiceCollection services)
    {
        services.AddSingleton<JobIndex>();
        services.AddSingleton<IJobListings>(sp => sp.GetRequiredService<JobIndex>());
        services.AddSingleton<IdempotencyKeys>();
        services.AddSingleton<IIdempotencyKeys>(sp => sp.GetRequiredService<IdempotencyKeys>());
        services.AddSingleton<CreditLedger>();
        services.AddSingleton<ICreditLedger>(sp => sp.GetRequiredService<CreditLedger>());
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<IWebhookDeliveries>(sp => sp.GetRequiredService<WebhookOutbox>());
        services.AddSingleton<IStripeOutbox, StripeOutbox>();
        services.AddSingleton<IDashboardSamples, DashboardSamples>();
        services.AddSingleton<GrainStateRows>();
        services.AddSingleton<OrleansProviders.ReminderRows>();
        services.AddSingleton<ErasureLog>();
        services.AddSingleton<IErasureLog>(sp => sp.GetRequiredService<ErasureLog>());
        return services;
    }
}
