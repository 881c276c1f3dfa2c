// Operator dashboard: plain JS, no dependencies. Data comes from /admin/* with the admin key the
// operator typed (kept in sessionStorage); live updates are the server-sent events of
// /admin/dashboard/stream, read with fetch so the key can travel in the Authorization header.
"use strict";

const KEY = "actors-admin-key";
const COLORS = { queue: "#2457c5", COLD: "#9aa3af", WARM: "#e0a526", HOT: "#e5602c", SERVING: "#1f9d55", perHour: "#e5602c", spent: "#2457c5", submitted: "#2457c5", succeeded: "#1f9d55", failed: "#c62828" };
const $ = (id) => document.getElementById(id);
let streamAbort = null;
let settingsDirty = false;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

const money = (v, digits = 2) => "$" + Number(v).toFixed(digits);
function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return seconds + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
}
const time = (iso) => new Date(iso).toLocaleTimeString();

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((data && (data.detail || data.title)) || res.status + " " + res.statusText);
  return data;
}

// ---- login ----
async function login(key) {
  sessionStorage.setItem(KEY, key);
  try {
    render(await api("GET", "/admin/dashboard"));
  } catch (e) {
    sessionStorage.removeItem(KEY);
    $("login-error").textContent = "Login failed: " + e.message;
    return;
  }
  $("login").hidden = true; $("app").hidden = false; $("logout-button").hidden = false;
  stream();
  analytics();
}

function logout() {
  sessionStorage.removeItem(KEY);
  if (streamAbort) streamAbort.abort();
  location.reload();
}

// ---- live updates (SSE over fetch) ----
async function stream() {
  streamAbort = new AbortController();
  try {
    const res = await fetch("/admin/dashboard/stream", { headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) }, signal: streamAbort.signal });
    if (!res.ok) throw new Error(res.status);
    live(true);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) render(JSON.parse(data));
      }
    }
  } catch (e) {
    if (e.name === "AbortError") return;
  }
  live(false);
  setTimeout(stream, 2000);
}

function live(on) {
  const pill = $("live-status");
  pill.textContent = on ? "live" : "reconnecting";
  pill.className = "pill " + (on ? "on" : "off");
}

// ---- rendering ----
function render(s) {
  const fleet = s.fleet;
  const minutes = s.jobsPerMinute || [];
  $("jobs-per-minute").textContent = s.jobsLastMinute;
  $("per-hour").textContent = money(s.costs.perHour);
  $("cost-today").textContent = money(s.costs.spentTodayUsd, 4);
  $("cost-month").textContent = money(s.costs.projectedMonthUsd);
  $("queue-total").textContent = fleet.queues.reduce((a, q) => a + q.depth, 0);
  renderInstances(fleet.instances, s.runningByInstance || {});
  renderQueues(fleet.queues);
  renderList("alerts", s.alerts, (a) => [el("span", { class: "sev-" + a.severity }, a.severity), " ", el("b", {}, a.name), " ", alertState(a, s.now), ": ", a.summary],
    "No alerts", (a) => ({ "data-name": a.name, "data-state": a.state }));
  renderList("failures", s.failures, (f) => [time(f.at), " ", el("b", {}, f.model), " (", f.tenantId, ") ", f.jobId, f.reason ? [" — ", f.reason] : null], "No failed jobs");
  renderList("decisions", (fleet.pool.recent || []).slice().reverse().slice(0, 12),
    (e) => [time(e.at), " ", el("b", {}, e.kind), e.instanceId ? " " + e.instanceId : "", ": ", e.reason, e.error ? el("span", { class: "sev-critical" }, " — " + e.error) : null], "No decisions yet");
  renderList("clouds", (fleet.clouds || []).map((c) => ({ kind: "cloud", c })).concat((fleet.cloudLosses || []).slice().reverse().slice(0, 6).map((l) => ({ kind: "lost", l })))
      .concat((fleet.cloudOrphansTerminated || []).slice().reverse().slice(0, 3).map((o) => ({ kind: "orphan", o }))),
    (x) => x.kind === "cloud"
      ? [el("b", {}, x.c.provider), ` ${x.c.offers} offers`, x.c.cheapestPerHour != null ? ` from ${money(x.c.cheapestPerHour)}/h` : "",
        x.c.canStop ? "" : " (no stop)", x.c.spot ? " spot" : "",
        x.c.lastReconcile ? ` · ${x.c.lastReconcile.kept.length} held, ${x.c.lastReconcile.terminated.length} orphans ended` : "",
        x.c.offersError ? el("span", { class: "sev-critical" }, " — " + x.c.offersError) : null]
      : x.kind === "lost" ? [time(x.l.at), " ", el("b", {}, x.l.provider), " " + x.l.instanceId + " lost: ", x.l.reason]
      : [time(x.o.at), " ", el("b", {}, x.o.cloud), " orphan terminated: ", x.o.machine],
    "No cloud configured", (x) => x.kind === "cloud" ? { "data-provider": x.c.provider } : x.kind === "lost" ? { "data-lost": x.l.instanceId } : { "data-orphan": x.o.machine });
  renderSettings(fleet.pool.settings);
  const measured = fleet.pool.serviceMeasuredJobs;
  $("service-time").textContent = `SLO service time ${fleet.pool.serviceSecondsPerJob.toFixed(2)} s a job (`
    + (measured ? `measured over ${measured} jobs)` : "configured; measured after 20 jobs)");
  $("forecast").textContent = forecastText(fleet.pool.forecast);
  renderCharts(s.history || [], minutes);
}

