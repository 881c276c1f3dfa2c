namespace Actors.Silo.Tests.Observability;

/// <summary>deploy/prometheus/alerts.yml: valid rules, and each alert fires at its threshold
/// on synthetic series (deploy/prometheus/alerts.test.yml).</summary>
public sealed class AlertRulesTests
{
    private static readonly string Folder = Path.Combine(TestPaths.Repo, "deploy", "prometheus");

    [Fact]
    public async Task PromtoolChecksTheRules()
    {
        var (code, output) = await PrometheusTests.RunAsync("promtool", ["check", "rules", Path.Combine(Folder, "alerts.yml")]);
        Assert.True(code == 0, output);
        Assert.Contains("13 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolUnitTestsOfTheRulesPass()
    {
        var (code, output) = await PrometheusTests.RunAsync("promtool", ["test", "rules", Path.Combine(Folder, "alerts.test.yml")]);
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }
}
