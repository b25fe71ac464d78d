// questlog console: a small single-page app. The pipeline's shape comes
// once from /api/pipeline, live numbers from the server-sent events of
// /api/live, details from the other /api/ endpoints. Charts: Apache ECharts.
"use strict";

const HISTORY = 300; // seconds of history the charts keep, as the server does
const CHART_EVERY = 2000; // ms between redraws of a live chart
const state = {
  pipeline: null,   // /api/pipeline
  snap: null,       // the latest snapshot
  history: [],      // points {t, topics, functions, lag}
  page: null,       // the current page object {update(snap), dispose()}
};

// ---- small helpers -------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const nf = new Intl.NumberFormat("en-US");
function num(v) { return v === undefined || v === null ? "–" : nf.format(v); }
function rate(v) { return v === undefined || v === null ? "–" : v >= 100 ? nf.format(Math.round(v)) : v.toFixed(1); }
function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KB", "MB", "GB", "TB"];
  const i = Math.min(u.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return (n / Math.pow(1024, i)).toFixed(i ? 1 : 0) + " " + u[i];
}
function msf(v) { return v ? (v >= 100 ? Math.round(v) : v.toFixed(2)) + " ms" : "–"; }
function ago(ms) {
  if (!ms) return "never";
  return dur((Date.now() - ms) / 1000) + " ago";
}
function dur(sec) {
  if (sec === undefined || sec === null || sec < 0) return "–";
  if (sec < 1) return "<1 s";
  if (sec < 90) return Math.round(sec) + " s";
  if (sec < 5400) return Math.round(sec / 60) + " min";
  if (sec < 172800) return Math.round(sec / 3600) + " h";
  return Math.round(sec / 86400) + " d";
}
function time(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").replace("Z", "") : "–"; }

async function api(path, init) {
  const r = await fetch(path, init);
  const body = await r.json().catch(() => ({ message: r.statusText }));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}

// setText updates the elements bound to a key: the pages build their DOM
// once and each snapshot only changes text. The keys of a root are looked
// up once, when it is first updated.
const boundKeys = new WeakMap();
function setText(root, key, text) {
  let keys = boundKeys.get(root);
  if (!keys) {
    keys = new Map();
    for (const el of root.querySelectorAll("[data-k]")) {
      if (!keys.has(el.dataset.k)) keys.set(el.dataset.k, []);
      keys.get(el.dataset.k).push(el);
    }
    boundKeys.set(root, keys);
  }
  for (const el of keys.get(key) || []) {
    if (el.textContent !== text) el.textContent = text;
  }
}
function bound(key, text, cls) { return h("b", { "data-k": key, class: cls }, text ?? "–"); }

// ---- live charts ---------------------------------------------------------

// The live charts are uPlot's: it redraws five minutes of a dozen series in
// about a millisecond, an order of magnitude less than a general charting
// library, so they can follow the numbers beside them.
const palette = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#0e7490", "#b45309", "#7c3aed"];
const CHART_HEIGHT = 190;

// A line chart of the history: one series per name, value(point, name)
// its value at a point of the history. It is drawn at most every
// CHART_EVERY, and only while it is on screen and the tab visible.
function liveChart(el, title, unit, names, value) {
  const axis = { stroke: "#667085", grid: { stroke: "#eef0f4", width: 1 }, ticks: { stroke: "#eef0f4", width: 1 }, font: "11px system-ui, sans-serif" };
  // The legend shows each series' value under the cursor.
  const plot = new uPlot({
    title, width: el.clientWidth || 600, height: CHART_HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [{ ...axis, space: 70, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600],
      values: (u, ticks, _, __, step) => ticks.map(t => new Date(t * 1000).toTimeString().slice(0, step < 60 ? 8 : 5)) },
      { ...axis, size: 56, values: (u, ticks) => ticks.map(rate) }],
    series: [{}, ...names.map((name, i) => ({ label: name, stroke: palette[i % palette.length], width: 1.6, points: { show: false },
      value: (u, v) => (v === null ? "" : rate(v) + (unit ? " " + unit : "")) }))],
  }, null, el);
  let drawn = 0, onScreen = true;
  const draw = () => {
    drawn = Date.now();
    const h = state.history;
    plot.setData([h.map(p => p.t / 1000), ...names.map(n => h.map(p => value(p, n) ?? null))]);
  };
  const due = () => onScreen && !document.hidden && Date.now() - drawn >= CHART_EVERY;
  const seen = new IntersectionObserver(entries => {
    onScreen = entries[entries.length - 1].isIntersecting;
    if (due()) draw();
  });
  seen.observe(el);
  return {
    resize() { plot.setSize({ width: el.clientWidth, height: CHART_HEIGHT }); },
    tick() { if (due()) draw(); },
    dispose() { seen.disconnect(); plot.destroy(); },
  };
}
function liveCharts(...charts) {
  const onResize = () => charts.forEach(c => c.resize());
  window.addEventListener("resize", onResize);
  return {
    tick() { charts.forEach(c => c.tick()); },
    dispose() { window.removeEventListener("resize", onResize); charts.forEach(c => c.dispose()); },
  };
}

// ---- live updates --------------------------------------------------------

// The stream carries only what the current page shows (its `live` parts:
// functions, topics, mappings, datasets, history), and is closed while the
// tab is hidden. It returns whether the stream it left open already
// carried those parts.
const stream = { es: null, want: null };
function listen() {
  const want = (state.page && state.page.live) || "";
  const status = document.getElementById("status");
  if (document.hidden) {
    if (stream.es) stream.es.close();
    stream.es = null;
    status.textContent = "paused";
    status.className = "status";
    return false;
  }
  if (stream.es && stream.want === want) return true;
  if (stream.es) stream.es.close();
  if (!want.includes("history")) state.history = [];
  stream.want = want;
  const es = stream.es = new EventSource("api/live?want=" + want);
  es.addEventListener("history", e => { state.history = JSON.parse(e.data); });
  es.addEventListener("snapshot", e => {
    const snap = JSON.parse(e.data);
    state.snap = snap;
    const p = snap.point;
    if (p && (!state.history.length || state.history[state.history.length - 1].t < p.t)) state.history.push(p);
    if (state.history.length > HISTORY) state.history.splice(0, state.history.length - HISTORY);
    status.textContent = "live · " + new Date(snap.time).toLocaleTimeString();
    status.className = "status live";
    if (state.page && state.page.update) state.page.update(snap);
  });
  es.onerror = () => { status.textContent = "reconnecting…"; status.className = "status down"; };
  return false;
}

