using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Silo.Tests.Cluster;
using FsCheck;
using FsCheck.Fluent;

namespace Actors.Silo.Tests.Fuzz;

/// <summary>Hostile and careless requests against a real silo process (Kestrel, all roles, a Stripe
/// webhook secret): FsCheck generates requests over every route the OpenAPI document lists (path
/// values, query values, JSON and multipart bodies, content types, keys, signed Stripe events with
/// edge values), and raw sockets send broken HTTP framing. Any 500 fails the test; so does a hang
/// over 10 s, or an error answer from the application that is not ProblemDetails. The only 5xx
/// allowed are the designed 503s a client can act on (a type from <see cref="DesignedUnavailable"/>).
/// The generator's seed is fixed, so a failure reproduces; the count is bounded for CI.</summary>
public sealed class HostileRequestTests
{
    /// <summary>2,000 in CI; ACTORS_FUZZ_REQUESTS and ACTORS_FUZZ_SEED run a longer or another
    /// search by hand (docs/benchmarks.md has the numbers).</summary>
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("ACTORS_FUZZ_REQUESTS"), out var n) ? n : 2000;

    private static readonly ulong Seed = ulong.TryParse(Environment.GetEnvironmentVariable("ACTORS_FUZZ_SEED"), out var seed) ? seed : 20261201;
    private const string WebhookSecret = "whsec_fuzz_secret";

    /// <summary>503s that are answers, not failures: the server says what is missing and the
    /// client may retry or ask an operator.</summary>
    private static readonly HashSet<string> DesignedUnavailable =
        ["billing_not_configured", "stripe_webhooks_not_configured", "metrics_recording_off", "instance_warm", "models_loading", "cluster_unavailable", "server_busy"];

    private static readonly string[] Interesting =
    [
        "", " ", "0", "-1", "1", "2.7", "1e30", "-1e308", "NaN", "Infinity", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
        "null", "true", "[]", "{}", "%00", "\u0000", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "𝕏𝕐ℤ", "é", new string('a', 3000),
        "queued,running", "succeeded", "pro", "free", "enterprise", "diffusion", "identity", "segmentation", "credits_1000", "http://127.0.0.1/admin",
        "http://169.254.169.254/latest", "2026-13-45", "P1D", "-0", "0x10", "١٢٣",
    ];

    private static readonly string[] FieldNames =
    [
        "model", "input", "contentType", "parameters", "webhookUrl", "name", "tier", "plan", "pack", "credits", "grantId", "reason", "enabled",
        "shape", "spacingXMm", "spacingYMm", "sliceThicknessMm", "steps", "seed", "id", "type", "data", "object", "created", "count", "gpuType",
        "instances", "min", "max", "budget", "state", "status", "limit", "days", "arrivalsPerHour", "x", "Model", "",
    ];

    private static readonly string[] QueryNames = ["status", "limit", "wait", "format", "days", "tenant", "attention", "model", "seed", "steps", "shape", "x"];

    [Fact]
    public async Task NoGeneratedRequestGetsA5xxAHangOrAnErrorThatIsNotProblemDetails()
    {
        using var silo = await SiloProcess.StartEmbeddedAsync("fuzz", ("Billing:Stripe:WebhookSecrets:0", WebhookSecret),
            ("Api:MaxWaitSeconds", "5")); // Prefer: wait=N waits at most this long: under the 10 s a hang is
        var api = new ApiClient(silo.Http);
        var (tenant, key, _) = await api.CreateTenantAsync("pro");
        var job = await api.SubmitOkAsync(key, ApiClient.Identity(new float[16], 5), wait: 30);
        var jobId = job.GetProperty("id").GetString()!;

        var doc = await silo.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var routes = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => new Route(m.Name.ToUpperInvariant(), p.Name, BodyFields(doc, m.Value))))
            .Where(r => r.Path != "/admin/fleet/simulate") // long by design (a simulation), bounded by its own limits
            .Where(r => r.Path != "/admin/host/shutdown") // ends the process by design (the provider's way to stop a host)
            .Where(r => r.Path != "/orleans/Trace") // the Orleans Dashboard's live log: a stream, open by design
            .ToList();
        routes.RemoveAll(r => r.Path == "/webhooks/stripe");
        routes.Add(new Route("POST", "/webhooks/stripe", ["id", "object", "type", "created", "data", "api_version"]));
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes in the OpenAPI document");

        var context = new FuzzContext(key, SiloFactory.AdminKey, tenant, jobId);
        var requests = Regressions(context).Concat(FuzzRequest.Generator(routes, context).Sample(Requests, new Rnd(Seed), 30)).ToList();

        using var http = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = new Uri(silo.Url), Timeout = TimeSpan.FromSeconds(10),
        };
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        foreach (var request in requests)
        {
            using var message = request.ToMessage();
            var shown = request.Describe();
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // headers and body together
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
                {
                    continue; // a stream answers at once and stays open by design
                }

                var body = await response.Content.ReadAsStringAsync(deadline.Token);
                var problemType = ProblemType(response, body);
                if (status >= 500 && !(status == 503 && problemType is not null && DesignedUnavailable.Contains(problemType)))
                {
                    failures.Add($"{status} {problemType}: {shown}\n    {Cut(body)}");
                }
                else if (status >= 400 && request.Method != "HEAD" && problemType is null && !KestrelsOwn(request, response, body))
                {
                    failures.Add($"{status} without ProblemDetails ({response.Content.Headers.ContentType}): {shown}\n    {Cut(body)}");
                }
            }
            catch (OperationCanceledException)
            {
                failures.Add($"no answer in 10 s: {shown}");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"the silo stopped answering ({e.Message}) after: {shown}\n--- silo log ---\n{Cut(silo.Output[^Math.Min(6000, silo.Output.Length)..], 6000)}");
                break;
            }
        }

        var summary = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "actors-fuzz-last.txt"), $"{requests.Count} requests, seed {Seed}: {summary}\n{string.Join("\n", failures)}");
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {requests.Count} requests failed (answers: {summary}):\n{string.Join("\n", failures.Take(25))}\n--- silo log ---\n{Cut(silo.Output, 4000)}");
        Assert.True(statuses.Keys.Any(s => s is >= 200 and < 300) && statuses.Keys.Count(s => s >= 400) >= 4, summary); // it reached the handlers
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task BrokenHttpFramingIsRefusedWithoutA5xxOrAHang()
    {
        using var silo = await SiloProcess.StartEmbeddedAsync("framing");
        var port = new Uri(silo.Url).Port;
        var big = new string('a', 70_000);
        string multipartWithHugeHeader = "--b\r\nContent-Disposition: form-data; name=\"model\"\r\nX-Long: " + new string('h', 20_000) + "\r\n\r\nidentity\r\n--b--\r\n";
        var cases = new (string Name, string Raw)[]
        {
            ("garbage", "GARBAGE\r\n\r\n"),
            ("binary", "\u0001\u0002\u0003\u00ff\r\n\r\n"),
            ("unknown version", "GET /health/live HTTP/9.9\r\nHost: x\r\n\r\n"),
            ("no host", "GET /health/live HTTP/1.1\r\n\r\n"),
            ("huge request line", $"GET /v1/jobs?x={big} HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("huge header", $"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"),
            ("many headers", "GET /health/live HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"X-{i}: v\r\n")) + "\r\n"),
            ("NUL in header", "GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n"),
            ("bad content length", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
            ("negative content length", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
            ("two content lengths", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
            ("bad chunk", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
            ("chunked and length", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
            ("unknown encoding", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
            ("absolute form to elsewhere", "GET http://169.254.169.254/latest HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"),
            ("asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("CONNECT", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"),
            ("space in path", "GET /v1/jobs /x HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("percent garbage", "GET /v1/jobs/%zz%00%ff HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n"),
            ("bare LF", "GET /health/live HTTP/1.1\nHost: x\n\n"),
            ("multipart header over the limit", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ak_x_y\r\nContent-Type: multipart/form-data; boundary=b\r\n" +
                $"Content-Length: {Encoding.UTF8.GetByteCount(multipartWithHugeHeader)}\r\n\r\n{multipartWithHugeHeader}"),
            ("truncated body", "POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\":"),
        };

        var failures = new List<string>();
        foreach (var (name, raw) in cases)
        {
            var (status, text) = await SendRawAsync(port, raw, closeAfterSend: name == "truncated body");
            if (status is null && text == "timeout")
            {
                failures.Add($"{name}: no answer and the connection stayed open for 10 s");
            }
            else if (status >= 500 && !(status == 505 && name == "unknown version")) // 505 is HTTP's own answer to HTTP/9.9
            {
                failures.Add($"{name}: {status}\n    {Cut(text)}");
            }
        }

        // The silo is still there and still right.
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/ready")).StatusCode);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n--- silo log ---\n" + Cut(silo.Output, 4000));
    }

    /// <summary>Sends raw bytes; the status of the first answer, or null with "closed" (the server
    /// hung up, which is a fine answer to garbage) or "timeout" (nothing for 10 s).</summary>
    private static async Task<(int? Status, string Text)> SendRawAsync(int port, string raw, bool closeAfterSend)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(raw));
            if (closeAfterSend)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            return (null, "closed"); // refused while we were still sending
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[8192];
        var received = new StringBuilder();
        try
        {
            while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                received.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException)
        {
            return received.Length == 0 ? (null, "timeout") : (ParseStatus(received.ToString()), received.ToString());
        }
        catch (IOException)
        {
        }

        var text = received.ToString();
        return text.Length == 0 ? (null, "closed") : (ParseStatus(text), text);
    }

    private static int? ParseStatus(string text) =>
        text.StartsWith("HTTP/", StringComparison.Ordinal) && text.Split(' ') is { Length: > 1 } parts && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) ? s : null;

    private static string? ProblemType(HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }

        try
        {
            var json = JsonDocument.Parse(body).RootElement;
            return json.TryGetProperty("type", out var t) && json.TryGetProperty("status", out _) ? t.GetString() ?? "" : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Kestrel refuses a path with an encoded NUL, or a header holding a control character,
    /// before the app sees it: a bare 400, like the framing errors of the raw-socket test.</summary>
    private static bool KestrelsOwn(FuzzRequest request, HttpResponseMessage response, string body) =>
        response.StatusCode == HttpStatusCode.BadRequest && body.Length == 0
        && (request.Path.Contains("%00", StringComparison.Ordinal) || request.Headers.Append(("Authorization", request.Auth ?? "")).Any(h => h.Item2.Any(char.IsControl)));

    /// <summary>A body for the failure message: text as it is, bytes that are not UTF-8 as \xNN.</summary>
    private static string Escaped(byte[] body)
    {
        var text = new StringBuilder();
        var decoder = new UTF8Encoding(false, true);
        for (var i = 0; i < body.Length;)
        {
            var length = body[i] < 0x80 ? 1 : body[i] >= 0xF0 ? 4 : body[i] >= 0xE0 ? 3 : 2;
            try
            {
                text.Append(decoder.GetString(body, i, Math.Min(length, body.Length - i)));
                i += length;
            }
            catch (DecoderFallbackException)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{body[i]:X2}");
                i++;
            }
        }

        return text.ToString();
    }

    private static string Cut(string text, int max = 300) => text.Length <= max ? text : text[..max] + "…";

    internal sealed record FuzzContext(string TenantKey, string AdminKey, string TenantId, string JobId);

    /// <summary>A route and the fields its request body schema names (empty: none documented).</summary>
    internal sealed record Route(string Method, string Path, string[] Fields);

    private static string[] BodyFields(JsonElement doc, JsonElement operation)
    {
        if (!operation.TryGetProperty("requestBody", out var body) || !body.TryGetProperty("content", out var content))
        {
            return [];
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var media in content.EnumerateObject())
        {
            if (media.Value.TryGetProperty("schema", out var schema))
            {
                Collect(doc, schema, names, 0);
            }
        }

        return [.. names];
    }

    private static void Collect(JsonElement doc, JsonElement schema, HashSet<string> names, int depth)
    {
        if (depth > 4)
        {
            return;
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            Collect(doc, doc.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]), names, depth + 1);
        }

        foreach (var combinator in new[] { "allOf", "anyOf", "oneOf" })
        {
            if (schema.TryGetProperty(combinator, out var parts))
            {
                foreach (var part in parts.EnumerateArray())
                {
                    Collect(doc, part, names, depth + 1);
                }
            }
        }

        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                names.Add(property.Name);
            }
        }
    }

    /// <summary>Requests that once answered 500, kept so they never do again.</summary>
    private static IEnumerable<FuzzRequest> Regressions(FuzzContext c)
    {
        static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
        yield return new FuzzRequest("POST", $"/admin/tenants/{c.TenantId}/credits", c.AdminKey, "application/json",
            Utf8("""{"credits":-9223372036854775808,"grantId":"g-min"}"""), []);
        yield return new FuzzRequest("POST", "/v1/jobs", c.TenantKey, "multipart/form-data; boundary=b",
            Utf8("--b\r\nContent-Disposition: form-data; name=\"model\"\r\nX-Long: " + new string('h', 20_000) + "\r\n\r\nidentity\r\n--b--\r\n"), []);
        yield return new FuzzRequest("POST", "/admin/tenants/%20/keys", c.AdminKey, null, null, []); // a blank grain key
        yield return new FuzzRequest("POST", "/admin/probe/%7B%7D/increment", c.AdminKey, null, null, []); // a brace in a stored grain's key
        // Round two (issue 29): text that is not UTF-8 or UTF-16, bidi in a receiver's host, blank ids.
        static byte[] WithFf(string json) => [.. Encoding.UTF8.GetBytes(json).SelectMany(b => b == (byte)'~' ? new byte[] { 0xFF } : [b])];
        foreach (var body in new[]
        {
            WithFf("""{"model":"identity~","input":"AAAA"}"""), WithFf("""{"model":"identity","x~":1}"""), WithFf("""{"model":"diffusion","parameters":{"prompt":"red~"}}"""),
            Utf8("""{"model":"diffusion","parameters":{"prompt":"\ud800"}}"""), Utf8("""{"model":"diffusion","\udfff":1}"""),
            Utf8("""{"model":"diffusion","parameters":{"prompt":"red circle"},"webhookUrl":"https://\u202e.com/"}"""),
        })
        {
            yield return new FuzzRequest("POST", "/v1/jobs", c.TenantKey, "application/json", body, []);
        }

        yield return new FuzzRequest("POST", "/v1/jobs", c.TenantKey, "multipart/form-data; boundary=b",
            Utf8("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ndiffusion\r\n--b\r\nContent-Disposition: form-data; name=\"webhookUrl\"\r\n\r\nhttps://\u202e.com/\r\n--b--\r\n"), []);
        yield return new FuzzRequest("POST", "/v1/jobs", c.TenantKey, "multipart/form-data; boundary=b",
            WithFf("--b\r\nContent-Disposition: form-data; name=\"model~\"\r\n\r\ndiffusion~\r\n--b--\r\n"), []);
        yield return new FuzzRequest("POST", "/admin/tenants", c.AdminKey, "application/json", Utf8("""{"id":"","name":"x","tier":"pro"}"""), []);
        yield return new FuzzRequest("POST", "/admin/tenants", c.AdminKey, "application/json", Utf8("""{"id":"  ","name":"x","tier":"pro"}"""), []);
        yield return new FuzzRequest("POST", "/admin/tenants", c.AdminKey, "application/json", WithFf("""{"id":"t~","name":"x~","tier":"pro"}"""), []);
        yield return new FuzzRequest("GET", $"/v1/jobs/{c.JobId}", c.TenantKey, null, null, [("Prefer", "wait=4294967296")]);
        foreach (var body in new[]
        {
            """{"id":"evt_blank_ref","object":"event","type":"checkout.session.completed","created":1700000000,"data":{"object":{"object":"checkout.session","id":"cs_1","mode":"subscription","client_reference_id":"","subscription":"sub_1"}}}""",
            """{"id":"evt_blank_meta","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"object":"invoice","id":"in_1","customer":" ","metadata":{"tenant_id":" "}}}}""",
            """{"id":"evt_sur","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"object":"invoice","id":"in_1","metadata":{"tenant_id":"\ud800"}}}}""",
            """{"id":"evt_x","object":"event","type":"x","created":9223372036854775807,"data":{"object":null}}""",
            """{"id":"","object":"event","type":"checkout.session.completed","created":1700000000,"data":{"object":{"object":"checkout.session","id":"cs_1","mode":"payment"}}}""",
            """{"id":"evt_y","object":"event","type":"invoice.paid","created":-9223372036854775808,"data":{"object":{"object":"invoice","id":"in_1"}}}""",
            """{"id":"evt_z","object":"event","type":"customer.subscription.updated","created":1700000000,"data":{"object":{"object":"subscription","id":"s","items":{"object":"list","data":[{"current_period_start":-9223372036854775808}]}}}}""",
        })
        {
            var bytes = Utf8(body);
            yield return new FuzzRequest("POST", "/webhooks/stripe", null, "application/json", bytes, [("Stripe-Signature", FuzzRequest.Sign(bytes))]);
        }
    }

    /// <summary>One generated request.</summary>
    internal sealed record FuzzRequest(string Method, string Path, string? Auth, string? ContentType, byte[]? Body, IReadOnlyList<(string, string)> Headers)
    {
        /// <summary>What <see cref="HostileText"/> did to the body, for the failure message.</summary>
        public string Mutation { get; init; } = "";

        public static Gen<FuzzRequest> Generator(IReadOnlyList<Route> routes, FuzzContext context)
        {
            var text = Gen.Frequency((4, Gen.Elements(Interesting)), (2, Gen.Elements(HostileText.Strings)), (1, Gen.Choose(0, 1_000_000).Select(n => n.ToString(CultureInfo.InvariantCulture))));
            var auth = Gen.Frequency((1, Gen.Constant<string?>(null)), (4, Gen.Constant<string?>(context.TenantKey)), (4, Gen.Constant<string?>(context.AdminKey)),
                (1, text.Select<string, string?>(t => "ak_" + t)));
            var segment = Gen.Frequency((3, Gen.Elements(context.TenantId, context.JobId, "identity", "diffusion", "segmentation", "gpu-local", "default")), (2, text));
            var query = Gen.ListOf(Gen.Zip(Gen.Elements(QueryNames), text), 3).Select(pairs =>
                pairs.Count == 0 ? "" : "?" + string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2)}")));
            var json = JsonValueGen(text, 3);
            var jsonObject = Gen.ListOf(Gen.Zip(Gen.Elements(FieldNames), json), 6).Select(fields =>
            {
                var o = new JsonObject();
                foreach (var (name, value) in fields)
                {
                    o[name] = value?.DeepClone();
                }

                return o.ToJsonString();
            });
            var multipart = Gen.ListOf(Gen.Zip(Gen.Elements(FieldNames), text), 5).Select(fields =>
                string.Concat(fields.Select(f => $"--fz\r\nContent-Disposition: form-data; name=\"{f.Item1}\"\r\n\r\n{f.Item2}\r\n")) + "--fz--\r\n");
            var body = Gen.Frequency(
                (6, jsonObject.Select(b => (Type: (string?)"application/json", Body: (string?)b))),
                (1, json.Select(v => (Type: (string?)"application/json", Body: (string?)(v?.ToJsonString() ?? "null")))),
                (1, text.Select(t => (Type: (string?)"application/json", Body: (string?)t))),
                (2, multipart.Select(m => (Type: (string?)"multipart/form-data; boundary=fz", Body: (string?)m))),
                (1, Gen.Elements<(string?, string?)>(("text/plain", "hello"), (null, null), ("multipart/form-data", "x"), ("application/json; charset=utf-16", "{}"),
                    ("application/x-www-form-urlencoded", "a=b&c"), ("image/png", "\u0089PNG\r\n"), ("multipart/form-data; boundary=fz", "--fz\r\nbroken"))));
            var headerValue = Gen.Frequency((2, text.Select(t => "wait=" + t)), (1, Gen.Elements(HostileText.HeaderValues)), (1, Gen.Elements(HostileText.HeaderValues).Select(v => "wait=" + v)),
                (1, Gen.Elements("wait=2147483648", "wait=99999999999999999999", "wait=-1", "wait=\"3\"", "wait=0005")));
            var headers = Gen.ListOf(Gen.Zip(Gen.Elements("Prefer", "Idempotency-Key", "Accept", "If-None-Match", "Stripe-Signature", "X-Request-Id"), headerValue), 2)
                .Select(h => (IReadOnlyList<(string, string)>)h.Select(p => (p.Item1, HttpSafe(p.Item2))).ToList());

            // The route's own fields (from its OpenAPI schema) with edge values, now and then an unknown one.
            Gen<(string? Type, string? Body)> Shaped(Route route) =>
                route.Fields.Length == 0 ? body
                : Gen.Frequency(
                    (4, Gen.ListOf(Gen.Zip(Gen.Frequency((6, Gen.Elements(route.Fields)), (1, Gen.Elements(FieldNames))), json), route.Fields.Length + 1)
                        .Select(fields =>
                        {
                            var o = new JsonObject();
                            foreach (var (name, value) in fields)
                            {
                                o[name] = value?.DeepClone();
                            }

                            return (Type: (string?)"application/json", Body: (string?)o.ToJsonString());
                        })),
                    (1, body));

            var anything = from route in Gen.Elements(routes.ToArray())
                           from segments in Gen.ArrayOf(segment, 4)
                           from q in query
                           from a in auth
                           from b in Shaped(route)
                           from h in headers
                           from sign in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
                           from mutation in HostileText.Mutations
                           select Build(route, segments, q, a, b, h, sign, mutation);

            // Text attacks where bodies are read: every route that takes one, the key it needs (so
            // the body gets past authentication), signed when it is Stripe's, the text attacked.
            var readers = routes.Where(r => r.Method is "POST" or "PUT" or "PATCH").ToArray();
            var textAttack = from route in Gen.Elements(readers)
                             from segments in Gen.ArrayOf(Gen.Elements(context.TenantId, context.JobId, "identity", "diffusion", "gpu-local"), 4)
                             from b in Gen.Frequency((3, Plausible(route, context)), (1, Shaped(route)))
                             from h in headers
                             from mutation in HostileText.Mutations.Where(m => m.Kind != HostileText.Kind.None)
                             select Build(route, segments, "", route.Path.StartsWith("/admin", StringComparison.Ordinal) ? context.AdminKey : context.TenantKey, b, h, sign: true, mutation);
            return Gen.Frequency((1, anything), (1, textAttack));
        }

        /// <summary>The Stripe-Signature header Stripe would send for these bytes now.</summary>
        public static string Sign(byte[] bytes)
        {
            var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            byte[] signed = [.. Encoding.UTF8.GetBytes(t + "."), .. bytes];
            return $"t={t},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), signed))}";
        }

        private static FuzzRequest Build(Route route, string[] segments, string query, string? auth, (string? Type, string? Body) body,
            IReadOnlyList<(string, string)> headers, bool sign, HostileText.Mutation mutation)
        {
            var i = 0;
            var path = string.Join('/', route.Path.Split('/').Select(part =>
                part.StartsWith('{') && part.EndsWith('}') ? Uri.EscapeDataString(segments[i++ % segments.Length]) : part));
            var withBody = route.Method is "POST" or "PUT" or "PATCH" or "DELETE";
            var bytes = withBody && body.Body is not null
                ? HostileText.Apply(mutation, Encoding.UTF8.GetBytes(body.Body), body.Type?.StartsWith("application/json", StringComparison.Ordinal) ?? false)
                : null;
            var extra = headers.Where(h => !(h.Item1 == "Idempotency-Key" && h.Item2.Length > 200)).ToList();
            if (route.Path == "/webhooks/stripe" && sign && bytes is not null)
            {
                extra.Add(("Stripe-Signature", Sign(bytes)));
            }

            return new FuzzRequest(route.Method, path + query, auth, withBody ? body.Type : null, bytes, extra) { Mutation = bytes is null ? "" : HostileText.Describe(mutation) };
        }

        /// <summary>JSON values with edge cases, nested up to <paramref name="depth"/>; events
        /// shaped like Stripe's appear among them.</summary>
        private static Gen<JsonNode?> JsonValueGen(Gen<string> text, int depth)
        {
            var scalar = Gen.Frequency(
                (1, Gen.Constant<JsonNode?>(null)),
                (1, Gen.Elements<JsonNode?>(JsonValue.Create(true), JsonValue.Create(false))),
                (3, Gen.Elements<JsonNode?>(JsonValue.Create(0), JsonValue.Create(-1), JsonValue.Create(long.MinValue), JsonValue.Create(long.MaxValue),
                    JsonValue.Create(1e308), JsonValue.Create(2.7), JsonValue.Create(-0.0), JsonValue.Create(int.MaxValue), JsonValue.Create(ulong.MaxValue))),
                (4, text.Select<string, JsonNode?>(t => JsonValue.Create(t))));
            if (depth == 0)
            {
                return scalar;
            }

            var inner = JsonValueGen(text, depth - 1);
            var array = Gen.ListOf(inner, 3).Select<List<JsonNode?>, JsonNode?>(items => new JsonArray(items.Select(x => x?.DeepClone()).ToArray()));
            var obj = Gen.ListOf(Gen.Zip(Gen.Elements(FieldNames), inner), 4).Select<List<(string, JsonNode?)>, JsonNode?>(fields =>
            {
                var o = new JsonObject();
                foreach (var (name, value) in fields)
                {
                    o[name] = value?.DeepClone();
                }

                return o;
            });
            var stripeEvent = Gen.Zip(Gen.Elements("", "evt_1", "evt_" + new string('x', 300)),
                    Gen.Elements("checkout.session.completed", "customer.subscription.updated", "invoice.paid", "invoice.payment_failed", "x", ""))
                .SelectMany(e => Gen.Zip(scalar, Gen.Frequency((2, obj), (1, StripeObjectGen(text)))), (e, v) => (JsonNode?)new JsonObject
                {
                    ["id"] = e.Item1, ["object"] = "event", ["type"] = e.Item2, ["created"] = v.Item1?.DeepClone(),
                    ["data"] = new JsonObject { ["object"] = v.Item2?.DeepClone() },
                });
            return Gen.Frequency((4, scalar), (1, array), (2, obj), (1, stripeEvent));
        }

        /// <summary>A body its route would take (a known good one, or the route's documented fields
        /// with ordinary values), so that what the text attack puts in it is what gets read.</summary>
        private static Gen<(string? Type, string? Body)> Plausible(Route route, FuzzContext context)
        {
            (string?, string?) Json(object body) => ("application/json", JsonSerializer.Serialize(body));
            (string?, string?)[] bodies = route.Path switch
            {
                "/v1/jobs" =>
                [
                    Json(new { model = "diffusion", parameters = new { prompt = "red circle", steps = 2, seed = 3 }, webhookUrl = "https://example.com/hook" }),
                    Json(new { model = "identity", input = Convert.ToBase64String(new byte[16]), contentType = "application/octet-stream", parameters = new { shape = new[] { 1, 1, 4 }, seed = 4 } }),
                    Json(new { model = "segmentation", input = "iVBORw0KGgo=", parameters = new { spacingXMm = 0.5 } }),
                    ("multipart/form-data; boundary=fz", "--fz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ndiffusion\r\n--fz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nred circle\r\n" +
                        "--fz\r\nContent-Disposition: form-data; name=\"webhookUrl\"\r\n\r\nhttps://example.com/hook\r\n--fz--\r\n"),
                    ("multipart/form-data; boundary=fz", "--fz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nidentity\r\n--fz\r\nContent-Disposition: form-data; name=\"parameters\"\r\n\r\n{\"shape\":[1,1,4],\"seed\":\"x\"}\r\n--fz--\r\n"),
                ],
                "/webhooks/stripe" =>
                [
                    Json(new { id = "evt_t1", @object = "event", type = "checkout.session.completed", created = 1_700_000_000,
                        data = new { @object = new { @object = "checkout.session", id = "cs_t", mode = "subscription", client_reference_id = context.TenantId, subscription = "sub_t", customer = "cus_t", metadata = new { tenant_id = context.TenantId, plan = "pro" } } } }),
                    Json(new { id = "evt_t2", @object = "event", type = "invoice.payment_failed", created = 1_700_000_000,
                        data = new { @object = new { @object = "invoice", id = "in_t", customer = "cus_t", metadata = new { tenant_id = context.TenantId } } } }),
                ],
                _ => [Json(route.Fields.ToDictionary(f => f, f => OrdinaryValue(f, context)))],
            };
            return Gen.Elements(bodies);
        }

        private static object OrdinaryValue(string field, FuzzContext context) => field switch
        {
            "tier" => "pro", "plan" => "pro", "pack" => "credits_1000", "model" => "diffusion", "id" => "t-fuzz", "tenantId" => context.TenantId,
            "credits" or "count" or "min" or "max" or "instances" or "days" or "limit" => 1, "budget" or "arrivalsPerHour" => 2.5, "enabled" => true,
            _ => "ordinary text",
        };

        /// <summary>Stripe objects whose references to a tenant (client_reference_id, metadata's
        /// tenant_id, customer, subscription) are edge text: blank, whitespace, format characters.</summary>
        private static Gen<JsonNode?> StripeObjectGen(Gen<string> text) =>
            from kind in Gen.Elements("checkout.session", "subscription", "invoice")
            from mode in Gen.Elements("subscription", "payment", "")
            from reference in text
            from tenant in text
            from customer in Gen.Frequency((2, text), (1, Gen.Constant("cus_1")))
            from subscription in Gen.Frequency((2, text), (1, Gen.Constant("sub_1")))
            select (JsonNode?)new JsonObject
            {
                ["object"] = kind, ["id"] = kind[..2] + "_1", ["mode"] = mode, ["client_reference_id"] = reference, ["customer"] = customer,
                ["subscription"] = subscription, ["status"] = "active", ["payment_status"] = "paid", ["metadata"] = new JsonObject { ["tenant_id"] = tenant, ["plan"] = "pro" },
            };

        public HttpRequestMessage ToMessage()
        {
            var message = new HttpRequestMessage(new HttpMethod(Method), Path);
            if (Auth is not null)
            {
                message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HttpSafe(Auth));
            }

            if (Body is not null)
            {
                message.Content = new ByteArrayContent(Body);
                if (ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            foreach (var (name, value) in Headers)
            {
                message.Headers.TryAddWithoutValidation(name, HttpSafe(value));
            }

            return message;
        }

        /// <summary>A header value HTTP can carry: any character but CR, LF and NUL (those are framing,
        /// covered by the raw-socket test); the client sends the rest as UTF-8.</summary>
        public static string HttpSafe(string value) =>
            new(value.Select(c => c is '\r' or '\n' or '\0' ? '?' : c).ToArray());

        public string Describe()
        {
            var body = Body is null ? "" : Escaped(Body);
            return $"{Method} {Cut(Path, 200)}{Mutation} auth={(Auth is null ? "none" : Auth.StartsWith("ak_", StringComparison.Ordinal) ? "tenant/forged" : "admin")} " +
                   $"type={ContentType} body={Cut(body, 300)} headers={string.Join(";", Headers.Select(h => h.Item1 + "=" + Cut(h.Item2, 40)))}";
        }
    }
}
