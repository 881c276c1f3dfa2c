using Actors.Inference.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Actors.Client.Api.Models;

/// <summary><c>GET /v1/models</c>: what can be asked for, with inputs and labels.</summary>
internal static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("models");
        group.MapGet("/", List).WithSummary("The models this cluster serves");
        return group;
    }

    internal static Ok<ModelView[]> List(ModelCatalog catalog) =>
        TypedResults.Ok(catalog.All.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new ModelView(
            m.Name, m.Version, m.Task, m.Description,
            [.. m.Inputs.Select(i => $"{i.Name}: {i.Dtype}{Tensor.FormatShape(i.Shape)}")],
            [.. m.Labels])).ToArray());

    internal sealed record ModelView(string Name, string Version, string Task, string Description, string[] Inputs, string[] Labels);
}
