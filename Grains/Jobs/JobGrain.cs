using Actors.Runtime;

namespace Actors.Grains.Jobs;

public sealed class JobGrain(IPersistentState<JobSnapshot> state, TimeProvider time) : Grain, IJobGrain
{
    public Task<JobSnapshot> SubmitAsync(string tenantId, string model, int tier) => ApplyAsync(new JobCommand.Submit(tenantId, model, tier));

    public Task<JobSnapshot> StartAsync(string instanceId, int attempt) => ApplyAsync(new JobCommand.Start(instanceId, attempt));

    public Task<JobSnapshot> RequeueAsync(string reason) => ApplyAsync(new JobCommand.Requeue(reason));

    public Task<JobSnapshot> SucceedAsync(string outputRef) => ApplyAsync(new JobCommand.Succeed(outputRef));

    public Task<JobSnapshot> FailAsync(string reason) => ApplyAsync(new JobCommand.Fail(reason));

    public Task<JobSnapshot> CancelAsync() => ApplyAsync(new JobCommand.Cancel());

    public Task<JobSnapshot> ExpireAsync() => ApplyAsync(new JobCommand.Expire());

    public Task<JobSnapshot> GetAsync() => Task.FromResult(state.State with { JobId = GrainKey });

    private async Task<JobSnapshot> ApplyAsync(JobCommand command)
    {
        var before = state.State with { JobId = GrainKey };
        var after = JobLifecycle.Apply(before, command, time.GetUtcNow());
        if (!ReferenceEquals(after, before))
        {
            state.State = after;
            await state.WriteStateAsync();
        }

        return after;
    }
}
