/* The reports line of the headline topics page: links to the HTML reports the service serves
   (GET /v1/reports, there only when HEADLINE_TOPICS_REPORTS_DIR is set; otherwise the line stays
   hidden). Uses el() of app.js (classic scripts share one global scope). */
"use strict";

async function loadReports() {
  let listing;
  try {
    const response = await fetch("/v1/reports", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    listing = await response.json();
  } catch (problem) {
    return;
  }
  const reports = (listing && listing.reports) || [];
  if (!reports.length) return;
  const line = document.getElementById("reports-line");
  line.replaceChildren("Reports over time: ",
    ...reports.flatMap((r, i) => [i ? ", " : "", el("a", { href: r.url }, r.name)]));
  line.hidden = false;
}

document.addEventListener("DOMContentLoaded", loadReports);