// ---- router --------------------------------------------------------------

const pages = { pipeline: pipelinePage, functions: functionsPage, topics: topicsPage, datasets: datasetsPage, query: queryPage, game: gamePage };

function route() {
  const hash = location.hash.replace(/^#\/?/, "") || "pipeline";
  const [path, query] = hash.split("?");
  const [name, ...rest] = path.split("/");
  const params = new URLSearchParams(query || "");
  const page = pages[name] || pipelinePage;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === name);
  if (state.page && state.page.dispose) state.page.dispose();
  const main = document.getElementById("main");
  main.replaceChildren();
  state.page = page(main, decodeURIComponent(rest.join("/")), params) || {};
  // A new stream starts with the latest snapshot; one kept has it already.
  if (listen() && state.snap && state.page.update) state.page.update(state.snap);
}

// ---- Pipeline ------------------------------------------------------------

function pipelinePage(main) {
  const pl = state.pipeline;
  const routeFns = pl.routes.map(r => r.function);
  const kpis = h("div", { class: "kpis" },
    kpi("API requests/s", "k-api"), kpi("Records/s into Kafka", "k-topic"), kpi("Consumer lag", "k-lag", "records"),
    kpi("Events landed", "k-rows", "rows"), kpi("Freshness", "k-fresh"), kpi("Function errors", "k-errors"));
  const chartsRow = h("div", { class: "row" },
    h("div", { class: "panel" }, h("div", { class: "chart live", id: "c-rates" })),
    h("div", { class: "panel" }, h("div", { class: "chart live", id: "c-lag" })));
  const traceBox = tracePanel();
  const diagram = h("div", { class: "diagram", id: "diagram" });
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "edges");
  diagram.append(svg);

  const colRoutes = h("div", { class: "col" }, h("h3", {}, "Routes (API Gateway)"));
  for (const r of pl.routes) {
    colRoutes.append(h("div", { class: "node route", id: "n-route-" + r.function },
      h("div", { class: "title mono" }, r.method + " " + r.path),
      h("div", { class: "meta" }, h("a", { href: "#/functions/" + r.function }, r.function)),
      h("div", { class: "stats" },
        bound("f/" + r.function + "/rate"), bound("f/" + r.function + "/inv"), bound("f/" + r.function + "/err"),
        h("span", {}, "req/s"), h("span", {}, "invocations"), h("span", {}, "errors"))));
  }
  const colTopics = h("div", { class: "col" }, h("h3", {}, "Topics (Kafka)"));
  for (const t of pl.topics) {
    colTopics.append(h("div", { class: "node topic", id: "n-topic-" + t },
      h("div", { class: "title" }, h("a", { href: "#/topics/" + t }, t)),
      h("div", { class: "stats" },
        bound("t/" + t + "/rate"), bound("t/" + t + "/records"), bound("t/" + t + "/parts"),
        h("span", {}, "records/s"), h("span", {}, "records"), h("span", {}, "partitions")),
      h("div", { class: "parts", "data-parts": "t/" + t })));
  }
  const colJobs = h("div", { class: "col" }, h("div", { class: "pair" }, h("h3", {}, "Event-source mappings → functions"), h("h3", {}, "Datasets (Parquet on HDFS)")));
  for (const m of pl.mappings) {
    const mapping = h("div", { class: "node job", id: "n-map-" + m.function },
      h("div", { class: "title" }, h("a", { href: "#/functions/" + m.function }, m.function)),
      h("div", { class: "meta" }, m.group + (m.filters && m.filters.length ? " · FilterCriteria" : "")),
      h("div", { class: "stats" },
        bound("m/" + m.function + "/rate"), bound("m/" + m.function + "/lag"), bound("m/" + m.function + "/batches"),
        h("span", {}, "records/s"), h("span", {}, "lag"), h("span", {}, "batches"),
        bound("m/" + m.function + "/last"), bound("m/" + m.function + "/retries"), bound("m/" + m.function + "/filtered"),
        h("span", {}, "last batch"), h("span", {}, "retries"), h("span", {}, "filtered"),
        bound("f/" + m.function + "/p99"), bound("f/" + m.function + "/envs"), bound("f/" + m.function + "/err"),
        h("span", {}, "p99"), h("span", {}, "environments"), h("span", {}, "errors")),
      h("div", { class: "parts", "data-parts": "m/" + m.function }));
    const d = pl.datasets.find(d => d.name === m.dataset);
    colJobs.append(h("div", { class: "pair" }, mapping, d ? h("div", { class: "node data", id: "n-data-" + m.function },
      h("div", { class: "title" }, h("a", { href: "#/datasets/" + d.name }, d.name)),
      h("div", { class: "stats" },
        bound("d/" + d.name + "/rows"), bound("d/" + d.name + "/files"), bound("d/" + d.name + "/bytes"),
        h("span", {}, "rows"), h("span", {}, "files"), h("span", {}, "bytes"),
        bound("d/" + d.name + "/dt"), bound("d/" + d.name + "/fresh"), bound("d/" + d.name + "/rejected"),
        h("span", {}, "newest dt"), h("span", {}, "freshness"), h("span", {}, "dead letters"))) : h("div")));
  }
  diagram.append(colRoutes, colTopics, colJobs);

  main.append(
    h("h1", {}, "Pipeline"),
    h("p", { class: "sub" }, "template.yaml, live: routes publish to Kafka, event-source mappings feed the jobs, the jobs land Parquet. API: ",
      h("a", { href: pl.api_url }, pl.api_url || "–")),
    kpis, chartsRow, traceBox, h("div", { class: "panel" }, diagram));

  const routeSet = new Set(routeFns);
  const apiRate = p => Object.entries(p.functions).reduce((sum, [k, v]) => (routeSet.has(k) ? sum + v : sum), 0);
  const charts = liveCharts(
    liveChart(document.getElementById("c-rates"), "Throughput", "/s", ["API requests", ...pl.topics.map(t => "topic " + t)],
      (p, n) => (n === "API requests" ? apiRate(p) : p.topics[n.slice("topic ".length)])),
    liveChart(document.getElementById("c-lag"), "Consumer lag per mapping", "records", pl.mappings.map(m => m.function), (p, n) => p.lag[n]));

  const edges = [];
  for (const r of pl.routes) if (r.topic) edges.push(["n-route-" + r.function, "n-topic-" + r.topic]);
  for (const m of pl.mappings) {
    edges.push(["n-topic-" + m.topic, "n-map-" + m.function]);
    if (m.dataset) edges.push(["n-map-" + m.function, "n-data-" + m.function]);
  }
  const drawEdges = () => {
    const box = diagram.getBoundingClientRect();
    svg.replaceChildren();
    for (const [a, b] of edges) {
      const ea = document.getElementById(a), eb = document.getElementById(b);
      if (!ea || !eb) continue;
      const ra = ea.getBoundingClientRect(), rb = eb.getBoundingClientRect();
      const x1 = ra.right - box.left, y1 = ra.top + ra.height / 2 - box.top;
      const x2 = rb.left - box.left, y2 = rb.top + Math.min(rb.height / 2, 22) - box.top;
      const dx = (x2 - x1) / 2;
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "#b7c2d8");
      path.setAttribute("stroke-width", "1.3");
      svg.append(path);
    }
  };
  // Cards change height as their numbers change: redraw the edges then.
  const observer = new ResizeObserver(() => requestAnimationFrame(drawEdges));
  observer.observe(diagram);
  for (const n of diagram.querySelectorAll(".node")) observer.observe(n);

  return {
    live: "functions,topics,mappings,datasets,history",
    update(snap) {
      let api = 0, errors = 0;
      for (const [name, f] of Object.entries(snap.functions)) {
        setText(main, "f/" + name + "/rate", rate(f.per_second));
        setText(main, "f/" + name + "/inv", num(f.invocations));
        setText(main, "f/" + name + "/err", num(f.errors));
        setText(main, "f/" + name + "/p99", msf(f.p99_ms));
        setText(main, "f/" + name + "/envs", f.busy + "/" + f.environments);
        if (routeFns.includes(name)) api += f.per_second;
        errors += f.errors;
      }
      let topicRate = 0;
      for (const [name, t] of Object.entries(snap.topics)) {
        setText(main, "t/" + name + "/rate", rate(t.per_second));
        setText(main, "t/" + name + "/records", num(t.records));
        setText(main, "t/" + name + "/parts", num((t.partitions || []).length));
        setParts(main, "t/" + name, (t.partitions || []).map(p => [`p${p.partition} @${num(p.end)}`, p.per_second > 0 ? "ok" : ""]));
        if (pl.routes.some(r => r.topic === name)) topicRate += t.per_second;
      }
      let lagSum = 0;
      for (const m of snap.mappings || []) {
        setText(main, "m/" + m.function + "/rate", rate(m.per_second));
        setText(main, "m/" + m.function + "/lag", num(m.lag));
        setText(main, "m/" + m.function + "/batches", num(m.batches));
        setText(main, "m/" + m.function + "/last", ago(m.last_batch));
        setText(main, "m/" + m.function + "/retries", num(m.retries));
        setText(main, "m/" + m.function + "/filtered", num(m.filtered));
        setParts(main, "m/" + m.function, m.partitions.map(p => [`p${p.partition} lag ${num(p.lag)}`, p.lag > 1000 ? "warn" : "ok"]));
        lagSum += m.lag;
      }
      for (const [name, d] of Object.entries(snap.datasets)) {
        setText(main, "d/" + name + "/rows", num(d.rows));
        setText(main, "d/" + name + "/files", num(d.files));
        setText(main, "d/" + name + "/bytes", bytes(d.bytes));
        setText(main, "d/" + name + "/dt", d.newest_dt || "–");
        setText(main, "d/" + name + "/fresh", dur(d.freshness_sec));
        setText(main, "d/" + name + "/rejected", num(d.rejected));
      }
      const first = pl.datasets.find(d => d.name === "extracted_events") || pl.datasets[0];
      const fd = first && snap.datasets[first.name];
      setText(kpis, "k-api", rate(api));
      setText(kpis, "k-topic", rate(topicRate));
      setText(kpis, "k-lag", num(lagSum));
      setText(kpis, "k-rows", fd ? num(fd.rows) : "–");
      setText(kpis, "k-fresh", fd ? dur(fd.freshness_sec) : "–");
      setText(kpis, "k-errors", num(errors));
      charts.tick();
    },
    dispose() { charts.dispose(); observer.disconnect(); },
  };
}

