/** Loading labelled documents from CSV / JSONL / folders, label ids, and validation with row and line numbers. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DataValidationError, loadTextDataset } from "../../src/data";
import { tempDir } from "../helpers";

function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** Runs `load`, expects a DataValidationError, returns it. */
function validationError(load: () => unknown): DataValidationError {
  try {
    load();
  } catch (e) {
    assert.ok(e instanceof DataValidationError, `expected DataValidationError, got ${e}`);
    return e;
  }
  assert.fail("expected a DataValidationError");
}

describe("data/dataset: loading and validation", () => {
  const dir = tempDir();

  it("reads CSV with quoted multi-line fields, maps string labels to sorted ids and keeps the mapping", () => {
    const file = write(dir, "mail.csv", 'text,label\n"first, with comma",spam\n"two\nlines ""quoted""",ham\nplain,spam\n');
    const ds = loadTextDataset(file);
    assert.deepEqual(ds.texts, ["first, with comma", 'two\nlines "quoted"', "plain"]);
    assert.deepEqual(ds.labelNames, ["ham", "spam"]);
    assert.deepEqual(ds.labels, [1, 0, 1]);
    assert.deepEqual(ds.locations, ["line 2", "line 3", "line 5"]);
    assert.deepEqual(ds.classCounts(), [1, 2]);
  });

  it("honours configured column names, integer labels and an expected label order", () => {
    const file = write(dir, "ints.jsonl", '{"body": "a", "y": 1}\n\n{"body": "b", "y": 0}\n{"body": "c", "y": 10}\n');
    const ds = loadTextDataset(file, { textColumn: "body", labelColumn: "y" });
    assert.deepEqual(ds.labelNames, ["0", "1", "10"]);
    assert.deepEqual(ds.labels, [1, 0, 2]);
    assert.deepEqual(ds.locations, ["line 1", "line 3", "line 4"]);
    const ordered = loadTextDataset(file, { textColumn: "body", labelColumn: "y", labels: [10, 1, 0] });
    assert.deepEqual(ordered.labels, [1, 2, 0]);
  });

  it("reads a folder per label with file paths as ids", () => {
    const root = path.join(dir, "tree");
    write(root, "spam/b.txt", "buy now");
    write(root, "spam/a.txt", "cheap pills");
    write(root, "ham/x.txt", "meeting at 3");
    const ds = loadTextDataset(root);
    assert.deepEqual(ds.ids, ["ham/x.txt", "spam/a.txt", "spam/b.txt"]);
    assert.deepEqual(ds.labels, [0, 1, 1]);
    assert.deepEqual(ds.texts, ["meeting at 3", "cheap pills", "buy now"]);
  });

  it("names missing columns and lists the ones present", () => {
    const file = write(dir, "cols.csv", "body,label\nx,1\n");
    const e = validationError(() => loadTextDataset(file));
    assert.match(e.message, /cols\.csv: missing column "text"; the columns are "body", "label"/);
  });

  it("reports every bad row with its row and file line: empty, non-string, missing label, wrong field count", () => {
    const csv = write(dir, "bad.csv", 'text,label\nok,ham\n"   ",spam\n"multi\nline",\nonly one field\nfine,spam\n');
    const e = validationError(() => loadTextDataset(csv));
    assert.deepEqual(
      e.issues.map((i) => [i.row, i.location]),
      [
        [2, "line 3"],
        [3, "line 4"],
        [4, "line 6"],
      ],
    );
    assert.match(e.issues[0].problem, /text is empty/);
    assert.match(e.issues[1].problem, /label is missing/);
    assert.match(e.issues[2].problem, /has 1 fields, the header has 2/);
    assert.match(e.message, /bad\.csv: 3 invalid rows\n {2}row 2 \(line 3\): text is empty/);

    const jsonl = write(dir, "bad.jsonl", '{"text": 5, "label": "a"}\n{"text": "x", "label": 1.5}\nnot json\n[1]\n{"text": "y", "label": "b"}\n');
    const j = validationError(() => loadTextDataset(jsonl));
    assert.deepEqual(
      j.issues.map((i) => i.location),
      ["line 1", "line 2", "line 3", "line 4"],
    );
    assert.match(j.issues[0].problem, /text is 5, expected a string/);
    assert.match(j.issues[1].problem, /label is 1.5, expected a string or an integer/);
    assert.match(j.issues[2].problem, /not valid JSON/);
    assert.match(j.issues[3].problem, /is an array, expected a JSON object/);
  });

  it("flags labels outside the expected set, a wrong number of classes and duplicate ids", () => {
    const file = write(dir, "labels.csv", "id,text,label\n1,a,ham\n2,b,spam\n3,c,eggs\n2,d,ham\n");
    const e = validationError(() => loadTextDataset(file, { idColumn: "id", labels: ["ham", "spam"] }));
    assert.deepEqual(
      e.issues.map((i) => i.row),
      [3, 4],
    );
    assert.match(e.issues[0].problem, /label "eggs" is not one of the expected labels "ham", "spam"/);
    assert.match(e.issues[1].problem, /id "2" duplicates row 2 \(line 3\)/);
    const binary = validationError(() => loadTextDataset(file, { numClasses: 2 }));
    assert.match(binary.message, /expected 2 distinct labels, found 3: "eggs", "ham", "spam"/);
  });

  it("drops invalid rows only when asked, and reports what it dropped", () => {
    const file = write(dir, "drop.csv", "id,text,label\n1,a,ham\n2,,spam\n3,c,eggs\n4,d,spam\n");
    const ds = loadTextDataset(file, { idColumn: "id", labels: ["ham", "spam"], dropInvalid: true });
    assert.deepEqual(ds.ids, ["1", "4"]);
    assert.deepEqual(
      ds.dropped.map((d) => [d.row, d.location]),
      [
        [2, "line 3"],
        [3, "line 4"],
      ],
    );
    assert.equal(ds.size + ds.dropped.length, 4);
  });

  it("exposes the documents as a danfojs-node DataFrame", () => {
    const ds = loadTextDataset(write(dir, "frame.csv", "text,label\nx,b\ny,a\n"));
    const frame = ds.frame;
    assert.deepEqual(frame.columns, ["id", "text", "label", "labelId", "location"]);
    assert.deepEqual(frame.column("text").values, ["x", "y"]);
    assert.deepEqual(frame.column("label").values, ["b", "a"]);
    assert.deepEqual(frame.column("labelId").values, [1, 0]);
  });
});
