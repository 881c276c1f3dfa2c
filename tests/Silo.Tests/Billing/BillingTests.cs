using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Silo.Tests.Billing;

/// <summary>Plans, admission, the credit ledger and Stripe, through HTTP on two silos sharing one
/// PostgreSQL database, with Stripe faked in its own wire format.</summary>
public sealed class BillingTests(BillingCluster cluster, ITestOutputHelper output) : IClassFixture<BillingCluster>
{
    private ApiClient Api => cluster.ApiA;

    private static object IdentityJob(int seed) => new
    {
        model = "identity", input = Convert.ToBase64String(new byte[64]), contentType = "application/octet-stream", parameters = new { shape = new[] { 1, 1, 16 }, seed },
    };

    [Fact]
    public async Task AKeyRevokedOnOneSiloIsRefusedByTheOtherWithinASecond()
    {
        var (tenant, _, _) = await Api.CreateTenantAsync("pro");
        using var issue = new HttpRequestMessage(HttpMethod.Post, $"/admin/tenants/{tenant}/keys");
        issue.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using var issued = await cluster.ApiA.Http.SendAsync(issue);
        var key = await issued.Content.ReadFromJsonAsync<JsonElement>();
        var (apiKey, keyId) = (key.GetProperty("apiKey").GetString()!, key.GetProperty("keyId").GetString()!);

        // Silo B has verified (and cached) the key.
        using (var before = await cluster.ApiB.GetAsync(apiKey, "/v1/usage"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/admin/tenants/{tenant}/keys/{keyId}");
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using (var revoked = await cluster.ApiA.Http.SendAsync(revoke))
        {
            Assert.True(revoked.IsSuccessStatusCode);
        }

        // Api:AuthCacheSeconds is 1: one second after the revocation, every silo refuses the key.
        await Task.Delay(TimeSpan.FromSeconds(1.05));
        using var after = await cluster.ApiB.GetAsync(apiKey, "/v1/usage");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        using var onA = await cluster.ApiA.GetAsync(apiKey, "/v1/usage");
        Assert.Equal(HttpStatusCode.Unauthorized, onA.StatusCode);
    }

    /// <summary>200 submissions at once, half through each silo, against a quota of 50 a day: each
    /// is admitted, refused for the quota (429 <c>daily_quota_exceeded</c>), or told to retry (503 or
    /// 429 with Retry-After, and the client does, with the same Idempotency-Key): none fails for
    /// being one of many, exactly 50 are admitted, the rest refused for the quota. Every answer is
    /// printed when the counts are off.</summary>
    [Fact]
    public async Task TwoHundredConcurrentSubmitsOverTwoSilosAdmitExactlyTheDailyQuota()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("premium");
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{tenant}/plan", new { plan = "quota50" });

        var answers = new System.Collections.Concurrent.ConcurrentBag<string>();
        var submits = Enumerable.Range(0, 200).Select(async i =>
        {
            var api = i % 2 == 0 ? cluster.ApiA : cluster.ApiB;
            for (var attempt = 1; ; attempt++)
            {
                using var response = await api.SubmitAsync(key, IdentityJob(1000 + i), idempotencyKey: $"quota-{i}");
                var body = await response.Content.ReadAsStringAsync();
                var type = response.IsSuccessStatusCode ? "" : ProblemTypeOf(body);
                answers.Add($"#{i} try {attempt}: {(int)response.StatusCode} {type} Retry-After={response.Headers.RetryAfter?.ToString() ?? "-"}");
                var retry = response.Headers.RetryAfter?.Delta;
                var toldToRetry = retry is not null && type != "daily_quota_exceeded" && (int)response.StatusCode is 429 or 503;
                if (!toldToRetry || attempt == 60)
                {
                    return (response.StatusCode, Type: type, Body: body);
                }

                await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, retry!.Value.TotalSeconds)));
            }
        });
        var results = await Task.WhenAll(submits);

        var summary = string.Join("; ", results.GroupBy(r => $"{(int)r.StatusCode} {r.Type}").OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}"));
        var shown = $"{summary}\nevery answer:\n{string.Join("\n", answers.OrderBy(a => int.Parse(a[1..a.IndexOf(' ')], System.Globalization.CultureInfo.InvariantCulture)))}\n" +
                    $"first bodies: {string.Join("\n", results.GroupBy(r => (int)r.StatusCode).Select(g => $"{g.Key}: {g.First().Body}"))}";
        var retried = answers.Where(a => a.Contains(" 503 ", StringComparison.Ordinal) || (a.Contains(" 429 ", StringComparison.Ordinal) && !a.Contains("daily_quota", StringComparison.Ordinal)))
            .Select(a => a[(a.IndexOf(':', StringComparison.Ordinal) + 2)..]).GroupBy(a => a).Select(g => $"{g.Key} ×{g.Count()}");
        output.WriteLine($"final answers: {summary}; told to retry on the way: {string.Join("; ", retried)}");
        Assert.True(results.Count(r => r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK) == 50, shown);
        Assert.True(results.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests && r.Type == "daily_quota_exceeded") == 150, shown);
        var usage = await UsageAsync(key);
        Assert.Equal(50, usage.GetProperty("jobsToday").GetInt32());
    }

    private static string ProblemTypeOf(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "(no type)";
        }
        catch (JsonException)
        {
            return "(not JSON)";
        }
    }

    [Fact]
    public async Task RefusalsSayWhichCheckFailedWithTheRightStatusAndHeaders()
    {
        // Free: 10 jobs a minute, diffusion 1 per 30 s, 20 a day, 50 included credits, no overage.
        var (tenant, key, _) = await Api.CreateTenantAsync("free");

        using (var first = await Api.SubmitAsync(key, IdentityJob(-1)))
        {
            Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
            Assert.Equal("10", first.Headers.GetValues("RateLimit-Limit").Single());
            Assert.Equal("9", first.Headers.GetValues("RateLimit-Remaining").Single());
        }

        using (var diffusion = await Api.SubmitAsync(key, new { model = "diffusion", parameters = new { steps = 2, seed = 1 } }))
        {
            Assert.True(diffusion.IsSuccessStatusCode, await diffusion.Content.ReadAsStringAsync());
            Assert.Equal(("1", "0"), (diffusion.Headers.GetValues("RateLimit-Limit").Single(), diffusion.Headers.GetValues("RateLimit-Remaining").Single())); // the stricter bucket
        }

        using (var slow = await Api.SubmitAsync(key, new { model = "diffusion", parameters = new { steps = 2, seed = 2 } }))
        {
            var problem = await ProblemAsync(slow, HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.Contains("diffusion", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var retry = int.Parse(slow.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retry, 25, 30);
        }

        for (var i = 0; i < 8; i++)
        {
            using var ok = await Api.SubmitAsync(key, IdentityJob(i));
            Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        }

        using (var limited = await Api.SubmitAsync(key, IdentityJob(99)))
        {
            await ProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.Equal("0", limited.Headers.GetValues("RateLimit-Remaining").Single());
            Assert.True(limited.Headers.Contains("Retry-After"));
        }

        // Out of credits: take the rest away; the next job needs credits the plan can't overdraw.
        var usage = await UsageAsync(key);
        await AdminAsync(HttpMethod.Post, $"/admin/tenants/{tenant}/credits", new { credits = -usage.GetProperty("balance").GetInt64(), grantId = "drain-" + tenant });
        var before = await UsageAsync(key);
        Assert.Equal(0, before.GetProperty("balance").GetInt64());

        // (the tenant bucket is empty now; wait for one token: 6 s at 10/min)
        await Task.Delay(TimeSpan.FromSeconds(6.5));
        using (var broke = await Api.SubmitAsync(key, IdentityJob(500)))
        {
            var problem = await ProblemAsync(broke, HttpStatusCode.PaymentRequired, "payment_required");
            Assert.Equal("/v1/billing/checkout", problem.GetProperty("buyCredits").GetString());
        }

        Assert.Equal(before.GetProperty("jobsToday").GetInt32(), (await UsageAsync(key)).GetProperty("jobsToday").GetInt32()); // a refusal changes nothing

        var (other, otherKey, _) = await Api.CreateTenantAsync("free");
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{other}/plan", new { plan = "textonly" });
        using var notInPlan = await Api.SubmitAsync(otherKey, IdentityJob(1));
        await ProblemAsync(notInPlan, HttpStatusCode.Forbidden, "model_not_in_plan");
    }

    [Fact]
    public async Task TheDailyQuotaRefusesUntilMidnightWithRetryAfter()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("premium");
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{tenant}/plan", new { plan = "quota50" });
        for (var i = 0; i < 50; i++)
        {
            using var ok = await cluster.ApiB.SubmitAsync(key, IdentityJob(20_000 + i));
            Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        }

        using var refused = await Api.SubmitAsync(key, IdentityJob(20_100));
        await ProblemAsync(refused, HttpStatusCode.TooManyRequests, "daily_quota_exceeded");
        var retry = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var untilMidnight = (new DateTimeOffset(cluster.Clock.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero) - cluster.Clock.GetUtcNow()).TotalSeconds;
        Assert.InRange(retry, untilMidnight - 5, untilMidnight + 5);
        Assert.InRange(retry, 3600, 15 * 3600); // the cluster's clock started at 09:00
    }

    [Fact]
    public async Task DuplicateAndReorderedStripeEventsLeaveExactlyTheRightPlanAndBalance()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        using var checkout = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(new { plan = "pro" }) }, key);
        Assert.Equal(HttpStatusCode.Created, checkout.StatusCode);
        var session = await checkout.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("https://checkout.stripe.com/", session.GetProperty("url").GetString(), StringComparison.Ordinal);
        var customerRequest = cluster.Stripe.To("/v1/customers").Last(r => r.Form.GetValueOrDefault("metadata[tenant_id]") == tenant);
        var customer = (await UsageAsync(key)).GetProperty("stripeCustomerId").GetString()!;
        Assert.StartsWith("cus_", customer, StringComparison.Ordinal);
        var sessionRequest = cluster.Stripe.To("/v1/checkout/sessions").Last(r => r.Form.GetValueOrDefault("client_reference_id") == tenant);
        Assert.Equal(("subscription", "price_pro_monthly", customer, "pro"),
            (sessionRequest.Form["mode"], sessionRequest.Form["line_items[0][price]"], sessionRequest.Form["customer"], sessionRequest.Form["metadata[plan]"]));
        Assert.All(new[] { customerRequest, sessionRequest }, r =>
        {
            Assert.False(string.IsNullOrEmpty(r.IdempotencyKey));
            Assert.Equal(Stripe.StripeConfiguration.ApiVersion, r.Version);
            Assert.Contains(" .NetBindings/", r.UserAgent, StringComparison.Ordinal); // sent by Stripe.net
        });

        var t = cluster.Clock.GetUtcNow().ToUnixTimeSeconds() - 100;
        var periodStart = t;
        var sub = "sub_" + tenant;
        string Subscription(string type, string price, string status, long created) => FakeStripe.Event(type, new
        {
            id = sub, @object = "subscription", customer, status, metadata = new { tenant_id = tenant },
            items = new { @object = "list", data = new[] { new { id = "si_1", price = new { id = price }, current_period_start = periodStart, current_period_end = periodStart + (30 * 86400) } } },
        }, created);
        var completed = FakeStripe.Event("checkout.session.completed", new
        {
            id = session.GetProperty("id").GetString(), @object = "checkout.session", mode = "subscription", customer, subscription = sub,
            client_reference_id = tenant, payment_status = "paid", metadata = new { tenant_id = tenant, plan = "pro" },
        }, t);
        var created = Subscription("customer.subscription.created", "price_pro_monthly", "active", t + 1);
        var invoice = FakeStripe.Event("invoice.paid", new
        {
            id = "in_" + tenant, @object = "invoice", customer, status = "paid",
            parent = new { subscription_details = new { subscription = sub, metadata = new { tenant_id = tenant } } },
            lines = new { @object = "list", data = new[] { new { period = new { start = periodStart, end = periodStart + (30 * 86400) }, pricing = new { price_details = new { price = "price_pro_monthly" } } } } },
        }, t + 2);
        var downgraded = Subscription("customer.subscription.updated", "price_premium_monthly", "active", t + 20);
        var pack = FakeStripe.Event("checkout.session.completed", new
        {
            id = "cs_pack_" + tenant, @object = "checkout.session", mode = "payment", customer, client_reference_id = tenant, payment_status = "paid",
            metadata = new { tenant_id = tenant, pack = "credits_1000" },
        }, t + 3);

        // Out of order (newest first), and every event three times.
        foreach (var payload in new[] { downgraded, invoice, pack, created, completed, downgraded, pack, invoice, completed, created, pack, invoice, completed, created, downgraded })
        {
            using var response = await cluster.Stripe.SendAsync(cluster.B.CreateClient(), payload);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var usage = await UsageAsync(key);
        Assert.Equal("premium", usage.GetProperty("planId").GetString()); // the newest subscription event wins
        Assert.Equal(5_000, usage.GetProperty("includedCredits").GetInt64()); // the paid invoice's period, once
        Assert.Equal(1_000, usage.GetProperty("purchasedCredits").GetInt64()); // the pack, once
        Assert.Equal(sub, usage.GetProperty("subscriptionId").GetString());
        Assert.Equal(periodStart, usage.GetProperty("periodStart").GetDateTimeOffset().ToUnixTimeSeconds());

        // Canceled, then a late "updated" from before the cancel: stays canceled on the free plan.
        using (var deleted = await cluster.Stripe.SendAsync(Api.Http, Subscription("customer.subscription.deleted", "price_premium_monthly", "canceled", t + 40)))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (var late = await cluster.Stripe.SendAsync(Api.Http, Subscription("customer.subscription.updated", "price_pro_monthly", "active", t + 30)))
        {
            Assert.Contains("stale", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Then the canceled subscription's invoice fails (Stripe's last retry, after the cancel),
        // with and without naming the subscription: it stays canceled, no past_due, no dunning.
        foreach (var parent in new object?[] { new { subscription_details = new { subscription = sub, metadata = new { tenant_id = tenant } } }, null })
        {
            var failed = FakeStripe.Event("invoice.payment_failed", new { id = "in_late_" + tenant, @object = "invoice", customer, status = "open", parent, metadata = new { tenant_id = tenant } }, t + 50);
            using var answer = await cluster.Stripe.SendAsync(Api.Http, failed);
            Assert.Contains("stays so", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        usage = await UsageAsync(key);
        Assert.Equal(("free", "canceled"), (usage.GetProperty("planId").GetString(), usage.GetProperty("subscriptionStatus").GetString()));
        Assert.Equal(JsonValueKind.Null, usage.GetProperty("pastDueSince").ValueKind);
        Assert.Equal(50, usage.GetProperty("includedCredits").GetInt64()); // capped at Free's included credits
        Assert.Equal(1_000, usage.GetProperty("purchasedCredits").GetInt64()); // purchased credits stay
        await AssertLedgerConsistentAsync(tenant);
    }

    [Fact]
    public async Task APaidCheckoutForAnUnknownPackOrPlanChangesNothingAndIsShownToOperators()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        using (var checkout = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(new { pack = "credits_1000" }) }, key))
        {
            Assert.Equal(HttpStatusCode.Created, checkout.StatusCode); // the Stripe customer exists
        }

        var before = await UsageAsync(key);
        var customer = before.GetProperty("stripeCustomerId").GetString()!;
        var t = cluster.Clock.GetUtcNow().ToUnixTimeSeconds() - 100;
        var unknownPack = FakeStripe.Event("checkout.session.completed", new
        {
            id = "cs_unknown_pack_" + tenant, @object = "checkout.session", mode = "payment", customer, client_reference_id = tenant, payment_status = "paid",
            metadata = new { tenant_id = tenant, pack = "credits_999" },
        }, t + 10);
        var unknownPlan = FakeStripe.Event("checkout.session.completed", new
        {
            id = "cs_unknown_plan_" + tenant, @object = "checkout.session", mode = "subscription", customer, subscription = "sub_unknown_" + tenant,
            client_reference_id = tenant, payment_status = "paid", metadata = new { tenant_id = tenant, plan = "platinum" },
        }, t + 20);
        var ids = new List<string>();
        foreach (var payload in new[] { unknownPack, unknownPlan })
        {
            ids.Add(JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString()!);
            using var response = await cluster.Stripe.SendAsync(Api.Http, payload);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("attention: ", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString(), StringComparison.Ordinal);
        }

        // Nothing granted, no plan, no subscription, no clock moved…
        var after = await UsageAsync(key);
        foreach (var field in new[] { "planId", "balance", "subscriptionId", "subscriptionStatus" })
        {
            Assert.Equal(before.GetProperty(field).ToString(), after.GetProperty(field).ToString());
        }

        // …so a real subscription event older than those checkouts still applies.
        using (var created = await cluster.Stripe.SendAsync(Api.Http, FakeStripe.Event("customer.subscription.created", new
        {
            id = "sub_real_" + tenant, @object = "subscription", customer, status = "active", metadata = new { tenant_id = tenant },
            items = new { @object = "list", data = new[] { new { id = "si_r", price = new { id = "price_pro_monthly" }, current_period_start = t, current_period_end = t + (30 * 86400) } } },
        }, t + 5)))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        Assert.Equal("pro", (await UsageAsync(key)).GetProperty("planId").GetString());

        // Operators see both payments that need them.
        var events = await AdminAsync(HttpMethod.Get, "/admin/billing/stripe-events?attention=true&limit=1000", null);
        var flagged = events.EnumerateArray().Where(e => ids.Contains(e.GetProperty("eventId").GetString()!)).ToList();
        Assert.Equal(2, flagged.Count);
        Assert.All(flagged, e => Assert.True(e.GetProperty("attention").GetBoolean()));
        Assert.All(flagged, e => Assert.Equal(tenant, e.GetProperty("tenantId").GetString()));
        await AssertLedgerConsistentAsync(tenant);
    }

    [Fact]
    public async Task BadSignaturesStaleTimestampsAndMalformedBodiesAre400AndChangeNothing()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        var before = await UsageAsync(key);
        var now = cluster.Clock.GetUtcNow().ToUnixTimeSeconds();
        var payload = FakeStripe.Event("checkout.session.completed", new
        {
            id = "cs_forged_" + tenant, @object = "checkout.session", mode = "payment", client_reference_id = tenant, payment_status = "paid",
            metadata = new { tenant_id = tenant, pack = "credits_1000" },
        }, now);

        var cases = new (string Payload, string? Signature, string Code)[]
        {
            (payload, FakeStripe.Signature(payload, now, "whsec_someone_else"), "invalid_signature"),
            (payload.Replace("credits_1000", "credits_10000", StringComparison.Ordinal), FakeStripe.Signature(payload, now), "invalid_signature"),
            (payload, FakeStripe.Signature(payload, now - 301), "stale_signature"),
            (payload, FakeStripe.Signature(payload, now + 400), "stale_signature"),
            (payload, "", "missing_signature"),
            (payload, "v1=abc", "malformed_signature"),
            (payload, $"t=notanumber,v1={new string('0', 64)}", "malformed_signature"),
            (payload, $"t={now}", "malformed_signature"),
            ("{not json", FakeStripe.Signature("{not json", now), "malformed_event"),
            ("""{"id":"evt_x","type":"invoice.paid"}""", FakeStripe.Signature("""{"id":"evt_x","type":"invoice.paid"}""", now), "malformed_event"),
        };
        foreach (var (body, signature, code) in cases)
        {
            using var response = await cluster.Stripe.SendAsync(Api.Http, body, signature);
            await ProblemAsync(response, HttpStatusCode.BadRequest, code);
        }

        Assert.Equal(before.GetProperty("balance").GetInt64(), (await UsageAsync(key)).GetProperty("balance").GetInt64());

        // A header with several v1 (one from the old secret during a rotation) is accepted; so is an unknown type.
        var rotated = $"{FakeStripe.Signature(payload, now, "whsec_wrong")},v1={FakeStripe.Signature(payload, now, FakeStripe.OldWebhookSecret).Split("v1=")[1]}";
        using (var ok = await cluster.Stripe.SendAsync(Api.Http, payload, rotated))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Equal(before.GetProperty("balance").GetInt64() + 1000, (await UsageAsync(key)).GetProperty("balance").GetInt64());
        using var unknown = await cluster.Stripe.SendAsync(Api.Http, FakeStripe.Event("customer.tax_id.created", new { id = "txi_1", customer = "cus_nobody" }, now));
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
    }

    [Fact]
    public async Task CheckoutRetriesStripeWithTheSameIdempotencyKeyAndThePortalNeedsACustomer()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        using (var portal = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/portal"), key))
        {
            await ProblemAsync(portal, HttpStatusCode.Conflict, "no_billing_account");
        }

        // Stripe's plain rate limit is not retried by Stripe.net: the caller gets a 503 to retry.
        cluster.Stripe.FailNext.Enqueue(new FakeStripe.Failure(429));
        using (var limited = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(new { pack = "credits_1000" }) }, key))
        {
            await ProblemAsync(limited, HttpStatusCode.ServiceUnavailable, "stripe_rate_limited");
            Assert.NotNull(limited.Headers.RetryAfter);
        }

        // A 500, then a lock timeout Stripe marks Stripe-Should-Retry: both retried by Stripe.net.
        cluster.Stripe.FailNext.Enqueue(new FakeStripe.Failure(500));
        cluster.Stripe.FailNext.Enqueue(new FakeStripe.Failure(429, ShouldRetry: true));
        using (var checkout = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(new { pack = "credits_1000" }) }, key))
        {
            Assert.Equal(HttpStatusCode.Created, checkout.StatusCode);
        }

        var customerCalls = cluster.Stripe.To("/v1/customers").Where(r => r.Form.GetValueOrDefault("metadata[tenant_id]") == tenant).ToList();
        Assert.Equal([429, 500, 429, 200], customerCalls.Select(c => c.Status));
        Assert.Single(customerCalls.Select(c => c.IdempotencyKey).Distinct()); // the same key on every try, the first refusal's included
        Assert.DoesNotContain(cluster.Stripe.Requests, r => r.ErrorCode is "parameter_unknown" or "parameter_missing" or "idempotency_error");
        var sessionRequest = cluster.Stripe.To("/v1/checkout/sessions").Single(r => r.Form.GetValueOrDefault("client_reference_id") == tenant);
        Assert.Equal(("payment", "price_pack_1000", "credits_1000"), (sessionRequest.Form["mode"], sessionRequest.Form["line_items[0][price]"], sessionRequest.Form["metadata[pack]"]));

        using (var portal = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/portal"), key))
        {
            Assert.Equal(HttpStatusCode.Created, portal.StatusCode);
            Assert.StartsWith("https://billing.stripe.com/", (await portal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString(), StringComparison.Ordinal);
        }

        foreach (var (body, status, code) in new (object Body, HttpStatusCode Status, string Code)[]
        {
            (new { plan = "gold" }, HttpStatusCode.UnprocessableEntity, "unknown_plan"),
            (new { plan = "enterprise" }, HttpStatusCode.UnprocessableEntity, "not_purchasable"),
            (new { plan = "pro", pack = "credits_1000" }, HttpStatusCode.BadRequest, "malformed_request"),
        })
        {
            using var bad = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(body) }, key);
            await ProblemAsync(bad, status, code);
        }
    }

    [Fact]
    public async Task CanceledJobsAreRefundedSucceededOnesChargedOnceAndOverageIsMetered()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{tenant}/plan", new { plan = "starter" }); // 500 included, overage $0.025
        using (var checkout = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(new { pack = "credits_1000" }) }, key))
        {
            Assert.Equal(HttpStatusCode.Created, checkout.StatusCode); // creates the Stripe customer
        }

        var start = await UsageAsync(key);
        Assert.Equal(500, start.GetProperty("balance").GetInt64());

        // A long diffusion job holds the GPU host; a second one waits in the queue and is canceled.
        var slow = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 150, seed = 5 } });
        var queued = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 150, seed = 6 } });
        Assert.Equal(492, (await UsageAsync(key)).GetProperty("balance").GetInt64()); // 2 × 4 reserved
        using (var cancel = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{queued.GetProperty("id").GetString()}"), key))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        await Api.WaitAsync(key, slow.GetProperty("id").GetString()!);
        var settled = await SettledAsync(key);
        Assert.Equal(496, settled.GetProperty("balance").GetInt64()); // one charged, one refunded

        // The same input again is a cache hit: Starter charges the full price for it.
        var again = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 150, seed = 5 } }, wait: 30);
        Assert.True(again.GetProperty("cacheHit").GetBoolean());
        Assert.Equal(492, (await SettledAsync(key)).GetProperty("balance").GetInt64());

        // Spend down to 1 credit. The plan was set by an operator, so no Stripe subscription would
        // bill overage yet: a 4-credit job is a 402 that reserves nothing.
        await AdminAsync(HttpMethod.Post, $"/admin/tenants/{tenant}/credits", new { credits = -491, grantId = "spend-" + tenant });
        using (var refused = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { model = "diffusion", parameters = new { steps = 2, seed = 7 } }) }, key))
        {
            var problem = await ProblemAsync(refused, HttpStatusCode.PaymentRequired, "payment_required");
            Assert.Contains("no active one", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var unsubscribed = await UsageAsync(key);
        Assert.Equal((1L, 0, false), (unsubscribed.GetProperty("balance").GetInt64(), unsubscribed.GetProperty("reservations").GetInt32(), unsubscribed.GetProperty("overageAllowed").GetBoolean()));

        // The Starter subscription goes live in Stripe: now the same job runs, 1 credit from the
        // balance and 3 as overage, metered once.
        var customer = unsubscribed.GetProperty("stripeCustomerId").GetString()!;
        var now = cluster.Clock.GetUtcNow().ToUnixTimeSeconds();
        using (var live = await cluster.Stripe.SendAsync(Api.Http, FakeStripe.Event("customer.subscription.created", new
        {
            id = "sub_starter_" + tenant, @object = "subscription", customer, status = "active", metadata = new { tenant_id = tenant },
            items = new { @object = "list", data = new[] { new { id = "si_s", price = new { id = "price_starter_monthly" }, current_period_start = now, current_period_end = now + (30 * 86400) } } },
        }, now)))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        Assert.True((await UsageAsync(key)).GetProperty("overageAllowed").GetBoolean());
        var over = await Api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 2, seed = 7 } });
        var overId = over.GetProperty("id").GetString()!;
        await Api.WaitAsync(key, overId);
        var final = await SettledAsync(key);
        Assert.Equal(0, final.GetProperty("balance").GetInt64());
        Assert.Equal(3, final.GetProperty("overageThisPeriod").GetInt64());

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!cluster.Stripe.To("/v1/billing/meter_events").Any(r => r.Form.GetValueOrDefault("identifier") == "meter_" + overId) && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }

        var meter = cluster.Stripe.To("/v1/billing/meter_events").Where(r => r.Form.GetValueOrDefault("identifier") == "meter_" + overId).ToList();
        Assert.Single(meter);
        Assert.Equal(("3", final.GetProperty("stripeCustomerId").GetString(), "inference_overage_credits", "meter_" + overId),
            (meter[0].Form["payload[value]"], meter[0].Form["payload[stripe_customer_id]"], meter[0].Form["event_name"], meter[0].IdempotencyKey));

        var ledger = await AssertLedgerConsistentAsync(tenant);
        var entries = ledger.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(1, entries.Count(e => e.GetProperty("key").GetString() == "settle:" + slow.GetProperty("id").GetString()));
        Assert.Equal(1, entries.Count(e => e.GetProperty("key").GetString() == "release:" + queued.GetProperty("id").GetString()));
        Assert.Equal(0, entries.Count(e => e.GetProperty("key").GetString() == "settle:" + queued.GetProperty("id").GetString()));
    }

    /// <summary>Usage once every reservation is settled or released.</summary>
    [Fact]
    public async Task AFreeJobsGeneratedImageCarriesTheWatermarkAndAProOneOfTheSameRequestDoesNot()
    {
        // One tenant, on Free and then on Pro: the cache answers a tenant's own requests only.
        var (tenant, key, _) = await Api.CreateTenantAsync("free");
        var (free, pro) = (key, key);
        var request = new { model = "diffusion", parameters = new { steps = 2, seed = 4242 } };
        var freeJob = await Api.WaitAsync(free, (await Api.SubmitOkAsync(free, request)).GetProperty("id").GetString()!);
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{tenant}/tier", new { tier = "pro" });
        var proJob = await Api.WaitAsync(pro, (await Api.SubmitOkAsync(pro, request)).GetProperty("id").GetString()!);
        Assert.Equal(("succeeded", "succeeded"), (freeJob.GetProperty("status").GetString(), proJob.GetProperty("status").GetString()));
        Assert.Equal((true, false), (freeJob.GetProperty("watermarked").GetBoolean(), proJob.GetProperty("watermarked").GetBoolean()));
        Assert.True(proJob.GetProperty("cacheHit").GetBoolean()); // the very image the Free job's run stored, served clean

        async Task<Actors.Inference.Imaging.DecodedImage> ImageAsync(string key, JsonElement job)
        {
            using var response = await Api.GetAsync(key, job.GetProperty("imageUrl").GetString()!);
            Assert.Equal(("image/png", HttpStatusCode.OK), (response.Content.Headers.ContentType?.MediaType, response.StatusCode));
            var png = await response.Content.ReadAsByteArrayAsync();
            var artifacts = Directory.CreateDirectory(Path.Combine(TestPaths.Repo, "build", "test-artifacts")).FullName;
            await File.WriteAllBytesAsync(Path.Combine(artifacts, $"diffusion-{(job.GetProperty("watermarked").GetBoolean() ? "free" : "pro")}.png"), png);
            return Actors.Inference.Imaging.ImageCodec.Decode(png, 1 << 20);
        }

        var (marked, clean) = (await ImageAsync(free, freeJob), await ImageAsync(pro, proJob));
        Assert.Equal((clean.Width, clean.Height, clean.Channels), (marked.Width, marked.Height, marked.Channels));
        var (ax, ay, aw, ah, _) = Actors.Inference.Imaging.Watermark.Area(clean.Width, clean.Height);
        var plane = clean.Width * clean.Height;
        var changed = Enumerable.Range(0, plane * clean.Channels).Where(i => clean.Pixels[i] != marked.Pixels[i])
            .Select(i => (X: i % plane % clean.Width, Y: i % plane / clean.Width)).ToList();
        Assert.True(changed.Count > 50, $"only {changed.Count} samples carry the mark");
        Assert.All(changed, p => Assert.True(p.X >= ax && p.X < ax + aw && p.Y >= ay && p.Y < ay + ah, $"({p.X},{p.Y}) is outside the mark"));
    }

    [Fact]
    public async Task ASubmissionLostAfterAdmissionIsGivenBackAndItsKeyCannotRunTheJobUnpaid()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("premium");
        var before = await UsageAsync(key);
        // An image over JobRequest.InlineBytes, so the input is a blob (a small one travels in the job).
        var input = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Repo, "models", "segmentation", "sample.png"));
        Assert.True(input.Length > Actors.Grains.Jobs.JobRequest.InlineBytes);
        var body = new
        {
            model = "segmentation", input = Convert.ToBase64String(input), contentType = "image/png", parameters = new { spacingXMm = 0.8 },
        };

        // The first request is admitted (credits held, key claimed), then its input cannot be
        // stored (the object store refuses the upload): the job never reaches its grain.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(input));
        var blobKey = Actors.Storage.Blobs.BlobStore.KeyOf(tenant, Actors.Grains.Stores.BlobClass.Input, hash);
        cluster.A.Objects.FailingKeys[blobKey] = true;
        using (var lost = await Api.SubmitAsync(key, body, idempotencyKey: "lost-" + tenant))
        {
            Assert.True((int)lost.StatusCode >= 500, $"{(int)lost.StatusCode}: {await lost.Content.ReadAsStringAsync()}");
        }

        cluster.A.Objects.FailingKeys.TryRemove(blobKey, out _);

        // Past the grace the tenant closes the job and gives the credits back, once.
        var after = await SettledAsync(key);
        Assert.Equal((0, before.GetProperty("balance").GetInt64()), (after.GetProperty("reservations").GetInt32(), after.GetProperty("balance").GetInt64()));
        var entries = (await AssertLedgerConsistentAsync(tenant)).GetProperty("entries").EnumerateArray().ToList();
        var release = Assert.Single(entries, e => e.GetProperty("key").GetString()!.StartsWith("release:", StringComparison.Ordinal));
        Assert.Contains("never appeared", release.GetRawText(), StringComparison.Ordinal);

        // The same key again: a clear conflict, not a job run without its credits.
        using (var again = await Api.SubmitAsync(key, body, idempotencyKey: "lost-" + tenant))
        {
            var problem = await ProblemAsync(again, HttpStatusCode.Conflict, "idempotency_key_lapsed");
            Assert.Contains("new key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(before.GetProperty("balance").GetInt64(), (await UsageAsync(key)).GetProperty("balance").GetInt64());
        Assert.DoesNotContain((await AssertLedgerConsistentAsync(tenant)).GetProperty("entries").EnumerateArray(),
            e => e.GetProperty("key").GetString()!.StartsWith("settle:", StringComparison.Ordinal));

        // A new key runs it, and it is paid for.
        var job = await Api.WaitAsync(key, (await Api.SubmitOkAsync(key, body)).GetProperty("id").GetString()!);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(before.GetProperty("balance").GetInt64() - 1, (await SettledAsync(key)).GetProperty("balance").GetInt64());
    }

    private async Task<JsonElement> SettledAsync(string key)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var usage = await UsageAsync(key);
            if (usage.GetProperty("reservations").GetInt32() == 0 || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                return usage;
            }

            await Task.Delay(50);
        }
    }

    private async Task<JsonElement> AssertLedgerConsistentAsync(string tenant)
    {
        var ledger = await AdminAsync(HttpMethod.Get, $"/admin/tenants/{tenant}/ledger?limit=1000", null);
        Assert.True(ledger.GetProperty("consistent").GetBoolean(), ledger.ToString());
        return ledger;
    }

    private async Task<JsonElement> UsageAsync(string key)
    {
        using var response = await Api.GetAsync(key, "/v1/usage");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> AdminAsync(HttpMethod method, string url, object? body)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloFactory.AdminKey);
        using var response = await Api.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("type").GetString());
        return problem;
    }
}
