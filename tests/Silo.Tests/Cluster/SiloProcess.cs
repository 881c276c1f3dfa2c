using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Actors.Silo.Tests.Cluster;

/// <summary>A silo as a real process (<c>dotnet Actors.Silo.dll</c>) on a loopback port, with its
/// settings as environment variables; <see cref="Kill"/> is kill -9.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Url { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The embedded shape (SQLite, every role, one inference thread) in a fresh data
    /// folder named after <paramref name="name"/>, plus <paramref name="extra"/> settings.</summary>
    public static Task<SiloProcess> StartEmbeddedAsync(string name, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Store"] = "sqlite",
            ["Cluster:Roles"] = "api,control,gpu",
            ["Cluster:DataPath"] = Directory.CreateTempSubdirectory($"actors-{name}-").FullName,
            ["Inference:Threads"] = "1",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return StartAsync(settings);
    }

    /// <summary>Starts the silo and waits until it is ready. A port found free can be taken before
    /// the process binds it (another test's process, an outgoing connection): a start that fails
    /// only because an address is in use is tried again on new ports, up to three times.</summary>
    public static async Task<SiloProcess> StartAsync(IDictionary<string, string> settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(settings);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // a port race, not the silo's failure: once more on other ports
            }
        }
    }

    private static async Task<SiloProcess> StartOnceAsync(IDictionary<string, string> settings)
    {
        var port = Actors.Silo.Cluster.SiloIdentity.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { SiloDll(), "--urls", url, "--contentRoot", TestPaths.Repo },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Api__AdminKey"] = SiloFactory.AdminKey;
        start.Environment["Webhooks__AllowedHosts__0"] = "127.0.0.1"; // the tests' receivers listen on loopback
        start.Environment["Inference__Device"] = "cpu";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Actors"] = "Information";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var silo = new SiloProcess(process, url);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // and for the rest of its output
                var (code, output) = (process.ExitCode, silo.Output);
                silo.Dispose();
                throw new InvalidOperationException($"silo exited with {code}:\n{output}");
            }

            try
            {
                using var ready = await silo.Http.GetAsync("/health/ready");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return silo;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(90))
            {
                silo.Dispose();
                throw new TimeoutException($"silo not ready after 90 s:\n{silo.Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no drain, no goodbye. With <paramref name="tree"/> false the processes it
    /// started live on, as they do when a silo alone crashes.</summary>
    public void Kill(bool tree = true)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: tree);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM (a cloud stopping the machine): the silo drains and leaves; SIGKILL after
    /// <paramref name="grace"/> if it has not exited.</summary>
    public void Terminate(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            kill?.WaitForExit();
        }

        if (!_process.WaitForExit(grace))
        {
            Kill();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        Http.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static string SiloDll()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(TestPaths.Repo, "Silo", "bin", configuration, "net10.0", "Actors.Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build the solution first", dll);
    }
}
