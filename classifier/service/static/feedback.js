/* Corrections on the results table: choose a row's right topics, then Save (POST /v1/feedback).
   The labeller token is typed into the page and kept in sessionStorage (this tab only); it is
   never part of the HTML. Uses app.js's api, el, $, state and renderResults. */
"use strict";

const TOKEN_KEY = "headline-topics.label-token";
const NAME_KEY = "headline-topics.labeller";
const feedback = {
  token: null,
  on: false,
  chosen: new Map(), // row index -> topics pressed, in the order pressed (primary first)
  saved: new Map(),  // row index -> topics saved
  rows: null,        // the state.rows these are about
};
const NONE_TOPIC = "other"; // "none of the topics": stands alone, as the API requires

function labellerHeaders() {
  return { Authorization: `Bearer ${feedback.token}` };
}

function setFeedbackStatus(message) {
  $("feedback-status").textContent = message;
}

function showUntrained(count) {
  $("feedback-count").textContent = count === 1
    ? "1 correction not yet trained on."
    : `${count} corrections not yet trained on.`;
}

function feedbackProblem(err) {
  if (err.status === 401) return "That labeller token was not accepted.";
  if (err.status === 403) return "Corrections are off on this service (it has no labeller token set).";
  return `Could not save the correction: ${err.message}`;
}

/* Check the token with GET /v1/feedback/summary; only a token the service accepts is kept. */
async function useToken(token) {
  hideError("feedback-error");
  feedback.token = token;
  try {
    const summary = await api("GET", "/v1/feedback/summary", undefined, labellerHeaders());
    showUntrained(summary.untrained);
  } catch (err) {
    feedback.token = null;
    feedback.on = false;
    sessionStorage.removeItem(TOKEN_KEY);
    showError("feedback-error", feedbackProblem(err));
    renderFeedback();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  feedback.on = true;
  $("label-token").value = "";
  setFeedbackStatus("Corrections are on: in the Correct column, choose a row's topics and press Save.");
  renderFeedback();
}

function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  feedback.token = null;
  feedback.on = false;
  $("feedback-count").textContent = "";
  setFeedbackStatus("Token forgotten; corrections are off in this tab.");
  renderFeedback();
  $("label-token").focus();
}

function renderFeedback() {
  $("correct-header").hidden = !feedback.on;
  $("feedback-off").hidden = !feedback.on;
  renderResults();
}

/* The Correct cell of a row (app.js's renderResults appends it): a toggle button per topic and
   Save. Pressing "other" releases the rest, and pressing a topic releases "other". */
function feedbackCell(r) {
  if (feedback.rows !== state.rows) { // a new tagging run: its row numbers are new headlines
    feedback.rows = state.rows;
    feedback.chosen.clear();
    feedback.saved.clear();
  }
  const cell = el("td", { class: "correct" });
  cell.hidden = !feedback.on;
  if (!feedback.on || r.problem) return cell;
  const chosen = feedback.chosen.get(r.index) || [];
  const group = el("div", { role: "group", "aria-label": `Right topics of headline ${r.index}` });
  const save = el("button", { type: "button", class: "save" }, "Save");
  save.disabled = chosen.length === 0;
  for (const topic of state.labels) {
    const button = el("button", { type: "button", class: "choice", "data-topic": topic, "aria-pressed": String(chosen.includes(topic)) }, topic);
    button.addEventListener("click", () => toggleTopic(r, topic, group, save));
    group.append(button);
  }
  save.setAttribute("aria-label", `Save the topics of headline ${r.index}`);
  save.addEventListener("click", () => saveCorrection(r, save));
  const done = feedback.saved.get(r.index);
  const note = el("span", { class: "saved muted" }, done ? `Saved: ${done.join(", ")}` : "");
  cell.append(group, save, note);
  return cell;
}

function toggleTopic(r, topic, group, save) {
  let chosen = [...(feedback.chosen.get(r.index) || [])];
  if (chosen.includes(topic)) chosen = chosen.filter((t) => t !== topic);
  else if (topic === NONE_TOPIC) chosen = [topic];
  else chosen = [...chosen.filter((t) => t !== NONE_TOPIC), topic];
  feedback.chosen.set(r.index, chosen);
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(chosen.includes(button.dataset.topic)));
  }
  save.disabled = chosen.length === 0;
}

async function saveCorrection(r, save) {
  const topics = feedback.chosen.get(r.index) || [];
  if (!topics.length) return;
  hideError("feedback-error");
  const body = { headline: r.headline, topics };
  const name = $("labeller-name").value.trim();
  if (name) body.labeller = name;
  save.disabled = true;
  try {
    const stored = await api("POST", "/v1/feedback", body, labellerHeaders());
    feedback.saved.set(r.index, stored.topics);
    save.parentElement.querySelector(".saved").textContent = `Saved: ${stored.topics.join(", ")}`;
    setFeedbackStatus(`Saved the correction of headline ${r.index}: ${stored.topics.join(", ")}.`);
    showUntrained(stored.untrained);
  } catch (err) {
    showError("feedback-error", feedbackProblem(err));
  } finally {
    save.disabled = false;
  }
}

function wireFeedback() {
  $("feedback-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("label-token").value.trim();
    if (!token) {
      showError("feedback-error", "Enter the labeller token first.");
      $("label-token").focus();
      return;
    }
    useToken(token);
  });
  $("feedback-off").addEventListener("click", forgetToken);
  const name = $("labeller-name");
  name.value = sessionStorage.getItem(NAME_KEY) || "";
  name.addEventListener("change", () => sessionStorage.setItem(NAME_KEY, name.value.trim()));
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (kept) useToken(kept);
}

document.addEventListener("DOMContentLoaded", wireFeedback);
