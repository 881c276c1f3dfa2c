using Actors.Client.Api;

namespace Actors.Silo.Cluster;

/// <summary>Reads the roles before the services are built (they decide what is registered), and
/// gives an embedded silo its admin key (generated once under the data folder) and Kestrel's
/// body limit to match the API's.</summary>
internal static class SiloRoles
{
    public static ClusterOptions AddSiloRoles(this WebApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions();
        if (!cluster.IsPostgres && string.IsNullOrEmpty(builder.Configuration["Api:AdminKey"]))
        {
            var dataPath = Path.GetFullPath(cluster.DataPath, builder.Environment.ContentRootPath);
            builder.Configuration["Api:AdminKey"] = SecretFiles.LoadOrCreate(Path.Combine(dataPath, "admin-key"));
        }

        var api = builder.Configuration.GetSection("Api").Get<ClientApiOptions>() ?? new ClientApiOptions();
        // The endpoints enforce the limit themselves (413 as ProblemDetails); Kestrel's sits above
        // it (base64 JSON is 4/3 of the bytes) as a backstop.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = api.MaxBodyBytes);
        return cluster;
    }
}
