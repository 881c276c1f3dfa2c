using System.Net;
using Actors.Client.Api.Webhooks;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Tests.Jobs;

/// <summary>Webhooks cannot reach inside: every spelling of an internal address is refused when
/// the job is submitted, and the connection refuses what a name resolves to when it is sent.</summary>
public sealed class WebhookDestinationTests
{
    private static WebhookDestinations Destinations(params string[] allowed) => new(Options.Create(new WebhookOptions { AllowedHosts = [.. allowed] }));

    [Theory]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://localhost:8080/admin/tenants")]
    [InlineData("http://LOCALHOST./x")]
    [InlineData("http://api.localhost/x")]
    [InlineData("http://[::1]/x")]
    [InlineData("http://127.1/x")]
    [InlineData("http://2130706433/x")]
    [InlineData("http://0x7f000001/x")]
    [InlineData("http://017700000001/x")]
    [InlineData("http://[::ffff:127.0.0.1]/x")]
    [InlineData("http://[::ffff:7f00:1]/x")]
    [InlineData("http://user:secret@example.com/x")]
    [InlineData("http://10.1.2.3/x")]
    [InlineData("http://172.16.0.1/x")]
    [InlineData("http://192.168.1.1/x")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://100.64.0.1/x")]
    [InlineData("http://0.0.0.0/x")]
    [InlineData("http://224.0.0.1/x")]
    [InlineData("http://[::]/x")]
    [InlineData("http://[fe80::1]/x")]
    [InlineData("http://[fd00::1]/x")]
    [InlineData("http://[ff02::1]/x")]
    [InlineData("http://[64:ff9b::a00:1]/x")]
    [InlineData("http://intranet/x")]
    [InlineData("http://printer.local/x")]
    public void InternalDestinationsAreRefusedInEverySpelling(string url) =>
        Assert.NotNull(Destinations().Refusal(new Uri(url)));

    [Theory]
    [InlineData("https://example.com/hook")]
    [InlineData("http://93.184.216.34:8080/hook")]
    [InlineData("http://[2606:4700::1111]/hook")]
    public void PublicDestinationsAreAccepted(string url) =>
        Assert.Null(Destinations().Refusal(new Uri(url)));

    [Fact]
    public void AnOperatorAllowsOnPremisesReceiversByName()
    {
        var destinations = Destinations("127.0.0.1", "hooks.corp");
        Assert.Null(destinations.Refusal(new Uri("http://127.0.0.1:9000/hook")));
        Assert.Null(destinations.Refusal(new Uri("http://hooks.corp/hook")));
        Assert.Null(destinations.Refusal("hooks.corp", [IPAddress.Parse("10.0.0.5")]));
        Assert.NotNull(destinations.Refusal(new Uri("http://10.0.0.6/hook"))); // only what was allowed
    }

    [Fact]
    public void ANameThatResolvesInsideIsRefusedWhenSent()
    {
        var destinations = Destinations();
        Assert.Null(destinations.Refusal("example.com", [IPAddress.Parse("93.184.216.34")]));
        Assert.Contains("127.0.0.1", destinations.Refusal("rebind.example.com", [IPAddress.Parse("93.184.216.34"), IPAddress.Parse("127.0.0.1")]), StringComparison.Ordinal);
        Assert.NotNull(destinations.Refusal("example.com", [IPAddress.Parse("::ffff:10.0.0.1")]));
        Assert.NotNull(destinations.Refusal("nowhere.example", []));
    }

    /// <summary>The real connection: a webhook client whose destination resolves to loopback never
    /// opens a socket to it, and the same receiver is reached once an operator allows it.</summary>
    [Fact]
    public async Task TheWebhookConnectionRefusesALoopbackReceiverUnlessAllowed()
    {
        using var receiver = new WebhookReceiver();
        using var refusing = Client(Destinations());
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => refusing.PostAsync(receiver.Url, new StringContent("{}")));
        Assert.Contains("refused", refused.Message + refused.InnerException?.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);

        using var allowing = Client(Destinations("127.0.0.1"));
        using var response = await allowing.PostAsync(receiver.Url, new StringContent("{}"));
        Assert.True(response.IsSuccessStatusCode);
        Assert.Single(receiver.Received);
    }

    private static HttpClient Client(WebhookDestinations destinations) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectCallback = destinations.ConnectAsync }) { Timeout = TimeSpan.FromSeconds(10) };
}
