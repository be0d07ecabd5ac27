/**
 * danfojs DataFrames and Series as notebook tables, the way pandas shows its frames: `text/html` (a table with the
 * dtypes under the column names, head and tail rows around a "…" row when long, "N rows × M columns"), an aligned
 * `text/plain` table, and `application/vnd.dataresource+json` (the Table Schema data JupyterLab's data viewers read).
 * Numbers are rounded for reading as pandas rounds them: one number of decimals per column, at most six.
 *
 * danfojs is recognised by its shape, not by `instanceof`, so a frame from any copy of danfojs (the notebook's own
 * node_modules included) is shown as a table.
 */
import type { MimeBundle } from "./mimeBundle";

/** The part of a danfojs-node DataFrame or Series that a table needs. */
export interface DanfoFrameLike {
  readonly $isSeries: boolean;
  readonly columns: readonly unknown[];
  readonly index: readonly unknown[];
  readonly dtypes: readonly string[];
  /** A DataFrame's rows (arrays aligned with `columns`), a Series' values. */
  readonly values: readonly unknown[];
  readonly shape: readonly number[];
}

/** How much of a frame is shown; beyond `maxRows` rows only the first and last `edgeRows` are. */
export interface TableLimits {
  maxRows: number;
  edgeRows: number;
  maxColumns: number;
  edgeColumns: number;
}

/** pandas' defaults: display.max_rows 60 (min_rows 10), display.max_columns 20. */
const DEFAULT_LIMITS: TableLimits = { maxRows: 60, edgeRows: 5, maxColumns: 20, edgeColumns: 10 };
const MAX_DECIMALS = 6;
const MAX_TEXT = 50;
const DATARESOURCE_MIME = "application/vnd.dataresource+json";

/** True when `value` is a danfojs DataFrame or Series (any copy of danfojs). */
export function isDanfoFrame(value: unknown): value is DanfoFrameLike {
  if (value === null || typeof value !== "object") return false;
  const frame = value as Partial<DanfoFrameLike>;
  return (
    typeof frame.$isSeries === "boolean" &&
    Array.isArray(frame.columns) &&
    Array.isArray(frame.index) &&
    Array.isArray(frame.dtypes) &&
    Array.isArray(frame.values) &&
    Array.isArray(frame.shape)
  );
}

/** A column-major view of a frame: names, dtypes, the index, and one array of values per column. */
interface Table {
  isSeries: boolean;
  names: string[];
  dtypes: string[];
  index: unknown[];
  columns: unknown[][];
  rowCount: number;
}

function toTable(frame: DanfoFrameLike): Table {
  const names = frame.columns.map(String);
  const index = [...frame.index];
  if (frame.$isSeries) return { isSeries: true, names, dtypes: [...frame.dtypes], index, columns: [[...frame.values]], rowCount: index.length };
  const rows = frame.values as readonly unknown[][];
  const columns = names.map((_, c) => rows.map((row) => row[c]));
  return { isSeries: false, names, dtypes: [...frame.dtypes], index, columns, rowCount: rows.length };
}

/** The positions shown out of `count`, with `null` where the "…" goes. */
function shownPositions(count: number, max: number, edge: number): (number | null)[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  return [...Array.from({ length: edge }, (_, i) => i), null, ...Array.from({ length: edge }, (_, i) => count - edge + i)];
}

/** Formats one column's values for reading: integers as they are, other numbers with the column's number of decimals. */
function formatColumn(values: unknown[]): string[] {
  const numbers = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const fractional = numbers.filter((v) => !Number.isInteger(v));
  let formatNumber = (v: number) => String(v);
  if (fractional.length > 0) {
    const magnitudes = numbers.filter((v) => v !== 0).map(Math.abs);
    const scientific = magnitudes.length > 0 && (Math.max(...magnitudes) >= 1e9 || Math.min(...magnitudes) < 1e-4);
    if (scientific) formatNumber = (v) => v.toExponential(MAX_DECIMALS - 2);
    else {
      const decimalsOf = (v: number) => (Number(v.toFixed(MAX_DECIMALS)).toString().split(".")[1] ?? "").length;
      const decimals = Math.max(1, ...fractional.map(decimalsOf));
      formatNumber = (v) => v.toFixed(decimals);
    }
  }
  return values.map((v) => formatCell(v, formatNumber));
}

function formatCell(value: unknown, formatNumber: (v: number) => string): string {
  if (typeof value === "number") return Number.isFinite(value) ? formatNumber(value) : String(value);
  if (typeof value === "string") return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value;
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value) ?? String(value);
  return String(value);
}

/** The shown part of a table as text cells: header, dtypes, rows and their index labels (null: the "…" row). */
interface ShownTable {
  names: string[];
  dtypes: string[];
  rows: (string[] | null)[];
  indexCells: (string | null)[];
}

