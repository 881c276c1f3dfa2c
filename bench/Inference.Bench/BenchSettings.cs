using System.Globalization;

namespace Actors.Inference.Bench;

/// <summary>Command line: --model NAME --device DEV --batch N --iterations N --concurrency N
/// --seconds S --threads N --models PATH --rawbench PATH --json FILE; --preprocess DIR measures preprocessing only.</summary>
internal sealed record BenchSettings
{
    public string Model { get; init; } = "segmentation";

    public string Device { get; init; } = "auto";

    public int Batch { get; init; } = 8;

    public int Iterations { get; init; } = 50;

    public int Concurrency { get; init; } = 64;

    public double Seconds { get; init; } = 8;

    public int Threads { get; init; }

    public int ConcurrentBatches { get; init; } = 2;

    /// <summary>--batching-policy: the batcher's GPU policy over a simulated GPU (BatchingPolicyBench).</summary>
    public bool BatchingPolicy { get; init; }

    /// <summary>--compare: the models and batch sizes of bench/compare-bench.sh's table.</summary>
    public bool Compare { get; init; }

    public string CompareModels { get; init; } = "segmentation,classification,diffusion";

    public string CompareBatches { get; init; } = "1,8,32";

    public string CompareDiffusionBatches { get; init; } = "1,16";

    /// <summary>--compare: run at this precision (and channels-last) instead of the manifest's.</summary>
    public string? Precision { get; init; }

    public bool ChannelsLast { get; init; }

    /// <summary>--compare --freeze: our models frozen for inference (runtime.*.freeze).</summary>
    public bool Freeze { get; init; }

    /// <summary>--compare --cuda-graphs: our runs replay CUDA graphs (runtime.cuda.cudaGraphs).</summary>
    public bool CudaGraphs { get; init; }

    /// <summary>DDIM steps of a sampling run (ddim models).</summary>
    public int Steps { get; init; } = 25;

    public string? ModelsPath { get; init; }

    public string? RawBench { get; init; }

    public string? JsonFile { get; init; }

    /// <summary>Measure preprocessing of the images in this folder instead of the model.</summary>
    public string? PreprocessDir { get; init; }

    /// <summary>Volume mode: write the phantom CT volume here and exit (--write-volume), or time
    /// it through the engine and through the API at <see cref="ApiUrl"/> with <see cref="ApiKey"/>.</summary>
    public string? VolumeFile { get; init; }

    public string? WriteVolume { get; init; }

    public string? ApiUrl { get; init; }

    public string? ApiKey { get; init; }

    public int VolumeRounds { get; init; } = 2;

    public bool SmallVolume { get; init; }

    public static BenchSettings Parse(string[] args)
    {
        var s = new BenchSettings();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--model" => s with { Model = Value() },
                "--device" => s with { Device = Value() },
                "--batch" => s with { Batch = Int() },
                "--iterations" => s with { Iterations = Int() },
                "--concurrency" => s with { Concurrency = Int() },
                "--seconds" => s with { Seconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--threads" => s with { Threads = Int() },
                "--concurrent-batches" => s with { ConcurrentBatches = Int() },
                "--steps" => s with { Steps = Int() },
                "--compare" => s with { Compare = true },
                "--batching-policy" => s with { BatchingPolicy = true },
                "--models-list" => s with { CompareModels = Value() },
                "--batches" => s with { CompareBatches = Value() },
                "--diffusion-batches" => s with { CompareDiffusionBatches = Value() },
                "--precision" => s with { Precision = Value() },
                "--channels-last" => s with { ChannelsLast = true },
                "--cuda-graphs" => s with { CudaGraphs = true },
                "--freeze" => s with { Freeze = true },
                "--models" => s with { ModelsPath = Value() },
                "--rawbench" => s with { RawBench = Value() },
                "--json" => s with { JsonFile = Value() },
                "--preprocess" => s with { PreprocessDir = Value() },
                "--volume" => s with { VolumeFile = Value() },
                "--write-volume" => s with { WriteVolume = Value() },
                "--api" => s with { ApiUrl = Value() },
                "--key" => s with { ApiKey = Value() },
                "--rounds" => s with { VolumeRounds = Int() },
                "--small" => s with { SmallVolume = true },
                var other => throw new ArgumentException($"unknown option {other}"),
            };
        }

        return s;
    }
}
