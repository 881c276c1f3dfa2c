using System.Text.Json.Nodes;

namespace Actors.Inference.Tests.Models;

/// <summary>Copies of the demo models with another runtime section, for tests that change how a
/// model runs without touching models/.</summary>
internal static class ModelCopy
{
    /// <summary>A copy of demo model <paramref name="name"/> under <paramref name="scratch"/> whose
    /// manifest's runtime is <paramref name="runtime"/> for the device kind <paramref name="kind"/>
    /// and whose batch section gets the fields of <paramref name="batch"/>, where given.</summary>
    public static string Make(string scratch, string name, JsonObject runtime, string kind, JsonObject? batch = null)
    {
        var source = Path.Combine(TestEnvironment.ModelsPath, name);
        var folder = Directory.CreateDirectory(Path.Combine(scratch, $"{name}-{Guid.NewGuid():N}")).FullName;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")))!;
        manifest["runtime"] = new JsonObject { [kind] = runtime };
        foreach (var (field, value) in batch ?? [])
        {
            manifest["batch"]![field] = value?.DeepClone();
        }

        File.WriteAllText(Path.Combine(folder, "manifest.json"), manifest.ToJsonString());
        return folder;
    }
}
