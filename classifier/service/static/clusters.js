/* The Clusters tab of the headline topics page: POST /v1/cluster, the list and the map.
   Uses the helpers and the state of app.js (classic scripts share one global scope). */
"use strict";

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

/* The levels come from the service's OpenAPI document (the ClusterRequest level enum), so a level
   the service adds appears here without a change to the page; the page's own options are kept as
   they are worded, and used as they are if the document cannot be read. */
async function loadLevels() {
  const select = $("cluster-level");
  try {
    const doc = await api("GET", "/openapi.json");
    const level = doc.components.schemas.ClusterRequest.properties.level;
    if (!Array.isArray(level.enum) || !level.enum.length) return;
    const worded = new Map([...select.options].map((o) => [o.value, o.textContent]));
    const chosen = select.value; // a choice made while the document loaded stays made
    select.replaceChildren(...level.enum.map((name) => el("option", { value: name }, worded.get(name) || name)));
    select.value = level.enum.includes(chosen) ? chosen : level.default || level.enum[0];
  } catch (problem) {
    /* keep the page's own options */
  }
}

/* The child level of each level in a hierarchy answer (sections hold themes, themes stories). */
const CHILD_LEVEL = { sections: "themes", themes: "stories" };

function membersOf(labels) {
  const members = new Map();
  labels.forEach((label, i) => {
    if (!members.has(label)) members.set(label, []);
    members.get(label).push(i);
  });
  return members;
}

/* One cluster as a <details>: its children one level down (if the answer has a hierarchy), then
   the headlines in none of them; at the finest level, its headlines. */
function clusterNode(c, level, data, headlines, rows, members, nested = false) {
  const idx = members.get(level).get(c.id) || [];
  const topic = c.top_topic || (idx.length ? rows[idx[0]].topic : "");
  const shares = Object.entries(c.topic_shares || {}).filter(([, s]) => s > 0)
    .map(([t, s]) => `${t} ${Math.round(s * 100)}%`).join(", ");
  const child = data.hierarchy ? CHILD_LEVEL[level] : undefined;
  const kids = child ? data.hierarchy[child].clusters.filter((k) => k.parent === c.id).sort((a, b) => b.size - a.size) : [];
  const body = [];
  if (kids.length) {
    body.push(...kids.map((k) => clusterNode(k, child, data, headlines, rows, members, true)));
    const inKid = new Set(kids.flatMap((k) => members.get(child).get(k.id) || []));
    const rest = idx.filter((i) => !inKid.has(i));
    if (rest.length) {
      body.push(el("details", { class: "cluster", "data-level": child, "data-member": "-1", open: "" },
        el("summary", {}, el("strong", {}, `Not in any of its ${child}`), el("span", { class: "muted" }, ` · ${rest.length}`)),
        el("ul", {}, ...rest.map((i) => el("li", {}, headlines[i])))));
    }
  } else {
    body.push(el("ul", {}, ...idx.map((i) => el("li", {}, headlines[i]))));
  }
  const counted = kids.length ? ` · ${kids.length} ${child}` : "";
  /* data-cluster marks the clusters of the level asked for; the ones inside them are data-member,
     and open, so that opening a theme shows its stories' headlines at once */
  const attrs = nested ? { "data-member": c.id, open: "" } : { "data-cluster": c.id };
  return el("details", { class: "cluster", "data-level": level, ...attrs },
    el("summary", {},
      topic ? badge(topic) : null,
      el("strong", {}, ` ${c.keywords.slice(0, 6).join(", ") || "(no keywords)"}`),
      el("span", { class: "muted" }, ` · ${c.size} headline${c.size === 1 ? "" : "s"}${counted}`),
      shares ? el("span", { class: "muted" }, ` · ${shares}`) : null),
    ...body);
}

function renderClusters(data, headlines, rows) {
  const members = new Map([[data.level, membersOf(data.labels)]]);
  for (const [name, level] of Object.entries(data.hierarchy || {})) members.set(name, membersOf(level.labels));
  const list = $("cluster-list");
  list.replaceChildren();
  const clusters = [...data.clusters].sort((a, b) => b.size - a.size);
  for (const c of clusters) list.append(clusterNode(c, data.level, data, headlines, rows, members));
  const loose = members.get(data.level).get(-1) || [];
  if (loose.length) {
    list.append(el("details", { class: "cluster", "data-cluster": "-1" },
      el("summary", {}, el("strong", {}, "Not in any cluster"), el("span", { class: "muted" }, ` · ${loose.length}`)),
      el("ul", {}, ...loose.map((i) => el("li", {}, headlines[i])))));
  }
  const within = data.hierarchy && CHILD_LEVEL[data.level] ? ` Each opens into its ${CHILD_LEVEL[data.level]}.` : "";
  $("cluster-status").textContent = `${data.n_clusters} ${data.level} found in ${data.n_headlines} headlines` +
    `${data.n_unclustered ? `; ${data.n_unclustered} belong to none` : ""}. Open a cluster to see its headlines.${within}`;
  drawMap(clusters, members.get(data.level), rows);
}

document.addEventListener("DOMContentLoaded", loadLevels);

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
