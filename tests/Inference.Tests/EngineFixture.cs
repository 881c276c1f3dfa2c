namespace Actors.Inference.Tests;

/// <summary>One engine with the three demo models, shared by a test class.</summary>
public sealed class EngineFixture : IAsyncLifetime
{
    private InferenceEngine? _engine;

    public InferenceEngine Engine => _engine ?? throw new InvalidOperationException("fixture not started");

    public ValueTask InitializeAsync()
    {
        _engine = InferenceEngine.Start(TestEnvironment.Options());
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}
