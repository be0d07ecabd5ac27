/**
 * The study on the user's own documents ("text-longformer"), end to end at a tiny size: CSV with dev and test files,
 * JSONL with held-out parts, a folder per class; one label mapping across files; the grid from options.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runStudy, type StudyGridOptions } from "../../src/study";
import { tempDir } from "../helpers";

const WORDS = { cat: "whiskers purr meow mouse", dog: "bark fetch bone leash", bird: "wing feather nest song" } as const;
type Label = keyof typeof WORDS;
/** A short document of class `label`: its words, plus a counter so documents differ. */
const doc = (label: Label, i: number) => `${WORDS[label]} ${WORDS[label].split(" ")[i % 4]} number ${i}`;

describe("study: own data (CSV, JSONL, a folder per class) end to end", function () {
  this.timeout(180_000);
  const root = tempDir("tsml-own-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const grid: StudyGridOptions = { perDeviceBatch: [2], accumulation: [1, 2], learningRates: [3e-3], seeds: 1, budget: { steps: 3 } };
  const common = { size: "small" as const, maxLength: 32, grid, runsDir: path.join(root, "runs"), reportsDir: path.join(root, "reports"), workers: 2 };
  const encodedOf = (gridName: string) => {
    const cache = path.join(root, "runs", ".cache");
    const folders = fs
      .readdirSync(cache)
      .filter((f) => f.startsWith("text-longformer-"))
      .map((f) => path.join(cache, f, "encoded.json"));
    const runConfig = JSON.parse(fs.readFileSync(path.join(root, "runs", gridName, "grid.json"), "utf8")).spec.taskConfig;
    return { folders, runConfig };
  };

  it("CSV with dev and test files: the training file's label mapping for all three, every configuration trained", async () => {
    const csv = (name: string, rows: [Label, number][]) => {
      const file = path.join(root, name);
      fs.writeFileSync(file, "body,kind\n" + rows.map(([l, i]) => `"${doc(l, i)}",${l}`).join("\n") + "\n");
      return file;
    };
    const train = csv(
      "train.csv",
      Array.from({ length: 24 }, (_, i) => [i % 2 ? "cat" : "dog", i]),
    );
    const dev = csv(
      "dev.csv",
      Array.from({ length: 6 }, (_, i) => ["dog", 100 + i]),
    ); // one class only: still dog's id
    const test = csv(
      "test.csv",
      Array.from({ length: 6 }, (_, i) => [i % 2 ? "cat" : "dog", 200 + i]),
    );
    const outcome = await runStudy({ ...common, name: "csv", data: { train, dev, test, textColumn: "body", labelColumn: "kind" } });
    assert.equal(outcome.results.length, 2, "2 configurations x 1 rate x 1 seed");
    assert.ok(
      outcome.results.every((r) => r.steps === 3 && Number.isFinite(r.devF1) && Number.isFinite(r.testF1)),
      "equal steps, dev and test evaluated",
    );
    const { folders } = encodedOf("csv");
    const encoded = folders.map((f) => JSON.parse(fs.readFileSync(f, "utf8"))).find((e) => e.dev.labels.length === 6)!;
    assert.deepEqual(encoded.labelNames, ["cat", "dog"]);
    assert.deepEqual(encoded.dev.labels, Array(6).fill(1), "dev's only class keeps the training id of dog");
    assert.equal(encoded.train.labels.length, 24);
    const html = fs.readFileSync(outcome.report.html, "utf8");
    assert.match(html, /your documents: .*train\.csv, dev .*dev\.csv, test .*test\.csv \(text column &quot;body&quot;, label column &quot;kind&quot;\)/);
    assert.match(html, /equal optimizer steps \(3 each/);
  });

  it("JSONL without dev/test (stratified parts held out) and three classes; a folder per class", async () => {
    const jsonl = path.join(root, "docs.jsonl");
    const labels: Label[] = ["cat", "dog", "bird"];
    fs.writeFileSync(jsonl, Array.from({ length: 45 }, (_, i) => JSON.stringify({ text: doc(labels[i % 3], i), label: labels[i % 3] })).join("\n") + "\n");
    const fromJsonl = await runStudy({ ...common, name: "jsonl", data: { train: jsonl } });
    assert.equal(fromJsonl.results.length, 2);
    const { runConfig } = encodedOf("jsonl");
    assert.equal(runConfig.trainFile, jsonl);
    const cache = path.join(root, "runs", ".cache");
    const encoded = fs
      .readdirSync(cache)
      .map((f) => JSON.parse(fs.readFileSync(path.join(cache, f, "encoded.json"), "utf8")))
      .find((e) => e.labelNames?.length === 3)!;
    assert.deepEqual(encoded.labelNames, ["bird", "cat", "dog"]);
    // 45 documents: 10% (at least one per class) each for dev and test, stratified; no document in two parts.
    assert.equal(encoded.dev.labels.length + encoded.test.labels.length + encoded.train.labels.length, 45);
    assert.deepEqual([...new Set(encoded.dev.labels)].sort(), [0, 1, 2]);

    const folder = path.join(root, "folders");
    for (const label of ["cat", "dog"] as Label[]) {
      fs.mkdirSync(path.join(folder, label), { recursive: true });
      for (let i = 0; i < 15; i++) fs.writeFileSync(path.join(folder, label, `${i}.txt`), doc(label, i));
    }
    const fromFolders = await runStudy({ ...common, name: "folders", data: { train: folder } });
    assert.equal(fromFolders.results.length, 2);
    assert.ok(fromFolders.results.every((r) => Number.isFinite(r.devF1)));
  });
});
