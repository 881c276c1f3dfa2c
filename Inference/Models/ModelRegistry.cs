using System.Text.Json;
using Actors.Inference.Errors;

namespace Actors.Inference.Models;

/// <summary>Reads models/&lt;name&gt;/manifest.json files and checks them before anything loads.</summary>
public static class ModelRegistry
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly string[] Tasks = ["segmentation", "classification", "diffusion", "tensor"];
    private static readonly string[] Dtypes = ["float32", "int64"];

    /// <summary>Every model folder under <paramref name="modelsPath"/>, ordered by name.</summary>
    /// <summary>A relative models path is looked for from <paramref name="contentRoot"/> upwards,
    /// so a silo finds the repository's models/ wherever it is started from.</summary>
    public static string ResolvePath(string configured, string contentRoot)
    {
        if (Path.IsPathRooted(configured))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, configured);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.GetFullPath(configured, contentRoot);
    }

    public static IReadOnlyList<ModelDefinition> Scan(string modelsPath)
    {
        if (!Directory.Exists(modelsPath))
        {
            throw new ModelLoadException($"models folder not found: {Path.GetFullPath(modelsPath)}");
        }

        return Directory.EnumerateDirectories(modelsPath)
            .Where(d => File.Exists(Path.Combine(d, "manifest.json")))
            .Select(Read)
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }

    public static ModelDefinition Read(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "manifest.json");
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"manifest not found: {Path.GetFullPath(path)}");
        }

        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"manifest {path} is not valid: {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new ModelLoadException($"manifest {path} is empty");
        }

        Validate(manifest, path);
        return new ModelDefinition(manifest, Path.GetFullPath(modelDirectory));
    }

    /// <summary>A ddim model takes x (float32, the image's shape) and t (int64 [-1]), then
    /// optionally a class (int64 [-1], one of the labels) and a guidance scale (float32 [-1]).</summary>
    private static IEnumerable<string> DdimProblems(ModelManifest m)
    {
        var inputs = m.Inputs;
        if (inputs.Count < 2 || inputs[0].Dtype != "float32" || inputs[1].Dtype != "int64" || inputs[1].Shape.Count != 1)
        {
            yield return "a ddim model's first inputs must be x (float32) and t (int64 [-1])";
        }

        foreach (var extra in inputs.Skip(2))
        {
            var fits = extra.Name switch
            {
                "class" => extra.Dtype == "int64" && extra.Shape.Count == 1 && m.Labels.Count > 0,
                "guidance" => extra.Dtype == "float32" && extra.Shape.Count == 1,
                _ => false,
            };
            if (!fits)
            {
                yield return $"ddim input '{extra.Name}' must be 'class' (int64 [-1], with labels) or 'guidance' (float32 [-1])";
            }
        }

        var p = m.Postprocess;
        if (p.Timesteps < 1 || p.MaxSteps < 1 || !(p.Guidance >= 0) || !(p.MaxGuidance >= p.Guidance))
        {
            yield return "postprocess: timesteps and maxSteps must be >= 1 and 0 <= guidance <= maxGuidance";
        }
    }

    private static void Validate(ModelManifest m, string path)
    {
        var problems = new List<string>();
        if (!Tasks.Contains(m.Task))
        {
            problems.Add($"task '{m.Task}' is not one of {string.Join(", ", Tasks)}");
        }

        if (m.Inputs.Count == 0 || m.Outputs.Count == 0)
        {
            problems.Add("inputs and outputs must not be empty");
        }

        foreach (var t in m.Inputs.Concat(m.Outputs))
        {
            if (!Dtypes.Contains(t.Dtype))
            {
                problems.Add($"tensor '{t.Name}' has dtype '{t.Dtype}'; use float32 or int64");
            }

            if (t.Shape.Count == 0 || t.Shape[0] != -1)
            {
                problems.Add($"tensor '{t.Name}' must have a leading batch dimension of -1");
            }
        }

        var p = m.Preprocess;
        if (m.Inputs.Count > 0 && m.Inputs[0].Shape.Count == 4 &&
            (m.Inputs[0].Shape[1] != p.Channels || m.Inputs[0].Shape[2] != p.Height || m.Inputs[0].Shape[3] != p.Width))
        {
            problems.Add("preprocess channels/height/width disagree with the first input's shape");
        }

        if (p.Mean.Count != 1 && p.Mean.Count != p.Channels || p.Std.Count != 1 && p.Std.Count != p.Channels || p.Std.Any(s => s == 0))
        {
            problems.Add("preprocess mean/std need one value or one per channel, std non-zero");
        }

        if (m.Batch.MaxBatchSize < 1 || m.Batch.MaxQueueDelayMs < 0)
        {
            problems.Add("batch.maxBatchSize must be >= 1 and batch.maxQueueDelayMs >= 0");
        }

        if (m.Batch.MaxStepRatio is { } ratio && (m.Postprocess.Kind != "ddim" || !(ratio >= 1) || double.IsInfinity(ratio)))
        {
            problems.Add(m.Postprocess.Kind != "ddim"
                ? "batch.maxStepRatio applies to ddim models only"
                : $"batch.maxStepRatio must be a number >= 1 (1: only equal step counts share a batch), not {ratio}");
        }

        if (m.Cache?.Scope is not (ResultCaching.TenantScope or ResultCaching.SharedScope))
        {
            problems.Add($"cache.scope must be '{ResultCaching.TenantScope}' (results answer the same tenant only) or '{ResultCaching.SharedScope}' (public inputs), not '{m.Cache?.Scope}'");
        }

        foreach (var (kind, runtime) in m.Runtime)
        {
            if (kind is not ("cpu" or "cuda"))
            {
                problems.Add($"runtime '{kind}' is not a kind of device; use cpu or cuda");
            }

            if (!Precisions.TryParse(runtime.Precision, out var precision))
            {
                problems.Add($"runtime.{kind}.precision '{runtime.Precision}' is not one of {string.Join(", ", Precisions.Names)}");
            }
            else if (kind == "cpu" && precision is Precision.Fp16 or Precision.Fp16Autocast)
            {
                problems.Add($"runtime.cpu.precision '{runtime.Precision}' needs CUDA; use bf16-autocast or bf16 on CPU");
            }

            if (runtime.CudaGraphs && kind != "cuda")
            {
                problems.Add($"runtime.{kind}.cudaGraphs needs CUDA; set it under runtime.cuda");
            }

            if (runtime.MaxBatchSize is < 1 || runtime.Tolerance is { } tolerance && !(tolerance > 0))
            {
                problems.Add($"runtime.{kind}: maxBatchSize must be >= 1 and tolerance > 0");
            }

            if (runtime.IdleGapMicros is { } gap && (gap < 0 || gap > m.Batch.MaxQueueDelayMs * 1000))
            {
                problems.Add($"runtime.{kind}.idleGapMicros must be from 0 to batch.maxQueueDelayMs ({m.Batch.MaxQueueDelayMs:0.###} ms = {m.Batch.MaxQueueDelayMs * 1000:0} µs), not {gap}");
            }
        }

        if (m.Postprocess.Kind == "ddim")
        {
            problems.AddRange(DdimProblems(m));
        }

        if (problems.Count > 0)
        {
            throw new ModelLoadException($"manifest {path}: {string.Join("; ", problems)}");
        }
    }
}
