using Actors.Inference.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Models;

/// <summary>The models the cluster serves, from their manifests (no libtorch needed, so an
/// api-only silo knows them too): what the API validates jobs against.</summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelManifest> _models;

    public ModelCatalog(IOptions<ClientApiOptions> options, IHostEnvironment environment)
    {
        var path = ModelRegistry.ResolvePath(options.Value.ModelsPath, environment.ContentRootPath);
        _models = Directory.Exists(path)
            ? ModelRegistry.Scan(path).ToDictionary(d => d.Name, d => d.Manifest, StringComparer.Ordinal)
            : [];
    }

    public IReadOnlyCollection<ModelManifest> All => _models.Values;

    public ModelManifest? Find(string name) => _models.GetValueOrDefault(name);
}
