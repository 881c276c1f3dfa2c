using Microsoft.Extensions.FileProviders;

namespace Actors.Silo.Fleet;

/// <summary>Serves the operator dashboard (Silo/Dashboard, copied beside the assembly) at
/// /dashboard/. The page is public; everything it shows comes from /admin/* with the admin key
/// the operator types in.</summary>
internal static class DashboardFiles
{
    public static WebApplication UseDashboardFiles(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Dashboard");
        if (!Directory.Exists(root))
        {
            return app;
        }

        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = "/dashboard" });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = "/dashboard",
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        return app;
    }
}
