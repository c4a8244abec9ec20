"use strict";
// The dashboard page: follows /api/events and redraws the topology. Every text goes through
// textContent: nothing a node logs can become markup.
const STATES = ["starting", "serving", "running", "restarting", "stopping", "failed", "done"];
const token = new URLSearchParams(location.search).get("token") || "";
const withToken = (path) => path + "?token=" + encodeURIComponent(token);
const previous = new Map(); // label -> {calls per method, time}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const colour = (state) => "--c: var(--" + (STATES.includes(state) ? state : "starting") + ")";
const secs = (s) => s == null ? "–" : s < 60 ? s.toFixed(0) + "s" : s < 3600 ? (s / 60).toFixed(1) + "m" : (s / 3600).toFixed(1) + "h";
const bytes = (b) => b == null ? "–" : b < 1 << 20 ? (b / 1024).toFixed(0) + " KiB" : (b / (1 << 20)).toFixed(1) + " MiB";
const ms = (s) => s == null ? "–" : s * 1000 < 1 ? (s * 1e6).toFixed(0) + "µs" : (s * 1000).toFixed(1) + "ms";
const group = (label) => label.includes("/") ? label.slice(0, label.lastIndexOf("/")) : label;

// Calls per second of each method served ("method") and made ("callee method") since the last event.
function rates(node, now) {
  const counted = [...node.methods.map((m) => [m.method, m.calls]), ...node.made.map((c) => [c.callee + " " + c.method, c.calls])];
  const before = previous.get(node.label);
  const current = { time: now, calls: Object.fromEntries(counted) };
  previous.set(node.label, current);
  const rate = {};
  for (const [key, calls] of counted) {
    const was = before && before.calls[key];
    rate[key] = before && was != null && now > before.time ? (calls - was) / ((now - before.time) / 1000) : null;
  }
  return rate;
}

// A table of counters: one row per entry of `rows`, `key` naming its rate, `cells` its first columns.
function counters(heads, rows, key, cells, rate, attrs) {
  const head = el("tr", {}, ...[...heads, "calls", "/s", "p50", "p99", "errors"].map((h) => el("th", {}, h)));
  const body = rows.map((m) => el("tr", attrs(m), ...cells(m).map((c) => el("td", {}, c)),
    el("td", { class: "method-calls" }, m.calls),
    el("td", {}, rate[key(m)] == null ? "–" : rate[key(m)].toFixed(1)),
    el("td", {}, ms(m.p50_seconds)), el("td", {}, ms(m.p99_seconds)), el("td", {}, m.errors)));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

function methods(node, rate) {
  if (!node.methods.length) return el("p", { class: "none" }, node.kind === "courier" ? "no calls served yet" : "");
  return counters(["method"], node.methods, (m) => m.method, (m) => [m.method], rate, (m) => ({ "data-method": m.method }));
}

function made(node, rate) {
  if (!node.made.length) return "";
  const table = counters(["calls made to", "method"], node.made, (c) => c.callee + " " + c.method,
    (c) => [c.callee, c.method], rate, (c) => ({ "data-callee": c.callee, "data-method": c.method }));
  table.className = "made";
  return table;
}

// The node's slowest recent calls, each with the nodes its trace went through.
function slowest(node) {
  if (!node.slowest.length) return "";
  const calls = node.slowest.map((c) => el("li", { "data-trace": c.trace, "data-chain": c.chain.join(" → ") },
    el("span", { class: "took" }, ms(c.seconds)), " ", c.method + (c.ok ? "" : " (failed)"), " ",
    el("span", { class: "chain" }, c.chain.join(" → ")), " ", el("span", { class: "trace", title: c.trace }, c.trace.slice(0, 8))));
  return el("div", { class: "slowest" }, el("h4", {}, "slowest recent calls"), el("ol", {}, ...calls));
}

function card(node, now) {
  const rate = rates(node, now);
  const fields = [
    ["kind", node.kind || "?"], ["pid", node.pid ?? "–"], ["uptime", secs(node.uptime_seconds)],
    ["restarts", node.restarts], ["CPU", node.cpu_seconds == null ? "–" : node.cpu_seconds.toFixed(2) + "s"],
    ["RSS", bytes(node.rss_bytes)], ["calls", node.calls], ["errors", node.errors],
    ["calls made", node.calls_made], ["errors made", node.errors_made],
  ];
  const dl = el("dl", {}, ...fields.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "f-" + k.toLowerCase().replace(" ", "-") }, v)]));
  return el("section", {
    class: "node", style: colour(node.state), "data-label": node.label, "data-state": node.state,
    "data-calls": node.calls, "data-made": node.calls_made, "data-uptime": node.uptime_seconds.toFixed(3), "data-cpu": node.cpu_seconds ?? "",
    "data-restarts": node.restarts, "data-kind": node.kind || "", "data-pid": node.pid ?? "",
  },
    el("h3", {}, el("span", { class: "label" }, node.label), el("span", { class: "badge state", style: colour(node.state) }, node.state)),
    node.outcome && node.state === "failed" ? el("div", { class: "outcome" }, node.outcome) : "",
    dl, methods(node, rate), made(node, rate), slowest(node), el("pre", { class: "log" }, node.log.join("\n")));
}

function draw(state) {
  const { program, nodes } = state;
  const now = Date.now();
  document.title = program.program + " · lp";
  document.getElementById("program").textContent = program.program;
  const badge = document.getElementById("program-state");
  badge.textContent = program.state;
  badge.style.cssText = colour(program.state === "running" ? "running" : program.state);
  document.getElementById("summary").textContent =
    `${program.launch_type} · launcher pid ${program.pid} · launched ${new Date(program.started_unix * 1000).toLocaleString()} · up ${secs(program.uptime_seconds)} · ${program.nodes} nodes`;
  const failure = document.getElementById("failure");
  failure.hidden = !program.failure;
  failure.textContent = program.failure ? `node ${program.failure.node} failed: ${program.failure.error}` : "";
  const groups = new Map();
  for (const node of nodes) {
    const g = group(node.label);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(node);
  }
  const sections = [...groups].map(([name, members]) =>
    el("div", { class: "group", "data-group": name }, el("h2", {}, name + (members.length > 1 ? ` [${members.length}]` : "")),
      el("div", { class: "nodes" }, ...members.map((n) => card(n, now)))));
  document.getElementById("topology").replaceChildren(...sections);
  document.getElementById("updated").textContent = "updated " + new Date(now).toLocaleTimeString();
}

function legend() {
  document.getElementById("legend").replaceChildren(...STATES.map((s) => el("li", { style: colour(s) }, s)));
  document.getElementById("metrics-link").href = withToken("/metrics");
  document.getElementById("nodes-link").href = withToken("/api/nodes");
}

function follow() {
  const events = new EventSource(withToken("/api/events"));
  events.onmessage = (e) => draw(JSON.parse(e.data));
  events.onerror = () => {
    const badge = document.getElementById("program-state");
    if (badge.textContent === "running" || badge.textContent === "connecting") badge.textContent = "disconnected";
  };
}

legend();
follow();
