namespace Actors.Grains.Jobs;

/// <summary>What can happen to a job; <see cref="JobLifecycle.Apply"/> decides if it may.</summary>
public abstract record JobCommand
{
    public sealed record Submit(string TenantId, string Model, int Tier) : JobCommand;

    public sealed record Start(string InstanceId, int Attempt) : JobCommand;

    public sealed record Requeue(string Reason) : JobCommand;

    public sealed record Succeed(string OutputRef) : JobCommand;

    public sealed record Fail(string Reason) : JobCommand;

    public sealed record Cancel : JobCommand;

    public sealed record Expire : JobCommand;
}