function kpi(label, key, unit) {
  return h("div", { class: "kpi" }, h("div", { class: "label" }, label),
    h("div", { class: "value" }, h("span", { "data-k": key }, "–"), unit ? h("span", { class: "unit" }, unit) : null));
}

function setParts(root, key, parts) {
  const el = root.querySelector(`[data-parts="${CSS.escape(key)}"]`);
  if (!el) return;
  const text = parts.map(p => p[0]).join("|");
  if (el.dataset.text === text) return;
  el.dataset.text = text;
  el.replaceChildren(...parts.map(([t, cls]) => h("span", { class: "pill " + (cls || "") }, t)));
}

// The trace: one event's way, by the X-Event-Id of an API answer.
function tracePanel() {
  const input = h("input", { type: "text", id: "trace-id", placeholder: "X-Event-Id of an API answer", spellcheck: "false" });
  const out = h("div", { id: "trace-result" });
  const run = async () => {
    const id = input.value.trim();
    if (!id) return;
    out.replaceChildren(h("p", { class: "muted" }, "searching the topic…"));
    try {
      const t = await api("api/trace/" + encodeURIComponent(id));
      out.replaceChildren(renderTrace(t));
    } catch (e) {
      out.replaceChildren(h("p", { class: "error" }, e.message));
    }
  };
  input.addEventListener("keydown", e => { if (e.key === "Enter") run(); });
  return h("div", { class: "panel" },
    h("h2", {}, "Follow an event"),
    h("div", { class: "toolbar" }, input, h("button", { id: "trace-go", onclick: run }, "Follow"),
      h("span", { class: "muted" }, "from its route, through Kafka and each mapping, to its Parquet rows")),
    out);
}

