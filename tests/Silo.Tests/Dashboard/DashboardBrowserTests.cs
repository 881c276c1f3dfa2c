using System.Drawing;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Silo.Tests.Cluster;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Actors.Silo.Tests.Dashboard;

/// <summary>The operator dashboard in Debian's headless Chromium (Selenium + chromedriver) against
/// a real silo process: login, the instances that exist, an action that changes an instance's
/// state, an alert raised by jobs waiting on it, settings, charts and analytics; screenshots at 1280×800 (also with the alert) and phone width are saved under
/// build/test-artifacts/.</summary>
public sealed class DashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    [Fact]
    public async Task TheDashboardShowsTheFleetAndAnActionStopsAndResumesAnInstanceAtBothWidths()
    {
        using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-dash-").FullName,
            ["Cluster:InstanceId"] = "gpu-dash",
            ["Fleet:TickSeconds"] = "0.5",
        });
        var api = new ApiClient(silo.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");
        for (var i = 0; i < 4; i++)
        {
            await api.WaitAsync(key, (await api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 4, seed = i % 2 } })).GetProperty("id").GetString()!);
        }

        using var driver = StartChromium(1280, 800);
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException)); // the page re-renders on every event
        driver.Navigate().GoToUrl(silo.Url + "/dashboard");

        // A wrong key is refused and nothing is shown.
        driver.FindElement(By.Id("admin-key")).SendKeys("not-the-key");
        driver.FindElement(By.Id("login-button")).Click();
        wait.Until(d => d.FindElement(By.Id("login-error")).Text.Contains("Login failed", StringComparison.Ordinal));
        Assert.False(driver.FindElement(By.Id("app")).Displayed);

        var keyBox = driver.FindElement(By.Id("admin-key"));
        keyBox.Clear();
        keyBox.SendKeys(SiloFactory.AdminKey);
        driver.FindElement(By.Id("login-button")).Click();

        // The instances that exist, as cards; live over SSE.
        wait.Until(d => d.FindElements(By.CssSelector(".card[data-id='gpu-dash'][data-state='HOT']")).Count == 1);
        Assert.Contains("identity", Js(driver, "return document.querySelector(\".card[data-id='gpu-dash']\").innerText"), StringComparison.Ordinal); // its models
        var fleet = await FleetAsync(silo);
        var held = fleet.GetProperty("instances").EnumerateArray().Where(i => i.GetProperty("state").GetString() != "COLD").Select(i => i.GetProperty("id").GetString()).Order().ToList();
        Assert.Equal(string.Join(',', held), Js(driver, "return [...document.querySelectorAll('#instances .card')].map(c => c.dataset.id).sort().join(',')"));
        wait.Until(d => d.FindElement(By.Id("live-status")).Text == "live");
        Assert.Matches(@"^SLO service time \d+\.\d\d s a job \((configured|measured over \d+ jobs)", driver.FindElement(By.Id("service-time")).Text);
        Assert.Equal("4", wait.Until(d => d.FindElement(By.Id("jobs-per-minute")).Text is "4" and var n ? n : null)); // the jobs just run
        Assert.Equal("free,premium,pro,enterprise", Js(driver, "return [...document.querySelectorAll('#queues tbody tr')].map(r => r.dataset.tier).join(',')"));

        // Charts render: lines with points, and the jobs chart shows the jobs just run.
        wait.Until(d => d.FindElements(By.CssSelector("#chart-instances path.line[data-series='HOT']")).Count == 1);
        foreach (var (chart, lines) in new[] { ("chart-queue", 1), ("chart-instances", 3), ("chart-cost", 2), ("chart-jobs", 3) })
        {
            var paths = Js(driver, $"return [...document.querySelectorAll('#{chart} path.line')].map(p => p.getAttribute('d')).join('|')").Split('|');
            Assert.Equal(lines, paths.Length);
            Assert.All(paths, d => Assert.Matches(@"^M[\d.]+ [\d.]+", d));
        }

        // Analytics: the jobs per day by tenant and model.
        wait.Until(d => d.FindElements(By.CssSelector("#analytics table tbody tr")).Any(r => r.Text.Contains("diffusion", StringComparison.Ordinal)));
        Screenshot(driver, "dashboard-1280x800.png");

        // An action: stop the instance (HOT → WARM), then resume it (WARM → HOT).
        wait.Until(d => Click(d, ".card[data-id='gpu-dash'] button[data-action='stop']"));
        wait.Until(d => d.FindElements(By.CssSelector(".card[data-id='gpu-dash'][data-state='WARM']")).Count == 1
            && !d.FindElement(By.CssSelector(".card[data-id='gpu-dash']")).Text.Contains('⏳', StringComparison.Ordinal));
        Assert.Equal("WARM", Instance(await FleetAsync(silo), "gpu-dash").GetProperty("state").GetString());
        Assert.Contains("none loaded", Js(driver, "return document.querySelector(\".card[data-id='gpu-dash']\").innerText"), StringComparison.Ordinal);

        // With nothing HOT, jobs wait: more than 10 raise QueueDepthHigh, pending (alerts.yml holds it 2 minutes before it fires).
        var waiting = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            waiting.Add((await api.SubmitOkAsync(key, ApiClient.Identity(new float[16], 100 + i))).GetProperty("id").GetString()!);
        }

        var alert = wait.Until(d => d.FindElements(By.CssSelector("#alerts li[data-name='QueueDepthHigh'][data-state='pending']")).FirstOrDefault());
        Assert.Matches(@"QueueDepthHigh pending \d+ s of 120 s: 12 jobs waiting \(> 10\)", alert!.Text);
        Screenshot(driver, "dashboard-alert-1280x800.png");

        wait.Until(d => d.FindElement(By.CssSelector(".card[data-id='gpu-dash'] button[data-action='resume']")).Enabled && Click(d, ".card[data-id='gpu-dash'] button[data-action='resume']"));
        // Back up, it serves the jobs that waited at once: HOT and SERVING both say "running with
        // its models loaded", and which one a sample sees is a race; once they are done it is HOT.
        wait.Until(d => d.FindElements(By.CssSelector(".card[data-id='gpu-dash'][data-state='HOT'], .card[data-id='gpu-dash'][data-state='SERVING']")).Count == 1);
        foreach (var id in waiting)
        {
            Assert.Equal("succeeded", (await api.WaitAsync(key, id)).GetProperty("status").GetString());
        }

        var idle = System.Diagnostics.Stopwatch.StartNew();
        string? state;
        while ((state = Instance(await FleetAsync(silo), "gpu-dash").GetProperty("state").GetString()) != "HOT" && idle.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        Assert.Equal("HOT", state);
        wait.Until(d => d.FindElements(By.CssSelector(".card[data-id='gpu-dash'][data-state='HOT']")).Count == 1);

        wait.Until(d => d.FindElement(By.CssSelector("#alerts li")).Text == "No alerts"); // drained: the condition is gone

        // Settings: min HOT and the daily budget cap.
        var minHot = driver.FindElement(By.Id("setting-min-hot"));
        minHot.Clear();
        minHot.SendKeys("2");
        var budget = driver.FindElement(By.Id("setting-budget"));
        budget.Clear();
        budget.SendKeys("12.5");
        driver.FindElement(By.Id("save-settings")).Click();
        wait.Until(d => d.FindElement(By.Id("settings-result")).Text.StartsWith("Saved", StringComparison.Ordinal));
        var settings = (await FleetAsync(silo)).GetProperty("pool").GetProperty("settings");
        Assert.Equal((2, 12.5m), (settings.GetProperty("minHot").GetInt32(), settings.GetProperty("dailyBudgetUsd").GetDecimal()));
        minHot.Clear();
        minHot.SendKeys("9"); // above max instances: refused, nothing changes
        driver.FindElement(By.Id("save-settings")).Click();
        wait.Until(d => d.FindElement(By.Id("settings-result")).Text.StartsWith("Not saved", StringComparison.Ordinal));
        Assert.Equal(2, (await FleetAsync(silo)).GetProperty("pool").GetProperty("settings").GetProperty("minHot").GetInt32());

        // Phone width: one column, nothing wider than the screen.
        driver.Manage().Window.Size = new Size(390, 844);
        try
        {
            wait.Until(d => (long)((IJavaScriptExecutor)d).ExecuteScript("return document.documentElement.scrollWidth <= window.innerWidth ? 1 : 0")! == 1);
        }
        catch (WebDriverTimeoutException)
        {
            throw new InvalidOperationException("wider than the phone: " + ((IJavaScriptExecutor)driver).ExecuteScript(
                "return document.documentElement.scrollWidth + ' / ' + window.innerWidth + ' ' + [...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).join(' ')"));
        }
        Assert.True(driver.FindElement(By.CssSelector(".card[data-id='gpu-dash']")).Displayed);
        Screenshot(driver, "dashboard-390x844.png");
    }

    [Fact]
    public async Task TheOrleansDashboardShowsTheSilosAndOurGrainTypesOnlyWithTheAdminKey()
    {
        using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-odash-").FullName,
            ["Cluster:InstanceId"] = "gpu-odash",
        });
        var api = new ApiClient(silo.Http);
        var (_, key, _) = await api.CreateTenantAsync("pro");
        var ran = (await api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 2, seed = 5 } })).GetProperty("id").GetString()!;
        await api.WaitAsync(key, ran);

        // An ended job's activation goes once idle (its row answers later reads), so the dashboard,
        // which lists the types that have activations, would show JobGrain only while a job lives.
        // A read of an id no job has keeps one activation (a job not yet submitted) for a while.
        var unused = ran[..^1] + (ran[^1] == '0' ? '1' : '0');
        using (var missing = await api.GetAsync(key, $"/v1/jobs/{unused}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var driver = StartChromium(1280, 800);
        driver.Navigate().GoToUrl(silo.Url + "/orleans/");
        Assert.DoesNotContain("Orleans Dashboard", driver.Title, StringComparison.Ordinal); // no key, no dashboard (the browser's Basic prompt, cancelled)
        using (var anonymous = await silo.Http.GetAsync("/orleans/"))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.StartsWith("Basic ", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/orleans/DashboardCounters"))
        {
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:not-the-key")));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await silo.Http.SendAsync(wrong)).StatusCode);
        }

        // What an operator's browser does after the Basic prompt: send the key with every request.
        driver.ExecuteCdpCommand("Network.enable", []);
        driver.ExecuteCdpCommand("Network.setExtraHTTPHeaders", new Dictionary<string, object?>
        {
            ["headers"] = new Dictionary<string, object> { ["Authorization"] = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + SiloFactory.AdminKey)) },
        });
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(60));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
        driver.Navigate().GoToUrl(silo.Url + "/orleans/#/grains");
        wait.Until(d => d.FindElement(By.TagName("body")).Text.Contains("JobGrain", StringComparison.Ordinal));
        var grains = driver.FindElement(By.TagName("body")).Text;
        Assert.All(new[] { "JobGrain", "TenantGrain", "InstanceGrain" }, g => Assert.Contains(g, grains, StringComparison.Ordinal));
        Screenshot(driver, "orleans-dashboard-grains-1280x800.png");

        driver.Navigate().GoToUrl(silo.Url + "/orleans/#/silos");
        var address = (await (await silo.Http.SendAsync(SiloFactory.AdminRequest(HttpMethod.Get, "/admin/silos"))).Content.ReadFromJsonAsync<JsonElement>())
            .EnumerateArray().Single().GetProperty("siloId").GetString()!;
        var host = address[..address.IndexOf('@', StringComparison.Ordinal)];
        wait.Until(d => d.FindElement(By.TagName("body")).Text.Contains(host, StringComparison.Ordinal));
        Screenshot(driver, "orleans-dashboard-silos-1280x800.png");
    }

    private static string Js(ChromeDriver driver, string script) => driver.ExecuteScript(script)?.ToString() ?? "";

    private static bool Click(IWebDriver driver, string css)
    {
        driver.FindElement(By.CssSelector(css)).Click();
        return true;
    }

    private static ChromeDriver StartChromium(int width, int height)
    {
        Assert.True(File.Exists(Chromium) && File.Exists(ChromeDriver), "Debian's chromium and chromium-driver are needed (scripts/test installs them)");
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={width},{height}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
    }

    private static void Screenshot(ChromeDriver driver, string name)
    {
        var dir = Path.Combine(TestPaths.Repo, "build", "test-artifacts");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        driver.ExecuteScript("window.scrollTo(0, 0)");
        driver.GetScreenshot().SaveAsFile(path);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', $"{name} is a real screenshot");
    }

    private static async Task<JsonElement> FleetAsync(SiloProcess silo)
    {
        using var request = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/fleet");
        return await (await silo.Http.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
    }

    private static JsonElement Instance(JsonElement fleet, string id) =>
        fleet.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("id").GetString() == id);
}
