using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Inference.Tests;
using Actors.Inference.Volumes;

namespace Actors.Silo.Tests.Data;

/// <summary>A tenant's data over HTTP, on each blob store: CT volumes in (NIfTI), passports and
/// label volumes out, erasure of a job's or a whole tenant's data, audited; bad volumes refused.</summary>
public abstract class DataLifecycleTests<TFactory>(TFactory factory)
    where TFactory : SiloFactory
{
    private const int Nx = 128, Ny = 128, Nz = 40;

    private static readonly Lazy<byte[]> Volume = new(() =>
        PhantomVolumes.Nifti(PhantomVolumes.Draw(Nx, Ny, Nz, [new(1, 45, 55, 20, 22, 16, 12), new(2, 90, 45, 18, 11, 13, 8)], seed: 4), Nx, Ny, Nz, 1.5, 1.5, 2.5, gzip: true));

    private ApiClient Api => new(factory.CreateClient());

    private Task<HttpResponseMessage> SubmitVolumeAsync(string key, byte[] nifti, string fileName = "scan.nii.gz", string type = "application/octet-stream", int? wait = 60)
    {
        var form = new MultipartFormDataContent { { new StringContent("segmentation"), "model" } };
        var file = new ByteArrayContent(nifti);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        form.Add(file, "input", fileName);
        return Api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = form }, key, null, wait);
    }

    private async Task<JsonElement> AdminAsync(HttpMethod method, string url)
    {
        using var response = await Api.Http.SendAsync(SiloFactory.AdminRequest(method, url));
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task ACtVolumeGoesInItsSlicesAreReportedAndItsPassportAndLabelVolumeComeOut()
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        using var submitted = await SubmitVolumeAsync(key, Volume.Value, wait: null);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // The event stream reports slices done while it runs, then the finished job.
        var events = await ReadEventsAsync(key, id);
        var progress = events.Where(e => e.Event == "running" && e.Data.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object)
            .Select(e => e.Data.GetProperty("progress")).ToList();
        Assert.Equal("succeeded", events[^1].Event);
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal((Nz, "slices"), (p.GetProperty("total").GetInt32(), p.GetProperty("unit").GetString())));
        Assert.True(progress.Select(p => p.GetProperty("done").GetInt32()).SequenceEqual(progress.Select(p => p.GetProperty("done").GetInt32()).Order()));

        var job = await Api.WaitAsync(key, id);
        var passport = job.GetProperty("output").GetProperty("passport");
        Assert.Equal("segmentation_volume", job.GetProperty("output").GetProperty("task").GetString());
        Assert.Equal([Nx, Ny, Nz], passport.GetProperty("dimensions").EnumerateArray().Select(d => d.GetInt32()));
        var liver = passport.GetProperty("structures").EnumerateArray().Single(s => s.GetProperty("label").GetString() == "liver");
        var truth = new PhantomVolumes.Ellipsoid(1, 45, 55, 20, 22, 16, 12).VolumeMl(1.5, 1.5, 2.5);
        Assert.InRange(liver.GetProperty("volumeMl").GetDouble(), truth * 0.9, truth * 1.1);
        Assert.False(passport.GetProperty("structures").EnumerateArray().Single(s => s.GetProperty("label").GetString() == "lesion").GetProperty("present").GetBoolean());

        // The label volume: NIfTI with the source's geometry and the passport's voxel counts.
        var volumeUrl = job.GetProperty("volumeUrl").GetString()!;
        using var labels = await Api.GetAsync(key, volumeUrl);
        Assert.Equal(HttpStatusCode.OK, labels.StatusCode);
        var (geometry, voxels) = Nifti.ReadLabels(await labels.Content.ReadAsByteArrayAsync());
        Assert.Equal((Nx, Ny, Nz), (geometry.Nx, geometry.Ny, geometry.Nz));
        Assert.Equal(liver.GetProperty("voxels").GetInt64(), voxels.LongCount(v => v == 1));
        using var png = await Api.GetAsync(key, $"/v1/jobs/{id}/output?format=png");
        Assert.Equal(HttpStatusCode.NotAcceptable, png.StatusCode);
    }

    [Theory]
    [InlineData("truncated", HttpStatusCode.UnprocessableEntity, "truncated")]
    [InlineData("dtype", HttpStatusCode.UnprocessableEntity, "datatype")]
    [InlineData("dims", HttpStatusCode.UnprocessableEntity, "dimensions")]
    [InlineData("not-gzip", HttpStatusCode.UnprocessableEntity, "gzip")]
    [InlineData("too-large", HttpStatusCode.RequestEntityTooLarge, "volume_too_large")]
    public async Task ABadVolumeIsRefusedWithItsReasonAndNothingIsCreated(string defect, HttpStatusCode status, string reason)
    {
        var (_, key, _) = await Api.CreateTenantAsync("pro");
        using var before = await Api.GetAsync(key, "/v1/usage");
        var balance = (await before.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64();
        var file = PhantomVolumes.Nifti(new float[16 * 16 * 8], 16, 16, 8, 1, 1, 1);
        switch (defect)
        {
            case "truncated": file = file[..^100]; break;
            case "dtype": System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(70), 8); break;
            case "dims": System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(46), -3); break;
            case "not-gzip": file = [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]; break;
            case "too-large": file = PhantomVolumes.Nifti(new float[256 * 256 * 40], 256, 256, 40, 1, 1, 1); break;
        }

        using var response = await SubmitVolumeAsync(key, file, fileName: "scan.nii");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, body, StringComparison.Ordinal);

        using var jobs = await Api.GetAsync(key, "/v1/jobs");
        Assert.Equal(0, (await jobs.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        using var after = await Api.GetAsync(key, "/v1/usage");
        var usage = await after.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((balance, 0), (usage.GetProperty("balance").GetInt64(), usage.GetProperty("reservations").GetInt32()));
    }

    [Fact]
    public async Task FuzzedNiftiHeadersNeverAnswerAServerError()
    {
        var (_, key, _) = await Api.CreateTenantAsync("enterprise");
        var good = PhantomVolumes.Nifti(PhantomVolumes.Draw(16, 16, 4, [], seed: 1), 16, 16, 4, 1, 1, 1);
        var rng = new Random(20261201);
        for (var n = 0; n < 60; n++)
        {
            var file = (byte[])good.Clone();
            for (var flips = rng.Next(1, 6); flips > 0; flips--)
            {
                file[rng.Next(0, 352)] = (byte)rng.Next(256); // anywhere in the header, extension bytes included
            }

            using var response = await SubmitVolumeAsync(key, file, fileName: "fuzz.nii", type: Nifti.ContentType, wait: 30);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"case {n}: {(int)response.StatusCode} {body}");
            if (response.IsSuccessStatusCode)
            {
                var status = JsonDocument.Parse(body).RootElement.GetProperty("status").GetString();
                Assert.True(status is "succeeded" or "failed" or "queued" or "running", body); // ran, or refused by the model with its reason
            }
        }
    }

    [Fact]
    public async Task ErasingAJobsDataMakesItUnreadableKeepsWhatAnotherJobStillUsesAndIsAudited()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("pro");
        var png = Phantoms.Png8(Phantoms.Draw(128, [new Phantoms.Disc(1, 60, 60, 20)], seed: 21), 128);
        var first = await Api.SubmitOkAsync(key, new { model = "segmentation", input = Convert.ToBase64String(png), parameters = new { spacingXMm = 0.7 } }, wait: 30);
        var second = await Api.SubmitOkAsync(key, new { model = "segmentation", input = Convert.ToBase64String(png), parameters = new { spacingXMm = 0.9 } }, wait: 30);
        var firstId = first.GetProperty("id").GetString()!;
        var secondId = second.GetProperty("id").GetString()!;
        Assert.Equal(("succeeded", "succeeded"), (first.GetProperty("status").GetString(), second.GetProperty("status").GetString()));

        // Another tenant cannot erase it (it is not theirs to see).
        var (_, otherKey, _) = await Api.CreateTenantAsync("pro");
        using (var foreign = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{firstId}/data"), otherKey))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        using var erase = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{firstId}/data"), key);
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var erased = await erase.Content.ReadFromJsonAsync<JsonElement>();
        // Its passport (JSON) is deleted; the scan and the label map stay: the second job has the
        // same scan and drew the same label map (its passport differs: another pixel spacing).
        Assert.Equal((1, 2), (erased.GetProperty("objectsDeleted").GetInt32(), erased.GetProperty("objectsKept").GetInt32()));

        using (var output = await Api.GetAsync(key, $"/v1/jobs/{firstId}/output"))
        {
            Assert.Equal(HttpStatusCode.NotFound, output.StatusCode);
            Assert.Contains("data_erased", await output.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var view = await Api.WaitAsync(key, firstId);
        Assert.Equal(JsonValueKind.Null, view.GetProperty("output").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, view.GetProperty("dataErasedAt").ValueKind);
        using (var still = await Api.GetAsync(key, $"/v1/jobs/{secondId}/output?format=png"))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }

        // Erasing again changes nothing; then the second: now the scan goes too.
        using (var again = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{firstId}/data"), key))
        {
            Assert.Equal(0, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("objectsDeleted").GetInt32());
        }

        using (var last = await Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/jobs/{secondId}/data"), key))
        {
            var counts = await last.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal((3, 0), (counts.GetProperty("objectsDeleted").GetInt32(), counts.GetProperty("objectsKept").GetInt32()));
        }

        // The same upload now is a fresh job, not a cache hit on erased results.
        var third = await Api.SubmitOkAsync(key, new { model = "segmentation", input = Convert.ToBase64String(png), parameters = new { spacingXMm = 0.7 } }, wait: 30);
        Assert.False(third.GetProperty("cacheHit").GetBoolean());

        // The audit trail: who, which job, when, how much; no content.
        var audit = await AdminAsync(HttpMethod.Get, $"/admin/erasures?tenant={tenant}");
        var rows = audit.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(($"tenant:{tenant}", "job"), (r.GetProperty("actor").GetString(), r.GetProperty("scope").GetString())));
        Assert.Equal([secondId, firstId, firstId], rows.Select(r => r.GetProperty("jobId").GetString()));
        Assert.DoesNotContain(Convert.ToBase64String(png)[..40], audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAdminErasesAWholeTenantAndOnlyThatTenant()
    {
        var (tenant, key, _) = await Api.CreateTenantAsync("pro");
        var (_, otherKey, _) = await Api.CreateTenantAsync("pro");
        var png = Phantoms.Png8(Phantoms.Draw(128, [new Phantoms.Disc(2, 50, 70, 15)], seed: 22), 128);
        var body = new { model = "segmentation", input = Convert.ToBase64String(png), parameters = new { spacingXMm = 0.6 } };
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            ids.Add((await Api.SubmitOkAsync(key, body with { }, wait: 30)).GetProperty("id").GetString()!);
        }

        var others = (await Api.SubmitOkAsync(otherKey, body, wait: 30)).GetProperty("id").GetString()!; // the same bytes, another tenant (a cache hit: its own copy)

        var erased = await AdminAsync(HttpMethod.Delete, $"/admin/tenants/{tenant}/data");
        Assert.Equal(2, erased.GetProperty("jobs").GetInt32());
        Assert.True(erased.GetProperty("objectsDeleted").GetInt32() >= 3, erased.GetRawText()); // the scan, the passport, the label map

        foreach (var id in ids)
        {
            using var gone = await Api.GetAsync(key, $"/v1/jobs/{id}/output");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var kept = await Api.GetAsync(otherKey, $"/v1/jobs/{others}/output?format=png"))
        {
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        var audit = await AdminAsync(HttpMethod.Get, $"/admin/erasures?tenant={tenant}");
        var row = Assert.Single(audit.EnumerateArray());
        Assert.Equal(("admin", "tenant", 2), (row.GetProperty("actor").GetString(), row.GetProperty("scope").GetString(), row.GetProperty("jobs").GetInt32()));
        using var unknown = await Api.Http.SendAsync(SiloFactory.AdminRequest(HttpMethod.Delete, "/admin/tenants/no-such-tenant/data"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private async Task<List<(string Event, JsonElement Data)>> ReadEventsAsync(string key, string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string, JsonElement)>();
        string? name = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
            {
                events.Add((name, JsonDocument.Parse(line[6..]).RootElement.Clone()));
            }
        }

        return events;
    }
}

/// <summary>The embedded silo's blob folder.</summary>
public sealed class DataLifecycleOnFilesTests(VolumeSiloFactory factory) : DataLifecycleTests<VolumeSiloFactory>(factory), IClassFixture<VolumeSiloFactory>;

/// <summary>Blobs in a bucket of the S3-compatible server, state on PostgreSQL.</summary>
public sealed class DataLifecycleOnS3Tests(S3SiloFactory factory) : DataLifecycleTests<S3SiloFactory>(factory), IClassFixture<S3SiloFactory>;

/// <summary>The embedded silo with a 4 MiB volume limit (so a 5 MiB scan is refused), erasing a
/// tenant one job per pass (so an erasure of two jobs takes three grain calls).</summary>
public class VolumeSiloFactory : SiloFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings() => [("Api:MaxVolumeBytes", "4194304"), ("Cluster:ErasureJobsPerPass", "1")];
}

public sealed class S3SiloFactory : VolumeSiloFactory
{
    public string ConnectionString { get; } = TestDatabases.Create("s3silo");

    protected override IEnumerable<(string Key, string Value)> Settings() =>
        [.. base.Settings(), ("Cluster:Store", "postgres"), ("Cluster:ConnectionString", ConnectionString), .. TestBuckets.Settings(TestBuckets.NewBucket())];
}