function renderTrace(t) {
  const r = t.record;
  const statusCls = { landed: "ok", rejected: "bad", filtered: "", pending: "warn" };
  return h("div", {},
    h("div", { class: "trace-steps" },
      h("div", { class: "node route" },
        h("div", { class: "title" }, "Route"),
        t.routes.length ? t.routes.map(rt => h("div", { class: "mono" }, rt.method + " " + rt.path, " → ", h("a", { href: "#/functions/" + rt.function }, rt.function)))
          : h("div", { class: "muted" }, "no route of the template publishes " + t.event_type),
        h("div", { class: "meta" }, t.event_type + (t.user_name ? " · " + t.user_name : "") + " · " + t.event_time)),
      h("div", { class: "node topic" },
        h("div", { class: "title" }, "Kafka"),
        h("div", { class: "mono" }, `${t.topic} partition ${r.partition} offset ${r.offset}`),
        h("div", { class: "meta" }, "key " + (r.key || "(none)") + " · " + time(r.timestamp)))),
    h("div", { class: "trace-steps", id: "trace-steps" },
      t.steps.map(s => h("div", { class: "node job trace-step", "data-function": s.function, "data-status": s.status },
        h("div", { class: "title" }, h("a", { href: "#/functions/" + s.function }, s.function), " ",
          h("span", { class: "pill " + (statusCls[s.status] || "") }, s.status)),
        h("div", { class: "meta" }, `${s.group}: committed ${s.committed < 0 ? "nothing" : s.committed}` + (s.consumed ? " (consumed)" : "")),
        s.file ? h("div", {}, h("a", { class: "trace-row", href: `#/datasets/${s.dataset}?file=${encodeURIComponent(s.file)}&event=${encodeURIComponent(t.event_id)}` },
          `${s.dataset} · row ${s.row + 1} of ${s.file.split("/").pop()}`)) : s.dataset ? h("div", { class: "meta" }, s.dataset) : null,
        s.reason ? h("div", { class: "meta" }, s.reason) : null))));
}

// ---- Functions -----------------------------------------------------------

function functionsPage(main, name) {
  if (name) return functionPage(main, name);
  const pl = state.pipeline;
  const tbody = h("tbody");
  for (const f of pl.functions) {
    const k = "f/" + f.name + "/";
    tbody.append(h("tr", { class: "click", onclick: () => { location.hash = "#/functions/" + f.name; } },
      h("td", {}, h("a", { href: "#/functions/" + f.name }, f.name), h("div", { class: "meta muted" }, f.kind === "route" ? f.routes.join(", ") : (f.dataset ? "→ " + f.dataset : ""))),
      h("td", { class: "num" }, bound(k + "inv")), h("td", { class: "num" }, bound(k + "rate")),
      h("td", { class: "num" }, bound(k + "err")), h("td", { class: "num" }, bound(k + "thr")),
      h("td", { class: "num" }, bound(k + "wait")), h("td", { class: "num" }, bound(k + "cold")),
      h("td", { class: "num" }, bound(k + "p50")), h("td", { class: "num" }, bound(k + "p99")),
      h("td", { class: "num" }, bound(k + "mem"), h("span", { class: "muted" }, " / " + f.memory_mb + " MB")),
      h("td", { class: "num" }, bound(k + "envs"), h("span", { class: "muted" }, " / " + f.concurrency))));
  }
  main.append(h("h1", {}, "Functions"),
    h("p", { class: "sub" }, "Every function of the template, as Lambda's console shows them: counters since start, durations over the last minute."),
    h("div", { class: "panel" }, h("div", { class: "chart live", id: "c-fn" })),
    h("div", { class: "panel" }, h("table", { id: "functions" }, h("thead", {}, h("tr", {},
      h("th", {}, "Function"), h("th", { class: "num" }, "Invocations"), h("th", { class: "num" }, "/s"), h("th", { class: "num" }, "Errors"),
      h("th", { class: "num" }, "Throttles"), h("th", { class: "num" }, "Queued"), h("th", { class: "num" }, "Cold starts"),
      h("th", { class: "num" }, "p50"), h("th", { class: "num" }, "p99"), h("th", { class: "num" }, "Max memory"),
      h("th", { class: "num" }, "Busy/warm"))), tbody)));
  const charts = liveCharts(liveChart(document.getElementById("c-fn"), "Invocations per second", "/s", pl.functions.map(f => f.name), (p, n) => p.functions[n]));
  return {
    live: "functions,history",
    update(snap) {
      for (const [n, f] of Object.entries(snap.functions || {})) updateFunctionRow(main, n, f);
      charts.tick();
    },
    dispose: charts.dispose,
  };
}

function updateFunctionRow(root, n, f) {
  const k = "f/" + n + "/";
  setText(root, k + "inv", num(f.invocations));
  setText(root, k + "rate", rate(f.per_second));
  setText(root, k + "err", num(f.errors));
  setText(root, k + "thr", num(f.throttles));
  setText(root, k + "wait", num(f.waiting));
  setText(root, k + "cold", num(f.cold_starts));
  setText(root, k + "p50", msf(f.p50_ms));
  setText(root, k + "p99", msf(f.p99_ms));
  setText(root, k + "mem", f.max_memory_mb ? f.max_memory_mb + " MB" : "–");
  setText(root, k + "envs", f.busy + "/" + f.environments);
}

