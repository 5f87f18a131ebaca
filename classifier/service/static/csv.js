/* CSV in and out for the headline topics page: reading an uploaded file, writing the download. */
"use strict";

/* RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes, CRLF, a BOM. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false, i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (quoted) throw new Error("the file ends inside a quoted field");
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/* An uploaded CSV: its header, and every row with a headline, each keeping all of its cells so
   that the download can give them back. Rows that cannot be tagged are counted by reason. */
function readUpload(text, name) {
  const rows = parseCsv(text);
  if (!rows.length) throw new Error(`${name} is empty`);
  const header = rows[0];
  const column = header.map((h) => h.trim().toLowerCase()).indexOf("headline");
  if (column < 0) {
    throw new Error(`${name} has no "headline" column (its columns: ${header.join(", ") || "none"})`);
  }
  const records = [], skipped = new Map();
  const skip = (reason) => skipped.set(reason, (skipped.get(reason) || 0) + 1);
  rows.slice(1).forEach((cells, k) => {
    if (cells.every((c) => c.trim() === "")) return skip("empty");
    if (cells.length !== header.length) return skip("width");
    const headline = cells[column].replace(/[\r\n]+/g, " ").trim();
    if (!headline) return skip("no headline");
    records.push({ row: k + 2, cells, headline }); // row: the line of the file, header = 1
  });
  if (!records.length) throw new Error(`${name} has a "headline" column but no headlines in it`);
  return { name, header, records, skipped, text: records.map((r) => r.headline).join("\n") };
}

const SKIP_WORDS = {
  "empty": (n) => `${n} empty`,
  "width": (n) => `${n} with a different number of fields than the header`,
  "no headline": (n) => `${n} with no headline`,
};

/* "skipped 3 rows: 2 with no headline, 1 empty", or "" when nothing was skipped. */
function skippedText(skipped) {
  const total = [...skipped.values()].reduce((s, n) => s + n, 0);
  if (!total) return "";
  const why = [...skipped].map(([reason, n]) => SKIP_WORDS[reason](n)).join(", ");
  return `skipped ${total} row${total === 1 ? "" : "s"} (${why})`;
}

/* A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, which some
   strip first) as a formula: such cells get a leading single quote, as OWASP advises for CSV
   injection, so the file opens as text. */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvText(header, rows) {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/* The download's result columns, renamed where the file already has a column of that name. */
function resultColumns(header, labels) {
  const taken = new Set(header.map((h) => h.trim().toLowerCase()));
  return ["topic", "confidence", "also_about", ...labels.map((l) => `score_${l}`), "problem"]
    .map((name) => (taken.has(name) ? `predicted_${name}` : name));
}
