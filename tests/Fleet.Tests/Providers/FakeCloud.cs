using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace Actors.Fleet.Tests.Providers;

/// <summary>What the three fake clouds share: a loopback HTTP server, the requests it got and those
/// it refused as malformed (a test asserts there were none), the machines it holds and their
/// lifecycle — starting (after <see cref="BootDelay"/>, or <see cref="BootAll"/>), running, stopped,
/// gone — and the failures a test can ask for: no capacity, 429s with or without Retry-After, a 500
/// after a launch that did rent, a machine that never comes up, a spot preemption. With a
/// <see cref="Host"/>, a machine that comes up starts a real process (a GPU-host silo, with the
/// environment the launch passed) and one that stops or goes away ends it. Each cloud's wire
/// format is its subclass's.</summary>
public abstract class FakeCloud : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _next;

    protected FakeCloud(string key)
    {
        Key = key;
        var port = FreePort();
        Root = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Root + "/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Key { get; }

    /// <summary>http://127.0.0.1:port (no path).</summary>
    public string Root { get; }

    /// <summary>Starts and ends a machine's process; null: machines are records only.</summary>
    public IFakeMachineHost? Host { get; set; }

    /// <summary>A machine comes up this long after it was launched or started; null: only <see cref="BootAll"/>.</summary>
    public TimeSpan? BootDelay { get; set; }

    /// <summary>Machines launched from now on never come up (stay starting).</summary>
    public bool NeverBoot { get; set; }

    /// <summary>Launches are refused for lack of capacity.</summary>
    public bool NoCapacity { get; set; }

    /// <summary>The next launch answers 500 although the machine was created (seen at RunPod; any cloud can).</summary>
    public bool FailAfterNextLaunch { get; set; }

    /// <summary>The next N requests get 429, with this Retry-After (null: none).</summary>
    public (int Count, int? RetryAfterSeconds) RateLimitNext { get; set; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public ConcurrentQueue<string> Refused { get; } = new();

    protected Lock Gate { get; } = new();

    protected Dictionary<string, FakeMachine> Held { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<FakeMachine> Machines
    {
        get
        {
            lock (Gate)
            {
                Advance();
                return [.. Held.Values];
            }
        }
    }

    /// <summary>Every starting machine comes up now.</summary>
    public void BootAll()
    {
        lock (Gate)
        {
            foreach (var m in Held.Values.Where(m => m.Phase == FakePhase.Starting && !m.NeverBoots))
            {
                Up(m);
            }
        }
    }

    /// <summary>The market takes a running spot machine back: it stops (its process ends) without our asking.</summary>
    public void Preempt(string id)
    {
        lock (Gate)
        {
            var m = Held[id];
            m.Preempted = true;
            Down(m);
            m.Phase = FakePhase.Stopped;
        }
    }

    /// <summary>A machine already running on the account that no launch of this test made: someone
    /// else's (no prefix), or one of ours nobody holds (an orphan). It runs no process.</summary>
    public string AddForeign(string name, string gpuType)
    {
        lock (Gate)
        {
            var m = Launch(name, gpuType, spot: false, new Dictionary<string, string>());
            m.Phase = FakePhase.Running; // running whatever it runs: no process of ours
            return m.Id;
        }
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _listener.Close();
        _stop.Dispose();
        lock (Gate)
        {
            foreach (var m in Held.Values.Where(m => m.Phase == FakePhase.Running))
            {
                Down(m);
            }
        }
    }

    /// <summary>One request, under <see cref="Gate"/>: status, body, content type, Retry-After.</summary>
    protected abstract FakeAnswer Handle(string method, string path, string query, string body, string? authorization);

    /// <summary>A new machine, starting (it comes up after <see cref="BootDelay"/> or <see cref="BootAll"/>).</summary>
    protected FakeMachine Launch(string name, string gpuType, bool spot, IReadOnlyDictionary<string, string> env, decimal perHour = 0)
    {
        var m = new FakeMachine(NewId(), name, gpuType, spot, env, perHour) { Phase = FakePhase.Starting, BootAt = DateTimeOffset.UtcNow + (BootDelay ?? TimeSpan.FromDays(1)), NeverBoots = NeverBoot };
        Held[m.Id] = m;
        return m;
    }

    protected virtual string NewId() => (++_next).ToString(CultureInfo.InvariantCulture);

    protected void Stop(FakeMachine m)
    {
        if (m.Phase is FakePhase.Running or FakePhase.Starting)
        {
            Down(m);
            m.Phase = FakePhase.Stopped;
        }
    }

    protected void Start(FakeMachine m)
    {
        if (m.Phase == FakePhase.Stopped)
        {
            m.Phase = FakePhase.Starting;
            m.Preempted = false;
            m.BootAt = DateTimeOffset.UtcNow + (BootDelay ?? TimeSpan.FromDays(1));
        }
    }

    protected void Terminate(FakeMachine m)
    {
        Down(m);
        m.Phase = FakePhase.Gone;
    }

    /// <summary>Machines whose boot time has come are up (called before every answer).</summary>
    protected void Advance()
    {
        foreach (var m in Held.Values.Where(m => m.Phase == FakePhase.Starting && !m.NeverBoots && BootDelay is not null && DateTimeOffset.UtcNow >= m.BootAt))
        {
            Up(m);
        }
    }

    protected FakeAnswer Refuse(int status, string body, string why)
    {
        Refused.Enqueue(why);
        return new FakeAnswer(status, body);
    }

    private void Up(FakeMachine m)
    {
        m.Phase = FakePhase.Running;
        m.Runs++;
        Host?.Start(m);
    }

    private void Down(FakeMachine m)
    {
        if (m.Phase == FakePhase.Running)
        {
            Host?.Halt(m);
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                var request = context.Request;
                var body = await new StreamReader(request.InputStream, Encoding.UTF8).ReadToEndAsync();
                var path = request.Url!.AbsolutePath;
                Requests.Enqueue($"{request.HttpMethod} {path} {body}");
                FakeAnswer answer;
                if (RateLimitNext.Count > 0)
                {
                    RateLimitNext = (RateLimitNext.Count - 1, RateLimitNext.RetryAfterSeconds);
                    answer = RateLimited(RateLimitNext.RetryAfterSeconds);
                }
                else
                {
                    try
                    {
                        lock (Gate)
                        {
                            Advance();
                            answer = Handle(request.HttpMethod, path, request.Url.Query, body, request.Headers["Authorization"]);
                        }
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // A body the fake could not read is a malformed request (or a fake's bug): either way, seen.
                        answer = Refuse(400, "{\"error\":\"malformed\"}", $"{request.HttpMethod} {path}: {e.GetType().Name}: {e.Message}");
                    }
                }

                if (answer.RetryAfter is { } seconds)
                {
                    context.Response.AddHeader("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
                }

                context.Response.StatusCode = answer.Status;
                context.Response.ContentType = answer.ContentType;
                var bytes = Encoding.UTF8.GetBytes(answer.Body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // the client went away
            }
        }
    }

    /// <summary>How this cloud says "too many requests".</summary>
    protected abstract FakeAnswer RateLimited(int? retryAfterSeconds);

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

public enum FakePhase
{
    Starting,
    Running,
    Stopped,
    Gone,
}

/// <summary>A machine a fake cloud holds: what it was launched with and where it is.</summary>
public sealed class FakeMachine(string id, string name, string gpuType, bool spot, IReadOnlyDictionary<string, string> env, decimal perHour)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    public string GpuType { get; } = gpuType;

    public bool Spot { get; } = spot;

    public IReadOnlyDictionary<string, string> Environment { get; } = env;

    public decimal PerHour { get; } = perHour;

    public string Region { get; set; } = "";

    /// <summary>The bid a spot machine pays (per machine).</summary>
    public decimal? Bid { get; set; }

    public FakePhase Phase { get; set; }

    public DateTimeOffset BootAt { get; set; }

    public bool NeverBoots { get; init; }

    /// <summary>Stopped by the market, not by us.</summary>
    public bool Preempted { get; set; }

    /// <summary>How many times it came up.</summary>
    public int Runs { get; set; }
}

public sealed record FakeAnswer(int Status, string Body, string ContentType = "application/json", int? RetryAfter = null);

/// <summary>Runs a fake machine's workload: a real GPU-host silo process in the end-to-end tests.</summary>
public interface IFakeMachineHost
{
    void Start(FakeMachine machine);

    void Halt(FakeMachine machine);
}