function functionPage(main, name) {
  const info = state.pipeline.functions.find(f => f.name === name);
  if (!info) { main.append(h("p", { class: "error" }, "no function " + name)); return; }
  const k = "f/" + name + "/";
  const kpis = h("div", { class: "kpis" },
    kpi("Invocations", k + "inv"), kpi("Per second", k + "rate"), kpi("Errors", k + "err"), kpi("Throttles", k + "thr"),
    kpi("Cold starts", k + "cold"), kpi("Duration p50", k + "p50"), kpi("Duration p99", k + "p99"),
    kpi("Max memory", k + "mem"), kpi("Busy / warm environments", k + "envs"));
  const invBody = h("tbody");
  const logs = h("pre", { class: "log", id: "log-tail" });
  const invLogs = h("div", { id: "invocation-logs" }, h("p", { class: "muted" }, "Click an invocation to see its log lines."));
  let selected = null;
  let newestLine = null; // the key of the newest log line shown
  const lineKey = l => l.time + " " + l.environment + " " + l.text;
  const invocationRow = inv => h("tr", {
    class: "click" + (inv.request_id === selected ? " selected" : ""), "data-request": inv.request_id,
    onclick: () => { selected = inv.request_id; showInvocation(inv.request_id); for (const tr of invBody.children) tr.classList.toggle("selected", tr.dataset.request === selected); },
  },
    h("td", { class: "mono" }, inv.request_id), h("td", {}, time(Date.parse(inv.end))),
    h("td", { class: "num" }, msf(inv.duration_ns / 1e6)), h("td", { class: "num" }, inv.init_duration_ns ? msf(inv.init_duration_ns / 1e6) : ""),
    h("td", { class: "num" }, inv.max_memory_mb + " MB"),
    h("td", {}, inv.status ? h("span", { class: "pill bad" }, inv.status + (inv.error_type ? " · " + inv.error_type : "")) : h("span", { class: "pill ok" }, "ok")));
  // Each poll adds only what is new: the rows and lines shown stay.
  const load = async () => {
    let page;
    try { page = await api("api/functions/" + encodeURIComponent(name)); } catch (e) { logs.textContent = e.message; newestLine = null; return; }
    const shown = new Set([...invBody.rows].map(tr => tr.dataset.request));
    invBody.prepend(...page.invocations.filter(inv => !shown.has(inv.request_id)).map(invocationRow));
    while (invBody.rows.length > page.invocations.length) invBody.lastElementChild.remove();

    const from = newestLine === null ? 0 : page.logs.findLastIndex(l => lineKey(l) === newestLine) + 1;
    if (from === 0) logs.replaceChildren();
    if (from < page.logs.length) {
      const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 8;
      logs.append(...page.logs.slice(from).map(logLine));
      while (logs.childElementCount > page.logs.length) logs.firstElementChild.remove();
      if (atBottom) logs.scrollTop = logs.scrollHeight;
      newestLine = lineKey(page.logs[page.logs.length - 1]);
    }
  };
  const showInvocation = async id => {
    try {
      const r = await api(`api/functions/${encodeURIComponent(name)}/invocations/${encodeURIComponent(id)}`);
      invLogs.replaceChildren(h("h2", {}, "Invocation " + id),
        h("pre", { class: "log", id: "invocation-log" }, r.logs.length ? r.logs.map(logLine) : "its log lines are no longer kept"));
    } catch (e) { invLogs.replaceChildren(h("p", { class: "error" }, e.message)); }
  };
  main.append(
    h("p", {}, h("a", { href: "#/functions" }, "← Functions")),
    h("h1", {}, name),
    h("p", { class: "sub" }, [info.kind === "route" ? "Route " + info.routes.join(", ") : "Job" + (info.topics ? " reading " + info.topics.join(", ") : "") + (info.dataset ? " → " + info.dataset : ""),
      info.filter ? " · FILTER " + info.filter : "", ` · ${info.memory_mb} MB · timeout ${info.timeout_ms / 1000} s · up to ${info.concurrency} environments`].join("")),
    kpis,
    h("div", { class: "row" },
      h("div", { class: "panel" }, h("h2", {}, "Recent invocations"), h("div", { class: "scroll" }, h("table", { id: "invocations" },
        h("thead", {}, h("tr", {}, h("th", {}, "Request id"), h("th", {}, "Ended (UTC)"), h("th", { class: "num" }, "Duration"),
          h("th", { class: "num" }, "Init"), h("th", { class: "num" }, "Memory"), h("th", {}, "Status"))), invBody))),
      h("div", { class: "panel" }, invLogs)),
    h("div", { class: "panel" }, h("h2", {}, "Log (last lines, START/END/REPORT included)"), logs));
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 2000);
  return {
    live: "functions",
    update(snap) { const f = (snap.functions || {})[name]; if (f) updateFunctionRow(kpis, name, f); },
    dispose() { clearInterval(timer); },
  };
}

