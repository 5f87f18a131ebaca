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

async function api(method, path, body, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
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
      el("td", { class: "confidence", "data-value": "" },
        el("span", { "aria-hidden": "true" }, "—"), el("span", { class: "sr-only" }, "no confidence")),
      el("td", { class: "secondary" }, `Not tagged: ${r.problem}`),
      el("td", { class: "why-cell" }));
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
    el("td", { class: "secondary" }, ...r.secondary.map(badge)),
    el("td", { class: "why-cell" }, whyButton(r))); // explain.js
}

function renderResults() {
  const body = $("results").tBodies[0];
  const rows = visibleRows();
  const fragment = document.createDocumentFragment();
  for (const r of rows) {
    const tr = resultRow(r);
    if (window.feedbackCell) tr.append(window.feedbackCell(r)); // feedback.js: the Correct column
    fragment.append(tr);
  }
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
