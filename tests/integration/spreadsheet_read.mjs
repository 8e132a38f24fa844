// spreadsheet_read.mjs — reads a CSV file the way a spreadsheet's import
// does (LibreOffice Calc and Excel with their defaults): RFC 4180 fields,
// then each cell typed by its text: a leading = + - @ makes a formula, a
// numeric text a number (so "+14155550101" becomes 14155550101, its "+"
// gone), anything else text. Prints a JSON array of rows of
// {"type": "formula"|"number"|"text", "shown": what the cell displays}.
// Usage: node spreadsheet_read.mjs FILE
import { readFileSync } from "node:fs";

function fields(csv) {
  const rows = [];
  let row = [], cell = "", quoted = false, i = 0;
  while (i < csv.length) {
    const c = csv[i];
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      cell += c; i++; continue;
    }
    if (c === '"' && cell === "") { quoted = true; i++; continue; }
    if (c === ",") { row.push(cell); cell = ""; i++; continue; }
    if (c === "\r" && csv[i + 1] === "\n") { i++; continue; }
    if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; i++; continue; }
    cell += c; i++;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function typed(text) {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return { type: "number", shown: String(Number(text)) };
  if (/^[=+\-@]/.test(text)) return { type: "formula", shown: text };
  return { type: "text", shown: text };
}

const rows = fields(readFileSync(process.argv[2], "utf8")).map((r) => r.map(typed));
process.stdout.write(JSON.stringify(rows));