// A log line is a block of its own: adding one lays out that line, not
// the whole log again.
function logLine(l) {
  const cls = /^(START|END) RequestId/.test(l.text) ? "platform" : /^(REPORT|INIT_REPORT) /.test(l.text) ? "report" : "";
  return h("div", { class: cls }, h("span", { class: "env" }, l.environment.replace(/^.*#/, "#") + " "), l.text);
}

// ---- Topics --------------------------------------------------------------

function topicsPage(main, name) {
  const topics = state.pipeline.topics;
  name = name || topics[0];
  const list = h("div", { class: "list" }, topics.map(t => h("a", { href: "#/topics/" + t, class: t === name ? "active" : "" }, t, h("span", { "data-k": "t/" + t + "/records" }, "–"))));
  const partBody = h("tbody");
  const recBody = h("tbody");
  const key = h("input", { type: "text", id: "key", placeholder: "search by key (e.g. a user name)", spellcheck: "false" });
  const part = h("select", { id: "partition" }, h("option", { value: "" }, "all partitions"));
  const note = h("span", { class: "muted" });
  const load = async () => {
    const q = new URLSearchParams({ limit: "50" });
    if (key.value.trim()) q.set("key", key.value.trim());
    if (part.value) q.set("partition", part.value);
    note.textContent = "reading…";
    try {
      const r = await api(`api/topics/${encodeURIComponent(name)}/records?` + q);
      recBody.replaceChildren(...r.records.map(rec => h("tr", {},
        h("td", { class: "num" }, rec.partition), h("td", { class: "num" }, num(rec.offset)), h("td", {}, time(rec.timestamp)),
        h("td", { class: "mono" }, rec.key || h("span", { class: "muted" }, "null")),
        h("td", { class: "mono" }, h("div", { class: "value" }, rec.value + (rec.truncated ? " …" : ""))))));
      note.textContent = `${r.records.length} newest record${r.records.length === 1 ? "" : "s"}` + (key.value.trim() ? ` with this key, among the newest ${num(r.searched_per_partition)} of each partition` : "");
    } catch (e) { note.textContent = e.message; }
  };
  key.addEventListener("keydown", e => { if (e.key === "Enter") load(); });
  main.append(h("h1", {}, "Topics"),
    h("p", { class: "sub" }, "Partitions, offsets and the newest records, like kcat -C."),
    h("div", { class: "split" }, list, h("div", {},
      h("div", { class: "panel" }, h("h2", {}, name), h("table", { id: "partitions" },
        h("thead", {}, h("tr", {}, h("th", {}, "Partition"), h("th", { class: "num" }, "Start offset"), h("th", { class: "num" }, "End offset"),
          h("th", { class: "num" }, "Records"), h("th", { class: "num" }, "Records/s"))), partBody)),
      h("div", { class: "panel" }, h("h2", {}, "Newest records"),
        h("div", { class: "toolbar" }, key, part, h("button", { onclick: load, id: "search" }, "Read"), note),
        h("div", { class: "scroll" }, h("table", { id: "records" }, h("thead", {}, h("tr", {},
          h("th", { class: "num" }, "Partition"), h("th", { class: "num" }, "Offset"), h("th", {}, "Timestamp (UTC)"), h("th", {}, "Key"), h("th", {}, "Value"))), recBody))))));
  load();
  return {
    live: "topics",
    update(snap) {
      for (const [n, t] of Object.entries(snap.topics || {})) setText(list, "t/" + n + "/records", num(t.records));
      const t = (snap.topics || {})[name];
      if (!t) return;
      if (partBody.rows.length !== t.partitions.length) {
        part.replaceChildren(part.options[0], ...t.partitions.map(p => h("option", { value: p.partition }, "partition " + p.partition)));
        partBody.replaceChildren(...t.partitions.map(p => h("tr", {}, h("td", {}, p.partition),
          ["start", "end", "records", "rate"].map(c => h("td", { class: "num", "data-k": `p${p.partition}/${c}` })))));
        boundKeys.delete(partBody);
      }
      for (const p of t.partitions) {
        setText(partBody, `p${p.partition}/start`, num(p.start));
        setText(partBody, `p${p.partition}/end`, num(p.end));
        setText(partBody, `p${p.partition}/records`, num(p.end - p.start));
        setText(partBody, `p${p.partition}/rate`, rate(p.per_second));
      }
    },
  };
}

// ---- Datasets ------------------------------------------------------------

function datasetsPage(main, name, params) {
  const datasets = state.pipeline.datasets;
  name = name || (datasets[0] && datasets[0].name);
  const list = h("div", { class: "list" }, datasets.map(d => h("a", { href: "#/datasets/" + d.name, class: d.name === name ? "active" : "" }, d.name, h("span", { "data-k": "d/" + d.name + "/rows" }, "–"))));
  const body = h("div", {}, h("p", { class: "muted" }, "loading…"));
  main.append(h("h1", {}, "Datasets"),
    h("p", { class: "sub" }, "What the jobs landed: schema, dt partitions, files with their Kafka offset ranges, rows and dead letters."),
    h("div", { class: "split" }, list, body));
  const kpis = h("div", { class: "kpis" },
    kpi("Rows", "rows"), kpi("Files", "files"), kpi("Bytes", "bytes"), kpi("Newest dt", "dt"), kpi("Freshness", "fresh"), kpi("Dead letters", "rejected"));
  const preview = h("div", { id: "preview" });
  const loadRows = async (file, event) => {
    const q = new URLSearchParams();
    if (file) q.set("file", file);
    if (event) q.set("event", event);
    preview.replaceChildren(h("p", { class: "muted" }, "reading…"));
    try {
      const r = await api(`api/rows/${name}?` + q);
      preview.replaceChildren(
        h("p", { class: "muted" }, r.file ? `${r.file} · ${num(r.total)} rows` + (r.total > r.rows.length ? `, showing ${r.rows.length}` : "") : "no file yet"),
        r.match >= 0 ? h("div", { class: "panel" }, h("h2", {}, "Event " + event), rowCard(r.columns, r.rows[r.match])) : null,
        rowsTable(r.columns, r.rows, r.match, "rows"));
      const m = preview.querySelector("tr.match");
      if (m) { const box = m.closest(".scroll"); box.scrollTop = m.offsetTop - box.clientHeight / 2; }
    } catch (e) { preview.replaceChildren(h("p", { class: "error" }, e.message)); }
  };
  (async () => {
    let d;
    try { d = await api("api/datasets/" + name); } catch (e) { body.replaceChildren(h("p", { class: "error" }, e.message)); return; }
    const dead = h("div", {}, h("p", { class: "muted" }, "loading…"));
    body.replaceChildren(
      h("div", { class: "panel" }, h("h2", {}, name),
        h("p", { class: "muted" }, `landed by `, h("a", { href: "#/functions/" + d.function }, d.function), d.filter ? ` · FILTER ${d.filter}` : ""),
        kpis),
      h("div", { class: "row" },
        h("div", { class: "panel" }, h("h2", {}, "Schema"), h("table", { id: "schema" }, h("thead", {}, h("tr", {}, h("th", {}, "Column"), h("th", {}, "Type"))),
          h("tbody", {}, (d.schema || []).map(c => h("tr", {}, h("td", { class: "mono" }, c.name), h("td", { class: "muted" }, c.type)))))),
        h("div", { class: "panel" }, h("h2", {}, "Partitions by dt"), h("table", { id: "dts" }, h("thead", {}, h("tr", {}, h("th", {}, "dt"), h("th", { class: "num" }, "Files"), h("th", { class: "num" }, "Rows"), h("th", { class: "num" }, "Bytes"))),
          h("tbody", {}, d.partitions.map(p => h("tr", {}, h("td", { class: "mono" }, p.dt), h("td", { class: "num" }, num(p.files)), h("td", { class: "num" }, num(p.rows)), h("td", { class: "num" }, bytes(p.bytes)))))))),
      h("div", { class: "panel" }, h("h2", {}, `Files (${num(d.file_count)}${d.file_count > d.files.length ? ", newest " + d.files.length : ""})`),
        h("div", { class: "scroll" }, h("table", { id: "files" }, h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", { class: "num" }, "Partition"), h("th", { class: "num" }, "Offsets"),
          h("th", { class: "num" }, "Rows"), h("th", { class: "num" }, "Bytes"), h("th", {}, "Landed (UTC)"))),
          h("tbody", {}, d.files.map(f => h("tr", { class: "click" + (f.path === params.get("file") ? " selected" : ""), onclick: () => loadRows(f.path) },
            h("td", { class: "mono" }, f.path), h("td", { class: "num" }, f.partition), h("td", { class: "num mono" }, `${f.first_offset}–${f.last_offset}`),
            h("td", { class: "num" }, num(f.rows)), h("td", { class: "num" }, bytes(f.bytes)), h("td", {}, time(f.modified)))))))),
      h("div", { class: "panel" }, h("h2", {}, "Rows"), preview),
      h("div", { class: "panel" }, h("h2", {}, "Dead letters"), dead));
    updateKpis(state.snap);
    loadRows(params.get("file"), params.get("event"));
    try {
      const r = await api("api/rejected/" + name);
      dead.replaceChildren(r.rows.length
        ? h("div", {}, h("p", { class: "muted" }, `${num(r.total)} records could not be read as events; the newest:`), rowsTable(r.columns, r.rows, -1, "dead-letters"))
        : h("p", { class: "muted" }, "None: every record was a valid event."));
    } catch (e) { dead.replaceChildren(h("p", { class: "error" }, e.message)); }
  })();
  const updateKpis = snap => {
    const l = snap && snap.datasets && snap.datasets[name];
    if (!l) return;
    setText(kpis, "rows", num(l.rows)); setText(kpis, "files", num(l.files)); setText(kpis, "bytes", bytes(l.bytes));
    setText(kpis, "dt", l.newest_dt || "–"); setText(kpis, "fresh", dur(l.freshness_sec)); setText(kpis, "rejected", num(l.rejected));
  };
  return {
    live: "datasets",
    update(snap) {
      for (const [n, d] of Object.entries(snap.datasets || {})) setText(list, "d/" + n + "/rows", num(d.rows));
      updateKpis(snap);
    },
  };
}

function cell(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "null");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function rowsTable(columns, rows, match, id) {
  return h("div", { class: "scroll" }, h("table", { id, class: "rows" },
    h("thead", {}, h("tr", {}, columns.map(c => h("th", {}, c)))),
    h("tbody", {}, rows.map((row, i) => h("tr", { class: i === match ? "match" : "" },
      columns.map(c => h("td", { class: "mono" }, h("div", { class: "value", title: text(row[c]) }, cell(row[c])))))))));
}

function text(v) { return v === null || v === undefined ? "null" : typeof v === "object" ? JSON.stringify(v) : String(v); }

// One row, column by column: the event the trace led to.
function rowCard(columns, row) {
  return h("table", { class: "kv", id: "event-row" }, h("tbody", {}, columns.map(c => h("tr", {}, h("td", {}, c), h("td", {}, cell(row[c]))))));
}

// ---- charts from a result's shape ---------------------------------------

const isTime = c => /^(DATE|TIMESTAMP)/i.test(c.type);
const isNum = c => /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/i.test(c.type);
const isCat = c => /VARCHAR|STRING|BOOL|ENUM|UUID/i.test(c.type);

// chartSpec picks a chart from the result's shape: a time column and
// numbers → lines (one per number, or one per category of a category
// column); a category and numbers → bars (also for fewer than three
// times). ys, if given, names the numbers to plot. null when nothing fits.
function chartSpec(res, ys) {
  const cols = res.columns, rows = res.rows;
  if (!rows.length) return null;
  const t = cols.findIndex(isTime);
  const nums = cols.map((c, i) => (isNum(c) && (!ys || ys.includes(c.name)) ? i : -1)).filter(i => i >= 0);
  const cat = cols.findIndex(isCat);
  const times = t >= 0 ? new Set(rows.map(r => r[t])).size : 0;
  if (t >= 0 && nums.length && times < 3 && cat < 0) {
    return { kind: "bar", categories: rows.map(r => String(r[t]).replace("T", " ").replace(/:00Z$/, "")),
      series: Object.fromEntries(nums.slice(0, 3).map(i => [cols[i].name, rows.map(r => Number(r[i]))])) };
  }
  if (t >= 0 && nums.length) {
    // The data's own span, at least a minute: with a few points, or one
    // time, ECharts would pad the axis out to days.
    const ms = rows.map(r => Date.parse(r[t]));
    const lo = ms.reduce((a, b) => Math.min(a, b)), hi = ms.reduce((a, b) => Math.max(a, b));
    const mid = (lo + hi) / 2, half = Math.max(30e3, (hi - lo) / 2);
    const span = { min: mid - half, max: mid + half };
    const series = {};
    if (cat >= 0 && cat !== t) {
      rows.forEach((r, j) => (series[String(r[cat])] ||= []).push([ms[j], Number(r[nums[0]])]));
      return { kind: "line", title: cols[nums[0]].name + " by " + cols[cat].name, series, span };
    }
    for (const i of nums.slice(0, 4)) series[cols[i].name] = rows.map((r, j) => [ms[j], Number(r[i])]);
    return { kind: "line", series, span };
  }
  if (cat >= 0 && nums.length) {
    const shown = rows.slice(0, 50);
    return {
      kind: "bar", categories: shown.map(r => String(r[cat])),
      series: Object.fromEntries(nums.slice(0, 3).map(i => [cols[i].name, shown.map(r => Number(r[i]))])),
    };
  }
  return null;
}

// ECharts draws the charts of results (Query, Game); the live pages do
// without its 700 KB, so it loads with the first such chart.
let echartsLoaded = null;
function withECharts(draw) {
  echartsLoaded ||= new Promise((resolve, reject) => {
    const script = h("script", { src: "vendor/echarts.min.js" });
    script.onload = resolve;
    script.onerror = () => reject(new Error("cannot load vendor/echarts.min.js"));
    document.head.append(script);
  });
  return echartsLoaded.then(draw);
}

function drawChart(el, spec) {
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const base = {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 56, right: 16, top: 36, bottom: spec.kind === "bar" ? 64 : 28 },
    yAxis: { type: "value", splitLine: { lineStyle: { color: "#eef0f4" } } },
  };
  if (spec.kind === "line") {
    chart.setOption({ ...base, xAxis: { type: "time", ...spec.span },
      series: Object.entries(spec.series).map(([name, data]) => ({ name, type: "line", data, showSymbol: data.length < 40 })) });
  } else {
    chart.setOption({ ...base, xAxis: { type: "category", data: spec.categories, axisLabel: { rotate: spec.categories.length > 8 ? 35 : 0, interval: 0 } },
      series: Object.entries(spec.series).map(([name, data]) => ({ name, type: "bar", data })) });
  }
  return chart;
}

