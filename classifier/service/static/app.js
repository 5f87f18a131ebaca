/* Headline topics page: plain JavaScript, no build step, talks only to the public /v1 API. */
"use strict";

const BATCH = 100; // headlines per /v1/predict call (the service's default limit is 256)
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#7f7f7f", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

const state = {
  labels: [],          // the model's topics, in its order
  rows: [],            // {index, line, headline, record, topic, confidence, scores, secondary, problem, kind}
  upload: null,        // the CSV file last read into the box (readUpload)
  source: null,        // the file the shown rows came from, whose columns the download keeps
  sortKey: "index",
  sortDir: 1,
  filter: "",
  clusteredFor: null,  // the headlines the shown clusters belong to
  busy: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function colourOf(topic) {
  const i = state.labels.indexOf(topic);
  return PALETTE[(i < 0 ? state.labels.length : i) % PALETTE.length];
}

function badge(topic) {
  return el("span", { class: "badge", style: `background:${colourOf(topic)}` }, topic);
}

/* ---- talking to the API ---------------------------------------------------------------- */

class ApiProblem extends Error {
  constructor(message, status, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiProblem("Could not reach the service; is it running?", 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    const message = error && error.message ? error.message : `the service answered ${response.status} ${response.statusText}`;
    throw new ApiProblem(message, response.status, error && error.field);
  }
  return data;
}

/* A message for people: which line, in words, without the JSON field syntax. */
function explain(problem, lines) {
  let message = problem.message;
  const match = /^headlines\[(\d+)\]$/.exec(problem.field || "");
  if (match && lines[Number(match[1])] !== undefined) {
    message = message.replace(`'${problem.field}'`, "this headline");
    return `Line ${lines[Number(match[1])]}: ${message}`;
  }
  if (problem.status === 413) return `Too much text in one request: ${message}.`;
  if (problem.status === 404) return "This service does not offer that (no such endpoint).";
  if (problem.status === 503) return `The service is busy: ${message}. Try again in a moment.`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/* ---- input ----------------------------------------------------------------------------- */

/* Non-blank lines with their 1-based line numbers, so errors can point at the right one. */
function readHeadlines() {
  const items = [];
  $("headlines").value.split(/\r\n|\r|\n/).forEach((text, i) => {
    if (text.trim()) items.push({ line: i + 1, text: text.trim() });
  });
  return items;
}

async function loadFile(file) {
  hideError("input-error");
  if (!file) return;
  try {
    const upload = readUpload(await file.text(), file.name);
    state.upload = upload;
    $("headlines").value = upload.text;
    const skipped = skippedText(upload.skipped);
    setStatus(`Read ${upload.records.length} headlines from ${file.name}${skipped ? `; ${skipped}` : ""}. ` +
      `Press Tag; the download keeps the file's other columns.`);
    $("tag-button").focus();
  } catch (err) {
    showError("input-error", `Could not read that file: ${err.message}.`);
  }
}

function showError(id, message) {
  const node = $(id);
  node.textContent = message;
  node.hidden = false;
}

function hideError(id) {
  $(id).hidden = true;
  $(id).textContent = "";
}

function setStatus(message) {
  $("status").textContent = message;
}

/* ---- tagging --------------------------------------------------------------------------- */

/* /v1/predict for one batch. A headline the API refuses by name (field "headlines[k]": too
   long, invisible) is marked on its row and the rest of the batch is sent again, so one bad line
   never costs the others their topics. Any other refusal stops the run. */
async function predictBatch(chunk) {
  const out = new Map(); // item -> prediction or {problem}
  let todo = chunk;
  while (todo.length) {
    try {
      const data = await api("POST", "/v1/predict", { headlines: todo.map((it) => it.text) });
      data.predictions.forEach((p, k) => out.set(todo[k], p));
      todo = [];
    } catch (problem) {
      const match = /^headlines\[(\d+)\]$/.exec(problem.field || "");
      if (problem.status !== 400 || !match || !todo[Number(match[1])]) {
        throw new ApiProblem(explain(problem, todo.map((it) => it.line)), problem.status);
      }
      const bad = todo[Number(match[1])];
      const message = problem.message.replace(`'${problem.field}'`, "this headline");
      out.set(bad, { problem: message, kind: /characters long/.test(message) ? "over-long" : "not tagged" });
      todo = todo.filter((it) => it !== bad);
    }
  }
  return chunk.map((it) => out.get(it));
}

async function tag(event) {
  event.preventDefault();
  if (state.busy) return;
  hideError("input-error");
  const items = readHeadlines();
  if (!items.length) {
    showError("input-error", "There is nothing to tag: paste at least one headline.");
    $("headlines").focus();
    return;
  }
  // the file's rows go with the headlines only while the box still holds what was read from it
  const upload = state.upload && state.upload.text === $("headlines").value ? state.upload : null;
  if (upload) items.forEach((it, k) => { it.record = upload.records[k]; });
  state.busy = true;
  $("tag-button").disabled = true;
  const rows = [];
  try {
    for (let start = 0; start < items.length; start += BATCH) {
      const chunk = items.slice(start, start + BATCH);
      setStatus(`Tagging… ${start} of ${items.length}`);
      (await predictBatch(chunk)).forEach((p, k) => {
        const item = chunk[k];
        const row = { index: start + k + 1, line: item.line, headline: item.text, record: item.record || null };
        if (p.problem) Object.assign(row, { topic: "", confidence: -1, scores: {}, secondary: [], problem: p.problem, kind: p.kind });
        else Object.assign(row, { topic: p.topic, confidence: p.confidence, scores: p.scores, secondary: p.topics.filter((t) => t !== p.topic), problem: null });
        rows.push(row);
      });
    }
    state.rows = rows;
    state.source = upload;
    state.clusteredFor = null;
    clearClusters("Press Find clusters to group these headlines.");
    setStatus(tagSummary(rows, upload));
    renderResults();
  } catch (problem) {
    showError("input-error", problem.message);
    setStatus("");
    $("headlines").focus();
  } finally {
    state.busy = false;
    $("tag-button").disabled = false;
  }
}

/* "Tagged 5 of 6 headlines; not tagged: line 2 (over-long). From upload.csv: skipped 1 row (...)." */
function tagSummary(rows, upload) {
  const bad = rows.filter((r) => r.problem);
  const good = rows.length - bad.length;
  let text = bad.length
    ? `Tagged ${good} of ${rows.length} headlines; not tagged: ` +
      bad.map((r) => `line ${r.line} (${r.kind}: ${r.problem})`).join(", ") + "."
    : `Tagged ${good} headline${good === 1 ? "" : "s"}.`;
  const skipped = upload ? skippedText(upload.skipped) : "";
  if (skipped) text += ` From ${upload.name}: ${skipped}.`;
  return text;
}

function visibleRows() {
  const rows = state.rows.filter((r) => !state.filter || r.topic === state.filter);
  const key = state.sortKey, dir = state.sortDir;
  return rows.sort((a, b) => {
    const x = a[key], y = b[key];
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return (order || a.index - b.index) * dir;
  });
}

function resultRow(r) {
  if (r.problem) {
    const shown = r.headline.length > 200 ? `${r.headline.slice(0, 200)}…` : r.headline;
    return el("tr", { "data-topic": "", "data-problem": r.kind, class: "problem" },
      el("td", { class: "num" }, r.index),
      el("td", { class: "headline" }, shown),
      el("td", { class: "topic" }, el("span", { class: "badge problem" }, r.kind)),
      el("td", { class: "confidence", "data-value": "" }, "—"),
      el("td", { class: "secondary" }, `Not tagged: ${r.problem}`));
  }
  const pct = Math.round(r.confidence * 100);
  return el("tr", { "data-topic": r.topic },
    el("td", { class: "num" }, r.index),
    el("td", { class: "headline" }, r.headline),
    el("td", { class: "topic" }, badge(r.topic)),
    el("td", { class: "confidence", "data-value": r.confidence.toFixed(4) },
      el("span", { class: "bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct), "aria-label": `confidence ${pct}%` },
        el("span", { class: "fill", style: `width:${pct}%;background:${colourOf(r.topic)}` })),
      el("span", { class: "pct" }, `${pct}%`)),
    el("td", { class: "secondary" }, ...r.secondary.map(badge)));
}

function renderResults() {
  const body = $("results").tBodies[0];
  const rows = visibleRows();
  const fragment = document.createDocumentFragment();
  for (const r of rows) fragment.append(resultRow(r));
  body.replaceChildren(fragment);
  $("results-empty").hidden = state.rows.length > 0;
  $("download-button").disabled = state.rows.length === 0;
  $("result-count").textContent = state.rows.length ? `${rows.length} of ${state.rows.length} shown` : "";
  for (const th of $("results").tHead.rows[0].cells) {
    const button = th.querySelector("button");
    if (!button) continue;
    th.setAttribute("aria-sort", button.dataset.sort === state.sortKey ? (state.sortDir > 0 ? "ascending" : "descending") : "none");
  }
}

function sortBy(key) {
  if (state.sortKey === key) state.sortDir = -state.sortDir;
  else {
    state.sortKey = key;
    state.sortDir = key === "confidence" ? -1 : 1; // most confident first is the useful start
  }
  renderResults();
}

/* What is shown (filter and order), each row with all the columns it came with: the uploaded
   file's own (id, date, ...) or just the headline, then the results. */
function downloadCsv() {
  const base = state.source ? state.source.header : ["headline"];
  const header = [...base, ...resultColumns(base, state.labels)];
  const rows = visibleRows().map((r) => [
    ...(r.record ? r.record.cells : [r.headline]),
    r.topic, r.problem ? "" : r.confidence, r.secondary.join(";"),
    ...state.labels.map((l) => r.scores[l] ?? ""), r.problem ? `${r.kind}: ${r.problem}` : "",
  ]);
  const blob = new Blob([csvText(header, rows)], { type: "text/csv;charset=utf-8" });
  const link = el("a", { href: URL.createObjectURL(blob), download: "headline-topics.csv" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

/* ---- clusters -------------------------------------------------------------------------- */

function clearClusters(message) {
  $("cluster-list").replaceChildren();
  $("cluster-figure").hidden = true;
  hideError("cluster-error");
  $("cluster-status").textContent = message;
}

async function findClusters() {
  hideError("cluster-error");
  const tagged = state.rows.filter((r) => !r.problem);
  if (tagged.length < 2) {
    showError("cluster-error", "Tag at least two headlines first; clusters group the tagged headlines.");
    return;
  }
  const level = $("cluster-level").value;
  const headlines = tagged.map((r) => r.headline);
  $("cluster-button").disabled = true;
  $("cluster-status").textContent = `Grouping ${headlines.length} headlines into ${level}…`;
  try {
    const data = await api("POST", "/v1/cluster", { headlines, level });
    state.clusteredFor = headlines;
    renderClusters(data, headlines, tagged);
  } catch (problem) {
    clearClusters("");
    showError("cluster-error", problem.status === 404
      ? "Clustering is not available on this service (it has no /v1/cluster endpoint)."
      : explain(problem, tagged.map((r) => r.line)));
  } finally {
    $("cluster-button").disabled = false;
  }
}

function renderClusters(data, headlines, rows) {
  const members = new Map();
  data.labels.forEach((label, i) => {
    if (!members.has(label)) members.set(label, []);
    members.get(label).push(i);
  });
  const list = $("cluster-list");
  list.replaceChildren();
  const clusters = [...data.clusters].sort((a, b) => b.size - a.size);
  for (const c of clusters) {
    const idx = members.get(c.id) || [];
    const topic = c.top_topic || (idx.length ? rows[idx[0]].topic : "");
    const shares = Object.entries(c.topic_shares || {}).filter(([, s]) => s > 0)
      .map(([t, s]) => `${t} ${Math.round(s * 100)}%`).join(", ");
    list.append(el("details", { class: "cluster", "data-cluster": c.id },
      el("summary", {},
        topic ? badge(topic) : null,
        el("strong", {}, ` ${c.keywords.slice(0, 6).join(", ") || "(no keywords)"}`),
        el("span", { class: "muted" }, ` · ${c.size} headline${c.size === 1 ? "" : "s"}`),
        shares ? el("span", { class: "muted" }, ` · ${shares}`) : null),
      el("ul", {}, ...idx.map((i) => el("li", {}, headlines[i])))));
  }
  const loose = members.get(-1) || [];
  if (loose.length) {
    list.append(el("details", { class: "cluster", "data-cluster": "-1" },
      el("summary", {}, el("strong", {}, "Not in any cluster"), el("span", { class: "muted" }, ` · ${loose.length}`)),
      el("ul", {}, ...loose.map((i) => el("li", {}, headlines[i])))));
  }
  $("cluster-status").textContent = `${data.n_clusters} ${data.level} found in ${data.n_headlines} headlines` +
    `${data.n_unclustered ? `; ${data.n_unclustered} belong to none` : ""}. Open a cluster to see its headlines.`;
  drawMap(clusters, members, rows);
}

/* The service returns no 2-D coordinates, so the map is computed here: each cluster is placed by
   the first two principal components of its members' mean topic scores (so clusters about the
   same mix of topics sit together), drawn with area proportional to its size. */
function drawMap(clusters, members, rows) {
  const figure = $("cluster-figure");
  if (!clusters.length || !state.labels.length) {
    figure.hidden = true;
    return;
  }
  const vectors = clusters.map((c) => {
    const idx = members.get(c.id) || [];
    return state.labels.map((l) => idx.reduce((s, i) => s + (rows[i].scores[l] || 0), 0) / Math.max(idx.length, 1));
  });
  const points = project2d(vectors);
  const canvas = $("cluster-map");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = 40;
  const maxSize = Math.max(...clusters.map((c) => c.size));
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  // centre the points; a floor on the span keeps two or three clusters from flying to the corners
  const span = (v) => Math.max(Math.max(...v) - Math.min(...v), 0.6);
  const mid = (v) => (Math.max(...v) + Math.min(...v)) / 2;
  const nodes = clusters.map((c, k) => ({
    x: W / 2 + ((points[k][0] - mid(xs)) / span(xs)) * (W - 2 * pad),
    y: H / 2 + ((points[k][1] - mid(ys)) / span(ys)) * (H - 2 * pad),
    r: 6 + 24 * Math.sqrt(c.size / maxSize),
    c,
  }));
  for (let step = 0; step < 200; step++) { // push overlapping bubbles apart
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const p = nodes[a], q = nodes[b];
        let dx = q.x - p.x, dy = q.y - p.y;
        let d = Math.hypot(dx, dy);
        const need = p.r + q.r + 2;
        if (d >= need) continue;
        if (d < 1e-6) { dx = Math.cos(a + b); dy = Math.sin(a + b); d = 1; }
        const push = (need - d) / 2;
        p.x -= (dx / d) * push; p.y -= (dy / d) * push;
        q.x += (dx / d) * push; q.y += (dy / d) * push;
      }
    }
    for (const n of nodes) {
      n.x = Math.min(W - n.r, Math.max(n.r, n.x));
      n.y = Math.min(H - n.r, Math.max(n.r, n.y));
    }
  }
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, W, H);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "center";
  for (const n of nodes) {
    ctx.globalAlpha = 0.75;
    ctx.fillStyle = colourOf(n.c.top_topic);
    ctx.beginPath();
    ctx.arc(n.x, n.y, n.r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#222";
    const label = n.c.keywords[0] || `#${n.c.id}`;
    const half = ctx.measureText(label).width / 2 + 2; // keep the label inside the canvas
    const y = n.y - n.r - 4 < 12 ? n.y + n.r + 14 : n.y - n.r - 4;
    ctx.fillText(label, Math.min(W - half, Math.max(half, n.x)), y);
  }
  const legend = state.labels.map((l) => `${l} = ${colourName(colourOf(l))}`).join(", ");
  $("cluster-caption").textContent =
    "Computed in the page: the service returns no map coordinates, so each cluster is placed by its " +
    "members' average topic scores (clusters with a similar mix sit together); area shows size, colour the main topic " +
    `(${legend}).`;
  canvas.setAttribute("aria-label", `Map of ${nodes.length} clusters: ` +
    nodes.map((n) => `${n.c.keywords[0] || n.c.id} (${n.c.top_topic || "no topic"}, ${n.c.size})`).join("; "));
  figure.hidden = false;
}

function colourName(hex) {
  const names = { "#1f77b4": "blue", "#d62728": "red", "#2ca02c": "green", "#7f7f7f": "grey", "#9467bd": "purple", "#ff7f0e": "orange", "#8c564b": "brown", "#e377c2": "pink", "#17becf": "cyan", "#bcbd22": "olive" };
  return names[hex] || hex;
}

/* First two principal components by power iteration on the covariance (small d, no library). */
function project2d(vectors) {
  const n = vectors.length, d = vectors[0].length;
  const mean = Array.from({ length: d }, (_, j) => vectors.reduce((s, v) => s + v[j], 0) / n);
  const centred = vectors.map((v) => v.map((x, j) => x - mean[j]));
  const cov = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => centred.reduce((s, v) => s + v[i] * v[j], 0)));
  const components = [];
  for (let c = 0; c < 2; c++) {
    let v = Array.from({ length: d }, (_, j) => 1 + j * 0.37 + c);
    for (let it = 0; it < 100; it++) {
      let w = cov.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
      for (const u of components) { // deflate: stay orthogonal to the earlier component
        const dot = w.reduce((s, x, j) => s + x * u[j], 0);
        w = w.map((x, j) => x - dot * u[j]);
      }
      const norm = Math.hypot(...w);
      if (norm < 1e-12) break;
      v = w.map((x) => x / norm);
    }
    components.push(v);
  }
  return centred.map((v) => components.map((u) => v.reduce((s, x, j) => s + x * u[j], 0)));
}

/* ---- model panel ----------------------------------------------------------------------- */

async function loadModel() {
  try {
    const m = await api("GET", "/v1/model");
    state.labels = m.labels || [];
    const filter = $("topic-filter");
    for (const label of state.labels) filter.append(el("option", { value: label }, label));
    renderModel(m);
    if (state.rows.length) renderResults();
  } catch (problem) {
    $("model-line").textContent = "The model could not be read.";
    showError("model-error", `Could not read the model: ${problem.message}`);
  }
}

function renderModel(m) {
  const metrics = m.metrics || {};
  const created = m.created ? new Date(m.created) : null;
  const when = created && !isNaN(created) ? created.toLocaleString() : m.created || "unknown";
  $("model-line").replaceChildren("Model ", el("code", {}, m.version || "?"), ` · trained ${when}`,
    ...state.labels.map((l) => [" ", badge(l)]).flat());
  const facts = [
    ["Version", m.version],
    ["Trained", when],
    ["Topics", state.labels.join(", ")],
    ["Training rows", m.data && m.data.rows_used],
    ["Accuracy", metrics.accuracy],
    ["Macro F1", metrics.macro_f1],
    ["Evaluated by", metrics.method],
    ["Encoder", m.embedding && `${m.embedding.name} (${m.embedding.dimension} dimensions)`],
  ];
  $("model-facts").replaceChildren(...facts.filter(([, v]) => v !== undefined && v !== null)
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const f1Body = $("f1-table").tBodies[0];
  f1Body.replaceChildren(...Object.entries(metrics.per_class || {}).map(([topic, s]) => el("tr", {},
    el("th", { scope: "row" }, badge(topic)),
    el("td", {}, el("span", { class: "bar" }, el("span", { class: "fill", style: `width:${Math.round((s.f1 || 0) * 100)}%;background:${colourOf(topic)}` })),
      el("span", { class: "pct" }, (s.f1 ?? 0).toFixed(2))),
    el("td", {}, (s.precision ?? 0).toFixed(2)), el("td", {}, (s.recall ?? 0).toFixed(2)), el("td", {}, s.support ?? ""))));
  renderConfusion(metrics.confusion_matrix);
  renderQuality(m);
}

/* The manifest's "evaluation": one result ({macro_f1, accuracy, ece, n, name}), a list of them,
   or an object of them by name, each measured on real headlines the model was not trained on. */
function realEvaluations(m) {
  const e = m.evaluation;
  if (!e || typeof e !== "object") return [];
  const list = Array.isArray(e) ? e
    : typeof e.macro_f1 === "number" ? [e]
    : Object.entries(e).map(([name, v]) => (v && typeof v === "object" ? { name, ...v } : null));
  return list.filter((x) => x && typeof x.macro_f1 === "number").map((x) => ({
    ...x,
    label: x.name || x.dataset || (typeof x.data === "string" ? x.data : x.data && (x.data.name || x.data.source)) || "real headlines",
  }));
}

function renderQuality(m) {
  const metrics = m.metrics || {};
  const figure = (v) => (typeof v === "number" ? v.toFixed(4) : "—");
  const line = (label, x) => el("tr", {}, el("th", { scope: "row" }, label),
    el("td", {}, x.n ?? x.rows ?? "—"), el("td", {}, figure(x.macro_f1)), el("td", {}, figure(x.accuracy)), el("td", {}, figure(x.ece)));
  const real = realEvaluations(m);
  const rows = [];
  if (typeof metrics.macro_f1 === "number") rows.push(line("Cross-validated on the training data", metrics));
  for (const x of real) rows.push(line(`Real headlines: ${x.label}`, x));
  $("quality-table").tBodies[0].replaceChildren(...rows);
  $("quality-note").textContent = real.length
    ? "Real headlines: a labelled set the model was not trained on, as recorded in its manifest."
    : "No measurement on real headlines is recorded in this model's manifest; the figures are cross-validated on its training data only.";
}

function renderConfusion(cm) {
  const box = $("confusion");
  if (!cm || !cm.matrix) {
    box.replaceChildren(el("p", { class: "muted" }, "This model's manifest has no confusion matrix."));
    return;
  }
  const table = el("table", { class: "heat" },
    el("caption", { class: "sr-only" }, "Confusion matrix: rows are true topics, columns predicted topics"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "true \\ predicted"), ...cm.labels.map((l) => el("th", { scope: "col" }, l)))));
  const body = el("tbody");
  cm.matrix.forEach((row, i) => {
    const total = row.reduce((s, x) => s + x, 0) || 1;
    body.append(el("tr", {}, el("th", { scope: "row" }, cm.labels[i]), ...row.map((count) => {
      const share = count / total;
      const light = Math.round(97 - share * 62);
      return el("td", { style: `background:hsl(210,70%,${light}%);color:${light < 60 ? "#fff" : "#111"}`, title: `${Math.round(share * 100)}% of ${cm.labels[i]}` }, count);
    })));
  });
  table.append(body);
  box.replaceChildren(table);
}

/* ---- tabs and wiring ------------------------------------------------------------------- */

function selectTab(tab) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
  if (tab.id === "tab-clusters" && state.rows.length >= 2 && state.clusteredFor === null) findClusters();
}

function wire() {
  $("input-form").addEventListener("submit", tag);
  $("clear-button").addEventListener("click", () => {
    $("headlines").value = "";
    hideError("input-error");
    setStatus("");
    $("headlines").focus();
  });
  $("csv-file").addEventListener("change", (e) => loadFile(e.target.files[0]));
  const box = $("headlines");
  box.addEventListener("dragover", (e) => { e.preventDefault(); box.classList.add("drop"); });
  box.addEventListener("dragleave", () => box.classList.remove("drop"));
  box.addEventListener("drop", (e) => {
    box.classList.remove("drop");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      e.stopPropagation();
      loadFile(e.dataTransfer.files[0]);
    }
  });
  // a file dropped beside the box must not make the browser leave the page to show it
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) loadFile(e.dataTransfer.files[0]);
  });
  box.addEventListener("keydown", (e) => { // Ctrl+Enter tags, as in many editors
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("input-form").requestSubmit();
  });
  for (const button of document.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", () => sortBy(button.dataset.sort));
  }
  $("topic-filter").addEventListener("change", (e) => { state.filter = e.target.value; renderResults(); });
  $("download-button").addEventListener("click", downloadCsv);
  $("cluster-button").addEventListener("click", findClusters);
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => { // arrow keys move between tabs
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        selectTab(tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length]);
      }
    });
  });
  loadModel();
}

document.addEventListener("DOMContentLoaded", wire);