/** The forecast policy's view in one line: what it expects next, its quiet hours, and now. */
function forecastText(f) {
  if (!f) return "";
  if (!f.knowsDay) return "Forecast: learning the day (no quiet hours until every hour was seen once)";
  const next = f.nextHoursJobsPerHour.slice(0, 6).map((r) => (r == null ? "?" : Math.round(r))).join(", ");
  const quiet = f.quietHoursUtc.length ? f.quietHoursUtc.map((h) => String(h).padStart(2, "0")).join(" ") + " UTC" : "none";
  return `Forecast: ${next} jobs/h over the next 6 h; ${f.hotAhead ?? "?"} HOT wanted within a resume; `
    + `quiet hours (may hold no HOT): ${quiet}${f.quietNow ? " — quiet now" : ""}${f.knowsWeek ? "; by hour of week" : "; by hour of day"}`;
}

function renderInstances(instances, running) {
  const visible = instances.filter((i) => i.state !== "COLD" || i.pending || i.health !== "ok");
  $("instance-count").textContent = "(" + visible.length + " held, " + instances.length + " known)";
  const cards = visible.map((i) => {
    const busy = !!i.pending;
    return el("article", { class: "card", "data-id": i.id, "data-state": i.state, "data-health": i.health },
      el("div", { class: "head" }, el("span", { class: "id" }, i.id), el("span", { class: "state " + i.state }, i.state)),
      el("div", { class: "row" }, "GPU ", i.gpuType, " · ", i.provider || "started by hand", " · health ", i.health),
      el("div", { class: "row" }, "models: ", i.models.length ? i.models.join(", ") : "none loaded"),
      el("div", { class: "row" }, "current batch: ", running[i.id] || 0, " jobs · utilisation ", i.utilization === null || i.utilization === undefined ? "–" : Math.round(i.utilization * 100) + "%"),
      el("div", { class: "row" }, "in state ", duration(i.secondsInState), " · ", money(i.perHour), "/h · accrued ", money(i.accruedUsd, 4)),
      i.pending ? el("div", { class: "row" }, "⏳ ", i.pending.operation, " (try ", i.pending.attempt, ", ETA ", time(i.pending.expectedAt), ")") : null,
      i.lastError ? el("div", { class: "err" }, i.lastError) : i.healthReason ? el("div", { class: "err" }, i.healthReason) : null,
      el("div", { class: "actions" },
        action(i, "resume", busy || i.state !== "WARM"),
        action(i, "stop", busy || !(i.state === "HOT" || i.state === "SERVING")),
        action(i, "release", busy || i.state !== "WARM" || !i.provider)));
  });
  $("instances").replaceChildren(...(cards.length ? cards : [el("p", { class: "muted" }, "No instances.")]));
}

function action(instance, name, disabled) {
  return el("button", {
    class: "secondary", "data-action": name, disabled, title: name + " " + instance.id,
    onclick: async (ev) => {
      ev.target.disabled = true;
      try { await api("POST", "/admin/instances/" + encodeURIComponent(instance.id) + "/" + name); }
      catch (e) { alert(name + " " + instance.id + ": " + e.message); }
      refresh();
    },
  }, name);
}

function renderQueues(queues) {
  $("queues").tBodies[0].replaceChildren(...queues.map((q) => el("tr", { "data-tier": q.tier },
    el("td", {}, q.tier), el("td", {}, q.depth), el("td", {}, q.depth ? duration(q.oldestWaitSeconds) : "–"),
    el("td", { class: q.refusing ? "refusing" : "" }, q.refusing ? "refusing: server busy" : "open"))));
}

function renderList(id, items, line, empty, attrs) {
  $(id).replaceChildren(...(items && items.length ? items.map((x) => el("li", attrs ? attrs(x) : {}, line(x))) : [el("li", { class: "empty" }, empty)]));
}

// Firing, or pending: how long its condition has held of the rule's "for" (as Prometheus does).
function alertState(a, now) {
  if (a.state === "firing") return el("span", { class: "pill alert-firing" }, "firing");
  const held = Math.max(0, Math.floor((Date.parse(now) - Date.parse(a.since)) / 1000));
  return el("span", { class: "pill alert-pending" }, `pending ${held} s of ${a.forSeconds} s`);
}

function renderSettings(settings) {
  if (settingsDirty) return;
  $("setting-autoscale").checked = settings.autoscale;
  $("setting-policy").value = settings.policy;
  $("setting-min-hot").value = settings.minHot;
  $("setting-max-instances").value = settings.maxInstances;
  $("setting-budget").value = settings.dailyBudgetUsd === null ? "" : settings.dailyBudgetUsd;
}

