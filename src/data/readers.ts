/**
 * Reading labelled documents from CSV (RFC 4180, quoted multi-line fields), JSON Lines, or a folder per label,
 * keeping where each record came from (file line or path) for error messages.
 */
import * as fs from "fs";
import * as path from "path";

/** One record as read, before validation. */
export interface RawRecord {
  /** 1-based record number in the source (header excluded). */
  row: number;
  /** Human-readable place: "line 12" (CSV: the line where the record starts) or a file path. */
  location: string;
  values: Record<string, unknown>;
  /** A problem found while reading (e.g. invalid JSON, wrong field count); such a record is invalid. */
  problem?: string;
}

/** Records of one source with the columns it declares. */
export interface RawTable {
  source: string;
  columns: string[];
  records: RawRecord[];
}

/** Splits CSV text into records of fields, with the 1-based line each record starts on. */
function parseCsv(text: string, file: string, delimiter: string): Array<{ line: number; fields: string[] }> {
  const records: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: recordLine, fields });
    fields = [];
    field = "";
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' && field === "") {
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`${file}: line ${quoteLine}: quoted field is never closed`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] === "\n") line++;
        field += text[i++];
      }
      if (i < text.length && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
        throw new Error(`${file}: line ${line}: unexpected ${JSON.stringify(text[i])} after a closing quote`);
      }
    } else if (ch === delimiter) {
      fields.push(field);
      field = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      endRecord();
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== "" || fields.length > 0) endRecord();
  return records;
}

/** Reads a CSV file whose first record is the header. */
export function readCsv(file: string, delimiter = ","): RawTable {
  const parsed = parseCsv(fs.readFileSync(file, "utf8"), file, delimiter);
  if (parsed.length === 0) throw new Error(`${file}: the file is empty (expected a header row)`);
  const columns = parsed[0].fields.map((c) => c.trim());
  const records = parsed.slice(1).map(({ line, fields }, k): RawRecord => {
    const values: Record<string, unknown> = {};
    columns.forEach((c, j) => (values[c] = fields[j]));
    const problem = fields.length === columns.length ? undefined : `has ${fields.length} fields, the header has ${columns.length}`;
    return { row: k + 1, location: `line ${line}`, values, problem };
  });
  return { source: file, columns, records };
}

/** Reads a JSON Lines file: one JSON object per non-empty line. */
export function readJsonl(file: string): RawTable {
  const records: RawRecord[] = [];
  const columns = new Set<string>();
  fs.readFileSync(file, "utf8").split(/\r?\n/).forEach((text, i) => {
    if (text.trim() === "") return;
    const record: RawRecord = { row: records.length + 1, location: `line ${i + 1}`, values: {} };
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        record.values = value as Record<string, unknown>;
        Object.keys(value).forEach((k) => columns.add(k));
      } else {
        record.problem = `is ${Array.isArray(value) ? "an array" : typeof value}, expected a JSON object`;
      }
    } catch (e) {
      record.problem = `is not valid JSON (${(e as Error).message})`;
    }
    records.push(record);
  });
  return { source: file, columns: [...columns], records };
}

/** Reads `root/<label>/<file>`: every file is one document labelled by its folder name (sorted for determinism). */
export function readLabelFolders(root: string, textColumn: string, labelColumn: string, idColumn: string): RawTable {
  const labels = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  if (labels.length === 0) throw new Error(`${root}: no label sub-folders (expected ${root}/<label>/<document files>)`);
  const records: RawRecord[] = [];
  for (const label of labels) {
    const files = fs.readdirSync(path.join(root, label), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
    for (const name of files) {
      const rel = `${label}/${name}`;
      const text = fs.readFileSync(path.join(root, rel), "utf8");
      records.push({ row: records.length + 1, location: rel, values: { [idColumn]: rel, [textColumn]: text, [labelColumn]: label } });
    }
  }
  return { source: root, columns: [idColumn, textColumn, labelColumn], records };
}
