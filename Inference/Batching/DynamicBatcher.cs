using System.Collections.Concurrent;
using Actors.Inference.Errors;
using Actors.Inference.Tensors;

namespace Actors.Inference.Batching;

/// <summary>Merges concurrent requests to one model into batched forwards. A batch closes
/// when it holds <see cref="BatcherOptions.MaxBatchSize"/> rows or its first request has
/// waited <see cref="BatcherOptions.MaxQueueDelay"/> (with <see cref="BatcherOptions.IdleGap"/>,
/// also when nothing of the model runs and requests have stopped coming). Each caller gets its own rows back.
/// The queue is bounded: when full, callers get <see cref="BatchQueueFullException"/>.</summary>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private static readonly TimeSpan SpinWindow = TimeSpan.FromMilliseconds(1);
    private readonly string _model;
    private readonly Func<IReadOnlyList<Tensor>, IReadOnlyList<int>, Tensor[][]> _forward;
    private readonly BatcherOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<Request> _queue = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly AutoResetEvent _idle = new(false);
    private readonly SemaphoreSlim _fillTurn = new(1, 1);
    private readonly Thread[] _workers;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _queued;
    private int _running;
    private int _executing;
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
        _running = options.MaxConcurrentBatches;
        // Dedicated threads: a forward blocks its thread for its whole length anyway, and
        // blocking waits wake without a thread-pool hop and time out precisely.
        _workers = Enumerable.Range(0, options.MaxConcurrentBatches)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"batcher {model} #{i}" })
            .ToArray();
        foreach (var worker in _workers)
        {
            worker.Start();
        }
    }

    /// <summary>Raised on a worker after every forward (for metrics).</summary>
    public event Action<BatchRecord>? BatchCompleted;

    public BatcherOptions Options => _options;

    public long BatchesRun => Interlocked.Read(ref _batches);

    public long RowsRun => Interlocked.Read(ref _rows);

    public int Waiting => Volatile.Read(ref _queued);

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
        if (Interlocked.Increment(ref _queued) > _options.MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            throw new BatchQueueFullException(_model, _options.MaxQueued);
        }

        var request = new Request(inputs, (int)rows, _time.GetTimestamp());
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(
                static state => ((Request)state!).Completion.TrySetCanceled(), request);
        }

        _queue.Enqueue(request);
        _available.Release();
        return request.Completion.Task;
    }

    /// <summary>Stops taking requests, finishes every queued one, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _available.Release(); // wakes one idle worker; each passes the wake-up on
        }

        await _stopped.Task.ConfigureAwait(false);
        _idle.Dispose(); // the workers, its only users, have stopped
    }

    private void Work()
    {
        var batch = new List<Request>(_options.MaxBatchSize);
        Request? carried = null;
        var stopping = false;
        // With an idle gap one batch forms at a time (the next while this one runs, as Triton's
        // scheduler does): two workers filling at once would split a burst of callers. A worker
        // holding a request that did not fit its last batch starts the next one without the
        // turn: the turn's holder may be waiting for a request that never comes.
        var oneAtATime = _options.IdleGap is not null;
        while (!stopping || carried is not null)
        {
            var turn = oneAtATime && carried is null;
            if (turn)
            {
                _fillTurn.Wait();
            }

            try
            {
                var first = carried;
                carried = null;
                while (first is null || first.Completion.Task.IsCompleted)
                {
                    first = Take(Timeout.InfiniteTimeSpan, ref stopping);
                    if (first is null && stopping)
                    {
                        break;
                    }
                }

                if (first is null)
                {
                    break;
                }

                batch.Add(first);
                carried = Fill(batch, first, ref stopping);
            }
            finally
            {
                if (turn)
                {
                    _fillTurn.Release();
                }
            }

            Interlocked.Increment(ref _executing);
            try
            {
                Execute(batch);
            }
            finally
            {
                if (Interlocked.Decrement(ref _executing) == 0 && _options.IdleGap is not null)
                {
                    _idle.Set(); // a batch filling while this one ran may go now
                }
            }

            batch.Clear();
        }

        if (Interlocked.Decrement(ref _running) == 0)
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Adds compatible requests until the batch is full or the first request's
    /// deadline passes (with an idle gap, or the device is free and requests have stopped
    /// coming); returns a taken request that did not fit.</summary>
    private Request? Fill(List<Request> batch, Request first, ref bool stopping)
    {
        var rows = first.Rows;
        var deadline = first.EnqueuedAt + (long)(_options.MaxQueueDelay.TotalSeconds * _time.TimestampFrequency);
        var lastTaken = _time.GetTimestamp();
        while (rows < _options.MaxBatchSize)
        {
            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero && _queue.IsEmpty)
            {
                break;
            }

            Request? next;
            bool spin;
            if (_options.IdleGap is { } gap && Volatile.Read(ref _executing) == 0)
            {
                // Nothing of this model runs: waiting longer only leaves the device idle, so
                // the batch closes once no request has come for the gap (a burst of callers
                // arriving together still lands in one batch).
                if (_time.GetElapsedTime(lastTaken) >= gap && _queue.IsEmpty)
                {
                    break;
                }

                next = Take(TimeSpan.Zero, ref stopping);
                spin = true;
            }
            else if (_options.IdleGap is not null)
            {
                // Another batch runs: gather until it ends (then the device is free), the batch
                // is full or the deadline passes.
                next = TakeOrIdle(remaining, ref stopping);
                spin = false;
            }
            else
            {
                // Timers fire late; the last millisecond is waited out by spinning, so a lone
                // request never waits longer than the max delay.
                next = Take(remaining > SpinWindow ? remaining - SpinWindow : TimeSpan.Zero, ref stopping);
                spin = remaining <= SpinWindow;
            }

            if (next is null)
            {
                if (stopping)
                {
                    break;
                }

                if (spin)
                {
                    Thread.SpinWait(32);
                }

                continue;
            }

            lastTaken = _time.GetTimestamp();

            if (next.Completion.Task.IsCompleted)
            {
                continue;
            }

            if (rows + next.Rows > _options.MaxBatchSize || !Compatible(first, next) || !WidthsFit(batch, next))
            {
                return next;
            }

            batch.Add(next);
            rows += next.Rows;
        }

        return null;
    }

    /// <summary>The next queued request, waiting up to <paramref name="timeout"/> for one or for
    /// the model's running batches to end; null on either of the last two.</summary>
    private Request? TakeOrIdle(TimeSpan timeout, ref bool stopping)
    {
        if (timeout < TimeSpan.Zero)
        {
            timeout = TimeSpan.Zero;
        }

        if (timeout > TimeSpan.FromDays(1))
        {
            timeout = TimeSpan.FromDays(1);
        }

        return WaitHandle.WaitAny([_available.AvailableWaitHandle, _idle], timeout) == 0 ? Take(TimeSpan.Zero, ref stopping) : null;
    }

    /// <summary>The next queued request, waiting up to <paramref name="timeout"/>; null on
    /// time-out, or when the batcher is disposed and the queue is empty.</summary>
    private Request? Take(TimeSpan timeout, ref bool stopping)
    {
        if (!WaitAvailable(timeout))
        {
            return null;
        }

        if (_queue.TryDequeue(out var request))
        {
            Interlocked.Decrement(ref _queued);
            return request;
        }

        // A count with no request is the disposal wake-up: pass it on and stop once empty.
        stopping = true;
        _available.Release();
        return null;
    }

    /// <summary>Takes one count of <see cref="_available"/>, blocking up to <paramref name="timeout"/>
    /// without spinning first. <see cref="SemaphoreSlim.Wait(TimeSpan)"/> spins before it blocks;
    /// an idle worker called it for every request, and on a 2-core machine that spin was 13 % of the
    /// silo's sampled CPU under load (bench/cluster-bench.sh, dotnet-trace), taken from the callers
    /// the batcher waits for.</summary>
    private bool WaitAvailable(TimeSpan timeout)
    {
        if (_available.Wait(0))
        {
            return true;
        }

        if (timeout == TimeSpan.Zero)
        {
            return false;
        }

        var infinite = timeout == Timeout.InfiniteTimeSpan;
        var deadline = infinite ? 0 : _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            var left = infinite ? Timeout.InfiniteTimeSpan : _time.GetElapsedTime(_time.GetTimestamp(), deadline);
            if (!infinite && left <= TimeSpan.Zero)
            {
                return _available.Wait(0);
            }

            // The handle is set while the count is above zero; another worker may take the count
            // first, and then this one waits again.
            if (!_available.AvailableWaitHandle.WaitOne(left))
            {
                return _available.Wait(0);
            }

            if (_available.Wait(0))
            {
                return true;
            }
        }
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
                inputs[i] = i == _options.Ragged?.Input && batch.Count > 1
                    ? ConcatPadded(batch.Select(r => r.Inputs[i]).ToList(), _options.Ragged.Pad)
                    : Tensor.ConcatRows(batch.Select(r => r.Inputs[i]).ToList());
            }

            Tensor[][] outputs;
            try
            {
                outputs = _forward(inputs, batch.Select(r => r.Rows).ToArray());
            }
            finally
            {
                if (batch.Count > 1)
                {
                    foreach (var joined in inputs)
                    {
                        joined?.Recycle();
                    }
                }
            }

            // Counted before the callers are answered: one that reads BatchesRun after its answer
            // sees its batch.
            Count(rows);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Complete(outputs[i]);
            }

            Report(batch.Count, rows, started, failed: false);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One bad request must not fail its neighbours: run each alone.
            Count(rows);
            Report(batch.Count, rows, started, failed: true);
            foreach (var request in batch)
            {
                Execute([request]);
            }
        }
        catch (Exception e)
        {
            Count(rows);
            batch[0].Fail(e);
            Report(1, rows, started, failed: true);
        }
    }

    private void Count(int rows)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _rows, rows);
    }

    private void Report(int requests, int rows, long started, bool failed)
    {
        var took = _time.GetElapsedTime(started);
        var model = new KeyValuePair<string, object?>("model", _model);
        Diagnostics.InferenceMetrics.BatchSize.Record(requests, model);
        Diagnostics.InferenceMetrics.BatchDuration.Record(took.TotalSeconds, model, new KeyValuePair<string, object?>("outcome", failed ? "failed" : "ok"));
        BatchCompleted?.Invoke(new BatchRecord(requests, rows, took, failed));
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

    private bool Compatible(Request a, Request b)
    {
        if (a.Inputs.Count != b.Inputs.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Inputs.Count; i++)
        {
            IReadOnlyList<long> x = a.Inputs[i].Shape, y = b.Inputs[i].Shape;
            var sameShape = i == _options.Ragged?.Input
                ? a.Inputs[i].DType == TensorDType.Int64 && x.Count == 2 && y.Count == 2
                : x.Skip(1).SequenceEqual(y.Skip(1));
            if (a.Inputs[i].DType != b.Inputs[i].DType || !sameShape)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>With a ragged input: the batch's widths, <paramref name="next"/>'s included,
    /// stay within the max ratio (widest / narrowest).</summary>
    private bool WidthsFit(List<Request> batch, Request next)
    {
        if (_options.Ragged is not { } ragged)
        {
            return true;
        }

        long narrowest = next.Inputs[ragged.Input].Shape[1], widest = narrowest;
        foreach (var request in batch)
        {
            var width = request.Inputs[ragged.Input].Shape[1];
            narrowest = Math.Min(narrowest, width);
            widest = Math.Max(widest, width);
        }

        return widest <= ragged.MaxWidthRatio * Math.Max(1, narrowest);
    }

    /// <summary>Int64 [rows, width] parts of different widths joined along the rows, each
    /// padded at the end with <paramref name="pad"/> to the widest.</summary>
    private static Tensor ConcatPadded(IReadOnlyList<Tensor> parts, long pad)
    {
        var width = parts.Max(p => p.Shape[1]);
        if (parts.All(p => p.Shape[1] == width))
        {
            return Tensor.ConcatRows(parts);
        }

        var rows = parts.Sum(p => p.Shape[0]);
        var data = TensorBufferPool.RentLongs(checked((int)(rows * width)));
        var at = 0;
        foreach (var part in parts)
        {
            var w = (int)part.Shape[1];
            for (var r = 0; r < part.Shape[0]; r++)
            {
                part.Longs.AsSpan(r * w, w).CopyTo(data.AsSpan(at, w));
                data.AsSpan(at + w, (int)width - w).Fill(pad);
                at += (int)width;
            }
        }

        return Tensor.FromInt64(data, rows, width);
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