async function saveSettings(ev) {
  ev.preventDefault();
  const budget = $("setting-budget").value.trim();
  const body = {
    autoscale: $("setting-autoscale").checked,
    policy: $("setting-policy").value,
    minHot: Number($("setting-min-hot").value),
    maxInstances: Number($("setting-max-instances").value),
  };
  if (budget === "") body.clearBudget = true; else body.dailyBudgetUsd = Number(budget);
  try {
    const pool = await api("PUT", "/admin/fleet/settings", body);
    $("settings-result").textContent = "Saved: min HOT " + pool.settings.minHot + ", max " + pool.settings.maxInstances +
      ", budget " + (pool.settings.dailyBudgetUsd === null ? "none" : money(pool.settings.dailyBudgetUsd)) + ".";
    settingsDirty = false;
  } catch (e) {
    $("settings-result").textContent = "Not saved: " + e.message;
  }
}

// ---- charts: small SVG line charts ----
function lineChart(id, times, series) {
  const root = $(id);
  const W = 360, H = 160, L = 34, R = 6, T = 8, B = 20;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const t0 = times.length ? times[0] : Date.now(), t1 = times.length > 1 ? times[times.length - 1] : t0 + 1;
  const x = (t) => L + ((t - t0) / (t1 - t0 || 1)) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const nodes = [
    svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
    svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg("text", { x: 2, y: T + 8 }, formatTick(max)),
    svg("text", { x: 2, y: H - B }, "0"),
    svg("text", { x: L, y: H - 6 }, times.length ? new Date(t0).toLocaleTimeString() : ""),
    svg("text", { x: W - R - 48, y: H - 6 }, times.length ? new Date(t1).toLocaleTimeString() : ""),
  ];
  series.forEach((s, n) => {
    const d = s.values.map((v, i) => (i ? "L" : "M") + x(times[i]).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
    if (d) nodes.push(svg("path", { class: "line", d, stroke: s.color, "data-series": s.name }));
    nodes.push(svg("text", { x: L + 6 + n * 62, y: T + 8, fill: s.color }, s.name));
  });
  root.replaceChildren(...nodes);
}

const formatTick = (v) => (v >= 100 ? Math.round(v) : Number(v.toPrecision(2))).toString();

function renderCharts(history, minutes) {
  const times = history.map((h) => new Date(h.at).getTime());
  lineChart("chart-queue", times, [{ name: "queued", color: COLORS.queue, values: history.map((h) => h.queueDepth) }]);
  lineChart("chart-instances", times, ["WARM", "HOT", "SERVING"].map((k) => ({ name: k, color: COLORS[k], values: history.map((h) => h[k.toLowerCase()]) })));
  lineChart("chart-cost", times, [
    { name: "$/h", color: COLORS.perHour, values: history.map((h) => h.perHour) },
    { name: "today $", color: COLORS.spent, values: history.map((h) => h.spentTodayUsd) },
  ]);
  const mt = minutes.map((m) => new Date(m.minute).getTime());
  lineChart("chart-jobs", mt, ["submitted", "succeeded", "failed"].map((k) => ({ name: k, color: COLORS[k], values: minutes.map((m) => m[k]) })));
}

// ---- analytics ----
async function analytics() {
  let data;
  try { data = await api("GET", "/admin/analytics?days=7"); }
  catch (e) { $("analytics").replaceChildren(el("p", { class: "muted" }, "Analytics unavailable: " + e.message)); return; }
  const table = (head, rows) => el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))), el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))))));
  $("analytics").replaceChildren(
    el("h3", {}, "Jobs per day by tenant and model"),
    table(["Day", "Tenant", "Model", "Jobs", "Succeeded", "Failed", "Cache hits"], data.jobsPerDay.map((d) => [d.day, d.tenantId, d.model, d.jobs, d.succeeded, d.failed, d.cacheHits])),
    el("h3", {}, "Response times by model"),
    table(["Model", "Jobs", "p50 total", "p95 total", "p50 wait", "p95 wait", "p50 run"], data.responseTimes.map((r) => [r.model, r.jobs, r.p50Seconds + " s", r.p95Seconds + " s", r.p50WaitSeconds + " s", r.p95WaitSeconds + " s", r.p50RunMs + " ms"])),
    el("h3", {}, "Cache savings"),
    el("p", {}, data.cache.hits + " hits of " + data.cache.lookups + " finished jobs (" + Math.round(data.cache.hitRatio * 100) + "%), " + data.cache.gpuSecondsSaved + " GPU-seconds and " + data.cache.creditsSaved + " credits saved"),
    el("h3", {}, "Refusals"),
    table(["Day", "Tenant", "Reason", "Count"], data.refusals.map((r) => [r.day, r.tenantId, r.reason, r.count])));
  setTimeout(analytics, 30000);
}

async function refresh() {
  try { render(await api("GET", "/admin/dashboard")); } catch { /* the stream will catch up */ }
}

$("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); login($("admin-key").value.trim()); });
$("logout-button").addEventListener("click", logout);
$("settings-form").addEventListener("submit", saveSettings);
$("settings-form").addEventListener("input", () => { settingsDirty = true; });
if (sessionStorage.getItem(KEY)) login(sessionStorage.getItem(KEY));
