using System.Threading.Channels;
using Actors.Inference.Errors;
using Actors.Inference.Tensors;

namespace Actors.Inference.Batching;

/// <summary>Merges concurrent requests to one model into batched forwards. A batch closes
/// when it holds <see cref="BatcherOptions.MaxBatchSize"/> rows or its first request has
/// waited <see cref="BatcherOptions.MaxQueueDelay"/>. Each caller gets its own rows back.
/// The queue is bounded: when full, callers get <see cref="BatchQueueFullException"/>.</summary>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly string _model;
    private readonly Func<IReadOnlyList<Tensor>, IReadOnlyList<int>, Tensor[][]> _forward;
    private readonly BatcherOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<Request> _queue;
    private readonly Task _workers;
    private long _batches;
    private long _rows;
    private volatile bool _disposed;

    /// <summary>A batcher over a forward that returns the whole batch's outputs; they are
    /// split per request here.</summary>
    public DynamicBatcher(string model, Func<IReadOnlyList<Tensor>, Tensor[]> forward, BatcherOptions options, TimeProvider? time = null)
        : this(model, (inputs, rows) => SplitRows(forward(inputs), rows), options, time)
    {
    }

    /// <summary>A batcher over a forward that splits its outputs itself, one array per
    /// request in order (<see cref="TorchModule.ForwardSplit"/> copies each request's rows
    /// straight from the device).</summary>
    public DynamicBatcher(string model, Func<IReadOnlyList<Tensor>, IReadOnlyList<int>, Tensor[][]> forward, BatcherOptions options, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxQueued, 1);
        _model = model;
        _forward = forward;
        _options = options;
        _time = time ?? TimeProvider.System;
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(options.MaxQueued)
        {
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _workers = Task.WhenAll(Enumerable.Range(0, options.MaxConcurrentBatches).Select(_ =>
            Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));
    }

    /// <summary>Raised on the worker after every forward (for metrics).</summary>
    public event Action<BatchRecord>? BatchCompleted;

    public BatcherOptions Options => _options;

    public long BatchesRun => Interlocked.Read(ref _batches);

    public long RowsRun => Interlocked.Read(ref _rows);

    public int Waiting => _queue.Reader.Count;

    /// <summary>Queues <paramref name="inputs"/> (each with the same leading row count) and
    /// returns the model's outputs for those rows.</summary>
    public Task<Tensor[]> RunAsync(IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken = default)
    {
        if (inputs.Count == 0 || inputs.Any(t => t.Shape.Count == 0))
        {
            throw new InvalidInputException("batched inputs need a leading batch dimension");
        }

        var rows = inputs[0].Shape[0];
        if (rows < 1 || inputs.Any(t => t.Shape[0] != rows))
        {
            throw new InvalidInputException("every input of one request must have the same number of rows (>= 1)");
        }

        if (rows > _options.MaxBatchSize)
        {
            throw new InvalidInputException($"{rows} rows exceed model '{_model}''s max batch size {_options.MaxBatchSize}");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var request = new Request(inputs, (int)rows, _time.GetTimestamp());
        if (!_queue.Writer.TryWrite(request))
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            throw new BatchQueueFullException(_model, _options.MaxQueued);
        }

        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(
                static state => ((Request)state!).Completion.TrySetCanceled(), request);
        }

        return request.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        await _workers.ConfigureAwait(false);
    }

    /// <summary>One worker; <see cref="BatcherOptions.MaxConcurrentBatches"/> of them share the
    /// queue, so one can assemble a batch while another's forward runs.</summary>
    private async Task RunAsync()
    {
        var batch = new List<Request>(_options.MaxBatchSize);
        var carried = new Request?[1];
        while (await NextBatchAsync(batch, carried).ConfigureAwait(false))
        {
            Execute(batch);
            batch.Clear();
        }
    }

    /// <summary>Fills <paramref name="batch"/>; false once the queue is closed and empty.
    /// <paramref name="carried"/> holds a request taken from the queue that did not fit.</summary>
    private async Task<bool> NextBatchAsync(List<Request> batch, Request?[] carried)
    {
        var first = carried[0];
        carried[0] = null;
        while (first is null || first.Completion.Task.IsCompleted)
        {
            if (!await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                return false;
            }

            _queue.Reader.TryRead(out first);
        }

        batch.Add(first);
        var rows = first.Rows;
        var deadline = first.EnqueuedAt + (long)(_options.MaxQueueDelay.TotalSeconds * _time.TimestampFrequency);
        while (rows < _options.MaxBatchSize)
        {
            if (_queue.Reader.TryRead(out var next))
            {
                if (next.Completion.Task.IsCompleted)
                {
                    continue;
                }

                if (rows + next.Rows > _options.MaxBatchSize || !Compatible(first, next))
                {
                    carried[0] = next;
                    break;
                }

                batch.Add(next);
                rows += next.Rows;
                continue;
            }

            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            var arrival = _queue.Reader.WaitToReadAsync().AsTask();
            var done = await Task.WhenAny(arrival, Task.Delay(remaining, _time)).ConfigureAwait(false);
            if (done != arrival || !arrival.Result)
            {
                break;
            }
        }

        return true;
    }

    private void Execute(List<Request> batch)
    {
        batch.RemoveAll(r => r.Completion.Task.IsCompleted);
        if (batch.Count == 0)
        {
            return;
        }

        var started = _time.GetTimestamp();
        var rows = batch.Sum(r => r.Rows);
        try
        {
            var inputs = new Tensor[batch[0].Inputs.Count];
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i] = Tensor.ConcatRows(batch.Select(r => r.Inputs[i]).ToList());
            }

            var outputs = _forward(inputs, batch.Select(r => r.Rows).ToArray());
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Complete(outputs[i]);
            }

            Record(batch.Count, rows, started, failed: false);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One bad request must not fail its neighbours: run each alone.
            Record(batch.Count, rows, started, failed: true);
            foreach (var request in batch)
            {
                Execute([request]);
            }
        }
        catch (Exception e)
        {
            Record(1, rows, started, failed: true);
            batch[0].Fail(e);
        }
    }

    private void Record(int requests, int rows, long started, bool failed)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _rows, rows);
        BatchCompleted?.Invoke(new BatchRecord(requests, rows, _time.GetElapsedTime(started), failed));
    }

    private static Tensor[][] SplitRows(Tensor[] outputs, IReadOnlyList<int> rows)
    {
        var total = rows.Sum();
        var result = new Tensor[rows.Count][];
        var at = 0L;
        for (var i = 0; i < rows.Count; i++)
        {
            var start = at;
            result[i] = outputs.Select(o => o.Shape.Count > 0 && o.Shape[0] == total ? o.SliceRows(start, rows[i]) : o).ToArray();
            at += rows[i];
        }

        return result;
    }

    private static bool Compatible(Request a, Request b)
    {
        if (a.Inputs.Count != b.Inputs.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Inputs.Count; i++)
        {
            if (a.Inputs[i].DType != b.Inputs[i].DType || !a.Inputs[i].Shape.Skip(1).SequenceEqual(b.Inputs[i].Shape.Skip(1)))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Request(IReadOnlyList<Tensor> inputs, int rows, long enqueuedAt)
    {
        public IReadOnlyList<Tensor> Inputs { get; } = inputs;

        public int Rows { get; } = rows;

        public long EnqueuedAt { get; } = enqueuedAt;

        public TaskCompletionSource<Tensor[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(Tensor[] outputs)
        {
            Completion.TrySetResult(outputs);
            Registration.Dispose();
        }

        public void Fail(Exception e)
        {
            Completion.TrySetException(e);
            Registration.Dispose();
        }
    }
}
