/* "Why?" beside each result row: what the model leaned on for its top topic.
   A press asks /v1/predict for that one headline with explain: true (the cost is paid only when
   asked) and opens a row under it with the words that raised the topic most and the closest
   labelled training headlines. Opened rows stay open across sorting and filtering (app.js
   re-renders the table); answers are kept per headline, so reopening costs nothing. Uses app.js's
   el, badge, api and explain (its message wording). */
"use strict";

const why = {
  answers: new Map(), // headline -> the explanation object, or a promise of it
  open: new WeakSet(), // the result rows (app.js's objects) whose explanation is shown: a new
                       // tagging run makes new rows, so nothing of an old run reopens
};

/* The "why?" cell's button for a result row; app.js puts it in the row's last cell. */
function whyButton(r) {
  const opened = why.open.has(r);
  const button = el("button", {
    type: "button",
    class: "why-button",
    "aria-expanded": String(opened),
    "aria-controls": `why-${r.index}`,
    "aria-label": `Why ${r.topic}? Explain line ${r.line}`,
    "data-index": String(r.index),
  }, "why?");
  button.addEventListener("click", () => toggleWhy(button, r));
  // re-rendered while open (sorting, filtering): open it again once the row is in the table
  if (opened) queueMicrotask(() => showWhy(button, r, false));
  return button;
}

function toggleWhy(button, r) {
  if (why.open.has(r)) hideWhy(button, r);
  else showWhy(button, r, true);
}

function hideWhy(button, r) {
  why.open.delete(r);
  button.setAttribute("aria-expanded", "false");
  const panel = document.getElementById(`why-${r.index}`);
  if (panel) panel.remove();
}

async function showWhy(button, r, fresh) {
  const row = button.closest("tr");
  if (!row || !row.parentNode) return;
  why.open.add(r);
  button.setAttribute("aria-expanded", "true");
  const old = document.getElementById(`why-${r.index}`);
  if (old) old.remove();
  const cell = el("td", { colspan: String(row.cells.length) });
  const region = el("div", { class: "why", role: "region", "aria-label": `Why ${r.topic}: line ${r.line}`, tabindex: "-1" });
  const status = el("p", { class: "muted", role: "status" }, "Working out why…");
  region.append(status);
  cell.append(region);
  const panel = el("tr", { id: `why-${r.index}`, class: "why-row" }, cell);
  panel.addEventListener("keydown", (e) => { // Escape closes and goes back to the button
    if (e.key === "Escape") {
      hideWhy(button, r);
      button.focus();
    }
  });
  row.after(panel);
  try {
    const answer = await explanationOf(r.headline);
    if (!panel.isConnected) return;
    region.replaceChildren(...whyContent(answer, r));
    if (fresh) region.focus();
  } catch (problem) {
    why.answers.delete(r.headline);
    if (!panel.isConnected) return;
    region.replaceChildren(el("p", { class: "error", role: "alert" }, `Could not explain it: ${explain(problem, [r.line])}`));
  }
}

function explanationOf(headline) {
  if (!why.answers.has(headline)) {
    why.answers.set(headline, api("POST", "/v1/predict", { headline, explain: true }).then((data) => data.explanation));
  }
  return why.answers.get(headline);
}

/* The panel's content: the words, the neighbours, and any note, in plain lists. */
function whyContent(x, r) {
  const parts = [el("p", { class: "why-title" }, "What the model leaned on for ", badge(x.topic),
    x.topic !== r.topic ? ` (the model answering now; this row says ${r.topic})` : "")];
  if (x.words.length) {
    parts.push(el("p", { class: "why-label" }, "Words that raised it most (points of probability it loses without each):"));
    parts.push(el("ul", { class: "why-words" }, ...x.words.map((w) =>
      el("li", {}, el("mark", {}, w.word), ` −${Math.round(w.drop * 100)} points`))));
  } else {
    parts.push(el("p", { class: "muted" }, "No single word raised it: leaving any one out changes little."));
  }
  if (x.neighbours.length) {
    parts.push(el("p", { class: "why-label" }, "Closest labelled training headlines:"));
    parts.push(el("ol", { class: "why-neighbours" }, ...x.neighbours.map((n) =>
      el("li", {}, el("q", {}, n.headline), " ", ...n.topics.map(badge),
        el("span", { class: "muted" }, ` similarity ${n.similarity.toFixed(2)}`)))));
  }
  if (x.note) parts.push(el("p", { class: "muted why-note" }, x.note.charAt(0).toUpperCase() + x.note.slice(1) + "."));
  return parts;
}
