using Microsoft.Extensions.FileProviders;

namespace Actors.Silo.Fleet;

/// <summary>Serves the operator dashboard (Silo/Dashboard, copied beside the assembly) at
/// /dashboard/. The page is public; everything it shows comes from /admin/* with the admin key
/// the operator types in. Every answer under /dashboard carries <see cref="SecurityHeaders"/>: the
/// page runs only its own script and style, loads nothing from elsewhere, and may not be framed
/// (the admin key is typed into it).</summary>
internal static class DashboardFiles
{
    /// <summary>What a browser is told about the dashboard's answers.</summary>
    public static readonly IReadOnlyList<(string Name, string Value)> SecurityHeaders =
    [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
            "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ];

    public static WebApplication UseDashboardFiles(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Dashboard");
        if (!Directory.Exists(root))
        {
            return app;
        }

        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (name, value) in SecurityHeaders)
                {
                    context.Response.Headers[name] = value;
                }
            }

            return next(context);
        });

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