function resultTable(res, id) {
  return h("div", { class: "scroll" }, h("table", { id, class: "rows" },
    h("thead", {}, h("tr", {}, res.columns.map(c => h("th", { title: c.type, class: isNum(c) ? "num" : "" }, c.name)))),
    h("tbody", {}, res.rows.map(r => h("tr", {}, r.map((v, i) => h("td", { class: isNum(res.columns[i]) ? "num" : "mono" },
      h("div", { class: "value", title: text(v) }, cell(v)))))))));
}

// A result: its chart (when its shape fits one) above its table.
function renderResult(box, res, charts, id, ys) {
  const spec = chartSpec(res, ys);
  const chartEl = spec ? h("div", { class: "chart tall", id: id + "-chart", "data-kind": spec.kind }) : null;
  box.replaceChildren(
    h("p", { class: "muted", id: id + "-meta" }, `${num(res.total)} row${res.total === 1 ? "" : "s"} in ${num(res.ms)} ms` + (res.total > res.rows.length ? ` (showing ${res.rows.length})` : "")),
    chartEl, resultTable(res, id));
  if (spec) withECharts(() => { if (chartEl.isConnected) charts.push(drawChart(chartEl, spec)); });
}

function queryError(e) {
  return h("pre", { class: "log error-box", id: "query-error" }, e.message);
}

// ---- Query ---------------------------------------------------------------