function shownTable(table: Table, limits: TableLimits): ShownTable {
  const rowAt = shownPositions(table.rowCount, limits.maxRows, limits.edgeRows);
  const colAt = shownPositions(table.names.length, limits.maxColumns, limits.edgeColumns);
  const formatted = colAt.map((c) => (c === null ? null : formatColumn(rowAt.map((r) => (r === null ? undefined : table.columns[c][r])))));
  const indexText = formatColumn(rowAt.map((r) => (r === null ? undefined : table.index[r])));
  return {
    names: colAt.map((c) => (c === null ? "…" : table.names[c])),
    dtypes: colAt.map((c) => (c === null ? "" : (table.dtypes[c] ?? ""))),
    indexCells: rowAt.map((r, i) => (r === null ? null : indexText[i])),
    rows: rowAt.map((r, i) => (r === null ? null : formatted.map((column) => (column === null ? "…" : column[i])))),
  };
}

function dimensions(table: Table): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return table.isSeries ? plural(table.rowCount, "row") : `${plural(table.rowCount, "row")} × ${plural(table.names.length, "column")}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

const TABLE_STYLE =
  "<style scoped>.dataframe tbody tr th:only-of-type { vertical-align: middle; } .dataframe tbody tr th { vertical-align: top; } " +
  ".dataframe thead th { text-align: right; } .dataframe thead tr.dtypes th { font-weight: normal; font-style: italic; opacity: 0.7; }</style>";

function toHtml(table: Table, shown: ShownTable): string {
  const th = (text: string) => `<th>${escapeHtml(text)}</th>`;
  const td = (text: string) => `<td>${escapeHtml(text)}</td>`;
  const head =
    `<tr style="text-align: right;"><th></th>${shown.names.map(th).join("")}</tr>` + `<tr class="dtypes"><th></th>${shown.dtypes.map(th).join("")}</tr>`;
  const body = shown.rows
    .map((row, i) =>
      row === null ? `<tr><th>…</th>${shown.names.map(() => td("…")).join("")}</tr>` : `<tr>${th(shown.indexCells[i]!)}${row.map(td).join("")}</tr>`,
    )
    .join("\n");
  const kind = table.isSeries ? "Series" : "DataFrame";
  return `<div>${TABLE_STYLE}<table border="1" class="dataframe">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>\n<p>${kind}: ${dimensions(table)}</p></div>`;
}

function toPlainText(table: Table, shown: ShownTable): string {
  const header = ["", ...shown.names];
  const lines = [
    header,
    ["", ...shown.dtypes],
    ...shown.rows.map((row, i) => (row === null ? ["…", ...shown.names.map(() => "…")] : [shown.indexCells[i]!, ...row])),
  ];
  const widths = header.map((_, c) => Math.max(...lines.map((line) => [...line[c]].length)));
  const pad = (text: string, width: number) => " ".repeat(width - [...text].length) + text;
  const text = lines.map((line) =>
    line
      .map((cell, c) => pad(cell, widths[c]))
      .join("  ")
      .replace(/\s+$/, ""),
  );
  return [...text, "", `[${table.isSeries ? "Series" : "DataFrame"}: ${dimensions(table)}]`].join("\n");
}

/** Table Schema type of a danfojs dtype. */
function schemaType(dtype: string): string {
  if (dtype.startsWith("int")) return "integer";
  if (dtype.startsWith("float")) return "number";
  if (dtype === "boolean" || dtype === "bool") return "boolean";
  if (dtype === "string") return "string";
  return "any";
}

/** The first `maxRows` rows in pandas' `to_json(orient="table")` form (non-finite numbers become null). */
function toDataResource(table: Table, limits: TableLimits): Record<string, unknown> {
  const names = table.isSeries && table.names.length === 0 ? ["values"] : table.names;
  const indexName = names.includes("index") ? "level_0" : "index";
  const indexType = table.index.every((v) => typeof v === "number" && Number.isInteger(v)) ? "integer" : "string";
  const json = (v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v === undefined ? null : v);
  const rows = Math.min(table.rowCount, limits.maxRows);
  const data = Array.from({ length: rows }, (_, r) => {
    const record: Record<string, unknown> = { [indexName]: json(table.index[r]) };
    names.forEach((name, c) => (record[name] = json(table.columns[c]?.[r])));
    return record;
  });
  return {
    schema: {
      fields: [{ name: indexName, type: indexType }, ...names.map((name, c) => ({ name, type: schemaType(table.dtypes[c] ?? "") }))],
      primaryKey: [indexName],
    },
    data,
  };
}

/** The mime bundle of a danfojs DataFrame or Series: text/html, text/plain and application/vnd.dataresource+json. */
export function frameBundle(frame: DanfoFrameLike, limits: TableLimits = DEFAULT_LIMITS): MimeBundle {
  const table = toTable(frame);
  const shown = shownTable(table, limits);
  return { "text/plain": toPlainText(table, shown), "text/html": toHtml(table, shown), [DATARESOURCE_MIME]: toDataResource(table, limits) };
}
