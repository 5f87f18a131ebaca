/* The Model tab of the headline topics page: GET /v1/model, its figures and confusion matrix.
   Uses the helpers and the state of app.js (classic scripts share one global scope). */
"use strict";

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
