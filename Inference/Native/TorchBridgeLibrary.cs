using System.Reflection;
using System.Runtime.InteropServices;
using Actors.Inference.Errors;

namespace Actors.Inference.Native;

/// <summary>Finds and loads libtorchbridge.so: <c>TORCHBRIDGE_PATH</c> (a file or a folder),
/// then beside the assemblies, then <c>build/native</c> of a source checkout above them.
/// When none loads, the error names every place tried and why.</summary>
internal static class TorchBridgeLibrary
{
    public const string FileName = "libtorchbridge.so";
    public const string PathVariable = "TORCHBRIDGE_PATH";

    private static readonly Lock Gate = new();
    private static nint s_handle;
    private static string? s_loadedFrom;
    private static bool s_registered;

    public static string? LoadedFrom => s_loadedFrom;

    public static void RegisterResolver()
    {
        lock (Gate)
        {
            if (s_registered)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(TorchBridgeLibrary).Assembly, Resolve);
            s_registered = true;
        }
    }

    /// <summary>Loads the bridge now, or throws <see cref="TorchBridgeNotFoundException"/>.</summary>
    public static nint Load()
    {
        lock (Gate)
        {
            if (s_handle != nint.Zero)
            {
                return s_handle;
            }

            var tried = new List<string>();
            foreach (var candidate in Candidates())
            {
                if (!File.Exists(candidate))
                {
                    tried.Add($"{candidate} (not there)");
                    continue;
                }

                try
                {
                    s_handle = NativeLibrary.Load(candidate);
                    s_loadedFrom = candidate;
                    return s_handle;
                }
                catch (DllNotFoundException e)
                {
                    // Usually libtorch itself is missing: the loader's message names it.
                    tried.Add($"{candidate} (exists but failed to load: {e.Message})");
                }
            }

            throw new TorchBridgeNotFoundException(
                $"{FileName} could not be loaded. Build it with scripts/build-bridge (needs libtorch: " +
                $"apt-get install libtorch-dev, or TORCH_DIR=<a PyTorch install>), or set {PathVariable}. Tried: " +
                string.Join("; ", tried));
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == TorchBridge.LibraryName ? Load() : nint.Zero;

    private static IEnumerable<string> Candidates()
    {
        var configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            yield return Directory.Exists(configured) ? Path.Combine(configured, FileName) : configured;
        }

        var baseDir = AppContext.BaseDirectory;
        yield return Path.Combine(baseDir, FileName);
        yield return Path.Combine(baseDir, "runtimes", "linux-x64", "native", FileName);
        for (var dir = new DirectoryInfo(baseDir); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                yield return Path.Combine(dir.FullName, "build", "native", FileName);
                yield break;
            }
        }
    }
}
