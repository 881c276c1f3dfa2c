using Actors.Silo.Inference;

var builder = WebApplication.CreateBuilder(args);
builder.AddInferenceEngine();
builder.Services.AddProblemDetails();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealth();
app.MapInference();
app.Run();

/// <summary>Entry point, visible to tests.</summary>
public partial class Program;
