using System.Threading.Channels;

namespace Actors.Storage.Sql;

/// <summary>Writes of many callers (many grains) that arrive while one round trip runs share the
/// next one: a single loop takes every waiting item (up to <c>max</c>; two items with the same key
/// never share a batch — a later one waits for the next), runs them as one batch and answers each
/// caller with its own result. No timer: under load a batch is what arrived during the last
/// round trip; alone, a write goes at once. A failed batch fails each of its callers.</summary>
public sealed class GroupCommit<TItem, TResult>
{
    private readonly Channel<Pending> _waiting = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _run;
    private readonly Func<TItem, string> _key;
    private readonly int _max;

    /// <param name="run">Runs one batch; answers one result per item, in order.</param>
    public GroupCommit(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> run, Func<TItem, string> key, int max = 256)
    {
        _run = run;
        _key = key;
        _max = max;
        _ = Task.Run(LoopAsync);
    }

    public Task<TResult> RunAsync(TItem item)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_waiting.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("the group commit has stopped");
        }

        return pending.Done.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(_max);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var deferred = new Queue<Pending>();
        while (true)
        {
            if (deferred.Count == 0 && !await _waiting.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                return;
            }

            batch.Clear();
            keys.Clear();
            var carried = deferred.Count;
            for (var i = 0; i < carried && batch.Count < _max; i++)
            {
                var held = deferred.Dequeue();
                if (keys.Add(_key(held.Item)))
                {
                    batch.Add(held);
                }
                else
                {
                    deferred.Enqueue(held);
                }
            }

            while (batch.Count < _max && _waiting.Reader.TryRead(out var next))
            {
                if (keys.Add(_key(next.Item)))
                {
                    batch.Add(next);
                }
                else
                {
                    deferred.Enqueue(next); // the same key twice in one statement: the later one goes next time
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var results = await _run([.. batch.Select(p => p.Item)]).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                foreach (var p in batch)
                {
                    p.Done.TrySetException(e);
                }
            }
        }
    }

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);
}