function queryPage(main, _name, params) {
  const editor = h("textarea", { id: "sql", rows: 8, spellcheck: "false" },
    params.get("sql") || "SELECT event_type, count(*) AS events\nFROM extracted_events\nGROUP BY event_type\nORDER BY events DESC");
  const out = h("div", { id: "result" });
  const csv = h("a", { id: "csv", class: "button ghost", href: "#", download: "questlog-query.csv" }, "Download CSV");
  const reportsBox = h("div", { class: "list", id: "reports" });
  const tablesBox = h("div", { class: "list", id: "tables" });
  let charts = [];
  const clearCharts = () => { charts.forEach(c => c.dispose()); charts = []; };
  const run = async () => {
    const sql = editor.value;
    csv.href = "api/query.csv?sql=" + encodeURIComponent(sql);
    clearCharts();
    out.replaceChildren(h("p", { class: "muted" }, "running…"));
    try {
      const res = await api("api/query", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql }) });
      renderResult(out, res, charts, "result-table");
    } catch (e) { out.replaceChildren(queryError(e)); }
  };
  editor.addEventListener("keydown", e => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  main.append(h("h1", {}, "Query"),
    h("p", { class: "sub" }, "SQL over the lake (DuckDB, sandboxed: it reads the datasets and nothing else). Every dataset is a table; ",
      h("code", {}, "rejected"), " holds the dead letters, ", h("code", {}, "all_events"), " every event dataset."),
    h("div", { class: "split" },
      h("div", {}, h("h3", {}, "Reports"), reportsBox, h("h3", {}, "Tables"), tablesBox),
      h("div", {},
        h("div", { class: "panel" }, editor,
          h("div", { class: "toolbar", style: "margin: 10px 0 0" }, h("button", { id: "run", onclick: run }, "Run"),
            h("span", { class: "muted" }, "Ctrl+Enter"), csv)),
        h("div", { class: "panel" }, out))));
  api("api/reports").then(reports => reportsBox.replaceChildren(...reports.map(r =>
    h("a", { href: "#", title: r.description, "data-report": r.name, onclick: e => { e.preventDefault(); editor.value = r.sql.trim(); run(); } }, r.title))))
    .catch(e => reportsBox.replaceChildren(h("p", { class: "error" }, e.message)));
  api("api/tables").then(tables => tablesBox.replaceChildren(...tables.map(t =>
    h("a", { href: "#", title: t.columns.map(c => c.name + " " + c.type).join("\n"), onclick: e => { e.preventDefault(); editor.value = `SELECT *\nFROM ${t.name}\nLIMIT 100`; run(); } },
      t.name, h("span", {}, num(t.rows))))))
    .catch(e => tablesBox.replaceChildren(h("p", { class: "error" }, e.message)));
  if (params.get("sql")) run();
  const onResize = () => charts.forEach(c => c.resize());
  window.addEventListener("resize", onResize);
  return { dispose() { clearCharts(); window.removeEventListener("resize", onResize); } };
}

// ---- Game ----------------------------------------------------------------

// The dashboard's panels: [name, title, the numbers to plot].
const gameLayout = [
  ["events_per_minute", "Events per minute by type (the last hour)"],
  ["daily_active_players", "Daily active players", ["players"]],
  ["purchases_by_item", "Purchases and revenue (gold) by item", ["revenue_gold"]],
  ["revenue_by_rarity", "Revenue (gold) by rarity", ["revenue_gold"]],
  ["guild_joins", "Guild joins per guild"],
  ["top_spenders", "Top spenders (gold)", ["spent_gold"]],
];

function gamePage(main) {
  let charts = [];
  const boxes = {};
  const grid = h("div", { class: "game-grid" }, gameLayout.map(([name, title]) =>
    h("div", { class: "panel", id: "panel-" + name }, h("h2", {}, title), boxes[name] = h("div", {}, h("p", { class: "muted" }, "querying…")))));
  const player = h("input", { type: "text", id: "player", placeholder: "a player's name", spellcheck: "false" });
  const playerOut = h("div", { id: "player-result" });
  const lookup = async () => {
    const name = player.value.trim();
    if (!name) return;
    playerOut.replaceChildren(h("p", { class: "muted" }, "looking up…"));
    try {
      const p = await api("api/player/" + encodeURIComponent(name));
      const inv = p.inventory || {};
      const items = inv.items ? Object.entries(inv.items) : [];
      playerOut.replaceChildren(
        h("div", { class: "row" },
          h("div", { class: "panel" }, h("h2", {}, "Inventory"),
            p.inventory_status === 200 ? h("div", {},
              h("p", { class: "muted" }, `${num(inv.purchases)} purchase${inv.purchases === 1 ? "" : "s"} · from GET /inventory/${name}`),
              h("table", { id: "inventory" }, h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", { class: "num" }, "Owned"))),
                h("tbody", {}, items.map(([item, n]) => h("tr", {}, h("td", {}, item), h("td", { class: "num" }, num(n)))))),
              h("p", { class: "muted" }, "Spent: " + (Object.entries(inv.spent_cents || {}).map(([c, v]) => `${(v / 100).toFixed(2)} ${c}`).join(", ") || "nothing"))) :
              h("p", { class: "muted" }, (p.inventory && p.inventory.message) || p.inventory_error || "no inventory")),
          h("div", { class: "panel" }, h("h2", {}, "Recent events"), resultTable(p.events, "player-events"))));
    } catch (e) { playerOut.replaceChildren(h("p", { class: "error" }, e.message)); }
  };
  player.addEventListener("keydown", e => { if (e.key === "Enter") lookup(); });
  const load = () => {
    charts.forEach(c => c.dispose());
    charts = [];
    for (const [name, , ys] of gameLayout) {
      api("api/game/" + name).then(r => renderResult(boxes[name], r.result, charts, "game-" + name, ys))
        .catch(e => boxes[name].replaceChildren(queryError(e)));
    }
  };
  main.append(h("h1", {}, "Game"),
    h("p", { class: "sub" }, "The studio's numbers, from the lake. ", h("button", { class: "ghost", onclick: load }, "Refresh")),
    h("div", { class: "panel" }, h("h2", {}, "Player lookup"),
      h("div", { class: "toolbar" }, player, h("button", { id: "lookup", onclick: lookup }, "Look up")), playerOut),
    grid);
  load();
  const onResize = () => charts.forEach(c => c.resize());
  window.addEventListener("resize", onResize);
  return { dispose() { charts.forEach(c => c.dispose()); window.removeEventListener("resize", onResize); } };
}

// ---- start ---------------------------------------------------------------

(async () => {
  try {
    state.pipeline = await api("api/pipeline");
  } catch (e) {
    document.getElementById("main").replaceChildren(h("p", { class: "error" }, "cannot load the pipeline: " + e.message));
    return;
  }
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => { if (listen() && state.snap && state.page.update) state.page.update(state.snap); });
  route();
})();
