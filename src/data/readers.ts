/**
 * Reading labelled documents from CSV (RFC 4180, quoted multi-line fields), JSON Lines, or a folder per label,
 * keeping where each record came from (file line or path) for error messages. Files are read in chunks and parsed
 * as they stream (memory stays near the size of the records kept), decoded as strict UTF-8 (other bytes are an
 * error naming the line, not silent U+FFFD), with a byte order mark skipped.
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

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 20;

function countNewlines(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = text.indexOf("\n", from); i >= 0 && i < to; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Streams the text of `file` to `onText` chunk by chunk, decoded as UTF-8 (a leading BOM is dropped). Bytes that
 * are not UTF-8 (e.g. a Latin-1 file) throw an error naming the file and the line.
 */
function streamText(file: string, onText: (text: string) => void): void {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const fd = fs.openSync(file, "r");
  let line = 1;
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      let text: string;
      try {
        text = decoder.decode(buffer.subarray(0, n), { stream: n > 0 });
      } catch {
        const lenient = buffer.subarray(0, n).toString("utf8");
        const bad = Math.max(0, lenient.indexOf("\uFFFD"));
        throw new Error(
          `${file}: line ${line + countNewlines(lenient, 0, bad)}: bytes that are not valid UTF-8 (a file saved as Latin-1 or Windows-1252?); ` +
            "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        );
      }
      if (text.length > 0) {
        line += countNewlines(text);
        onText(text);
      }
      if (n === 0) return;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole text of `file` as strict UTF-8 (see `streamText`). */
function readUtf8(file: string): string {
  const parts: string[] = [];
  streamText(file, (text) => parts.push(text));
  return parts.join("");
}

/**
 * An incremental CSV parser: text goes in chunk by chunk (`push`, then `end`), every complete record comes out
 * through `onRecord` with the 1-based line it starts on. Fields are cut out of the chunks as slices, never built
 * character by character.
 */
class CsvParser {
  private fields: string[] = [];
  private parts: string[] = [];
  private fieldStarted = false;
  /** field: unquoted; quoted: inside quotes; quoteAtEnd: a quote ended the last chunk; closed: after a closing quote. */
  private mode: "field" | "quoted" | "quoteAtEnd" | "closed" = "field";
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private skipLineFeed = false;
  private readonly special: RegExp;

  constructor(
    private readonly file: string,
    private readonly delimiter: string,
    private readonly onRecord: (line: number, fields: string[]) => void,
  ) {
    this.special = new RegExp(`[${delimiter === "\t" ? "\\t" : delimiter.replace(/[\\\]^-]/g, "\\$&")}\\r\\n]`, "g");
  }

  push(text: string): void {
    let i = 0;
    if (this.skipLineFeed) {
      this.skipLineFeed = false;
      if (text[0] === "\n") i = 1;
    }
    while (i < text.length) {
      if (this.mode === "quoteAtEnd") {
        if (text[i] === '"') {
          this.parts.push('"');
          this.mode = "quoted";
          i++;
        } else this.mode = "closed";
        continue;
      }
      if (this.mode === "quoted") {
        const close = text.indexOf('"', i);
        const end = close < 0 ? text.length : close;
        this.parts.push(text.slice(i, end));
        this.line += countNewlines(text, i, end);
        if (close < 0) return;
        if (close + 1 === text.length) {
          this.mode = "quoteAtEnd";
          return;
        }
        if (text[close + 1] === '"') {
          this.parts.push('"');
          i = close + 2;
        } else {
          this.mode = "closed";
          i = close + 1;
        }
        continue;
      }
      if (this.mode === "field" && !this.fieldStarted && text[i] === '"') {
        this.mode = "quoted";
        this.fieldStarted = true;
        this.quoteLine = this.line;
        i++;
        continue;
      }
      this.special.lastIndex = i;
      const found = this.special.exec(text);
      const end = found ? found.index : text.length;
      if (this.mode === "closed" && end > i) {
        throw new Error(`${this.file}: line ${this.line}: unexpected ${JSON.stringify(text[i])} after a closing quote`);
      }
      if (end > i) {
        this.parts.push(text.slice(i, end));
        this.fieldStarted = true;
      }
      if (!found) return;
      i = end + 1;
      if (text[end] === this.delimiter) {
        this.endField();
        continue;
      }
      this.endRecord();
      if (text[end] === "\r") {
        if (i === text.length) this.skipLineFeed = true;
        else if (text[i] === "\n") i++;
      }
      this.line++;
      this.recordLine = this.line;
    }
  }

  end(): void {
    if (this.mode === "quoted") throw new Error(`${this.file}: line ${this.quoteLine}: quoted field is never closed`);
    if (this.fieldStarted || this.fields.length > 0 || this.parts.length > 0) this.endRecord();
  }

  private endField(): void {
    this.fields.push(this.parts.length === 1 ? this.parts[0] : this.parts.join(""));
    this.parts = [];
    this.fieldStarted = false;
    this.mode = "field";
  }

  private endRecord(): void {
    const blank = this.fields.length === 0 && !this.fieldStarted;
    this.endField();
    if (!blank) this.onRecord(this.recordLine, this.fields);
    this.fields = [];
  }
}

/** A value quoted for an error message, cut to `max` characters (a long one says how long it is). */
export function quoteForMessage(value: unknown, max = 40): string {
  if (typeof value === "string" && value.length > max) return `${JSON.stringify(value.slice(0, max))}... (${value.length} characters)`;
  const s = JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Reads a CSV file whose first record is the header (column names must be unique). */
export function readCsv(file: string, delimiter = ","): RawTable {
  let columns: string[] | undefined;
  const records: RawRecord[] = [];
  const parser = new CsvParser(file, delimiter, (line, fields) => {
    if (columns === undefined) {
      columns = fields.map((c) => c.trim());
      const first = new Map<string, number>();
      columns.forEach((c, j) => {
        if (first.has(c)) {
          throw new Error(
            `${file}: line ${line}: the header names column ${quoteForMessage(c)} twice (columns ${first.get(c)! + 1} and ${j + 1}); column names must be unique`,
          );
        }
        first.set(c, j);
      });
      return;
    }
    // No prototype: a column named "__proto__" is a field like any other, not an assignment to the prototype.
    const values = Object.create(null) as Record<string, unknown>;
    columns.forEach((c, j) => (values[c] = fields[j]));
    const problem = fields.length === columns.length ? undefined : `has ${fields.length} fields, the header has ${columns.length}`;
    records.push({ row: records.length + 1, location: `line ${line}`, values, problem });
  });
  streamText(file, (text) => parser.push(text));
  parser.end();
  if (columns === undefined) throw new Error(`${file}: the file is empty (expected a header row)`);
  return { source: file, columns, records };
}

/** Reads a JSON Lines file: one JSON object per non-empty line (a byte order mark at the start is skipped). */
export function readJsonl(file: string): RawTable {
  const records: RawRecord[] = [];
  const columns = new Set<string>();
  let lineNumber = 0;
  const onLine = (raw: string) => {
    lineNumber++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    const record: RawRecord = { row: records.length + 1, location: `line ${lineNumber}`, values: {} };
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
  };
  let pending = "";
  streamText(file, (text) => {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!;
    lines.forEach(onLine);
  });
  if (pending !== "") onLine(pending);
  return { source: file, columns: [...columns], records };
}

/** Reads `root/<label>/<file>`: every file is one document labelled by its folder name (sorted for determinism). */
export function readLabelFolders(root: string, textColumn: string, labelColumn: string, idColumn: string): RawTable {
  const labels = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  if (labels.length === 0) throw new Error(`${root}: no label sub-folders (expected ${root}/<label>/<document files>)`);
  const records: RawRecord[] = [];
  for (const label of labels) {
    const files = fs
      .readdirSync(path.join(root, label), { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => d.name)
      .sort();
    for (const name of files) {
      const rel = `${label}/${name}`;
      const text = readUtf8(path.join(root, rel));
      records.push({ row: records.length + 1, location: rel, values: { [idColumn]: rel, [textColumn]: text, [labelColumn]: label } });
    }
  }
  return { source: root, columns: [idColumn, textColumn, labelColumn], records };
}
