using Actors.Storage.Cache;
using Actors.Storage.Queue;
using Actors.Storage.ReadModels;

namespace Actors.Grains.Jobs;

/// <summary>What a job grain touches besides its own state: the queue, the result cache, the
/// this silo's queue signal (its listing and webhook deliveries are written with its row). Every effect is keyed by the job id,
/// so a turn retried after a crash repeats none of them.</summary>
public sealed record JobServices(IJobQueue Queue, ResultCache Cache, QueueSignal Signal,
    Billing.JobSettlement Settlement, Storage.Blobs.BlobStore Blobs, ErasureLog Erasures);
