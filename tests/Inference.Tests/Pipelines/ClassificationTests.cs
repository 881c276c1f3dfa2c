using System.Text.Json;
using Actors.Inference.Pipelines;

namespace Actors.Inference.Tests.Pipelines;

public sealed class ClassificationTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private sealed record Sample(string File, Dictionary<string, bool> Findings);

    [Fact]
    public async Task TheClassifierSeparatesPositiveAndNegativeCases()
    {
        var folder = Path.Combine(TestEnvironment.ModelsPath, "classification", "samples");
        var samples = JsonSerializer.Deserialize<List<Sample>>(
            await File.ReadAllTextAsync(Path.Combine(folder, "samples.json")), JsonSerializerOptions.Web)!;
        var scores = new List<(string Label, bool Truth, double P)>();
        foreach (var sample in samples)
        {
            var output = (ClassificationOutput)await fixture.Engine.RunAsync("classification",
                new InferenceRequest { Input = await File.ReadAllBytesAsync(Path.Combine(folder, sample.File)) });
            scores.AddRange(output.Findings.Select(f => (f.Label, sample.Findings[f.Label], f.Probability)));
        }

        foreach (var group in scores.GroupBy(s => s.Label))
        {
            var positives = group.Where(s => s.Truth).Select(s => s.P).ToList();
            var negatives = group.Where(s => !s.Truth).Select(s => s.P).ToList();
            Assert.NotEmpty(positives);
            Assert.NotEmpty(negatives);
            // AUC: the chance a random positive scores above a random negative.
            var auc = positives.Sum(p => negatives.Count(n => p > n) + 0.5 * negatives.Count(n => p == n)) /
                      (positives.Count * (double)negatives.Count);
            var accuracy = group.Count(s => s.P >= 0.5 == s.Truth) / (double)group.Count();
            Assert.True(auc >= 0.95, $"{group.Key}: AUC {auc:F3}");
            Assert.True(accuracy >= 0.85, $"{group.Key}: accuracy {accuracy:P0}");
        }
    }
}
