/** danfojs DataFrames and Series as notebook tables (text/html, aligned text/plain, Table Schema data), as pandas shows its frames. */
import { strict as assert } from "assert";
import type * as Danfo from "danfojs-node";
import { toMimeBundle } from "../../src/display";

const DATARESOURCE = "application/vnd.dataresource+json";
const dfd = require("danfojs-node") as typeof Danfo;

type DataResource = { schema: { fields: { name: string; type: string }[]; primaryKey: string[] }; data: Record<string, unknown>[] };

describe("display: danfojs frames as tables", function () {
  this.timeout(60_000);

  it("a short DataFrame: every row, dtypes under the names, a column of fractions rounded to one number of decimals", async () => {
    const frame = new dfd.DataFrame({ name: ["a<b", "c"], share: [0.5, 0.125], count: [3, 40] });
    const bundle = await toMimeBundle(frame);
    assert.deepEqual(Object.keys(bundle).sort(), [DATARESOURCE, "text/html", "text/plain"].sort());
    const lines = String(bundle["text/plain"]).split("\n");
    assert.deepEqual(
      lines.slice(0, 4).map((l) => l.trim().split(/\s+/)),
      [
        ["name", "share", "count"],
        ["string", "float32", "int32"],
        ["0", "a<b", "0.500", "3"],
        ["1", "c", "0.125", "40"],
      ],
    );
    const width = lines[0].length;
    assert.ok(
      lines.slice(0, 4).every((l) => l.length === width),
      "columns are right-aligned to one width",
    );
    assert.equal(lines.at(-1), "[DataFrame: 2 rows × 3 columns]");
    const html = String(bundle["text/html"]);
    assert.match(html, /<table[^>]*class="dataframe"/);
    assert.equal((html.match(/<td>/g) ?? []).length, 2 * 3);
    assert.match(html, /<td>a&lt;b<\/td>/, "cell text is escaped");
    assert.match(html, /<th>float32<\/th>/);
    assert.match(html, /2 rows × 3 columns/);
    const resource = bundle[DATARESOURCE] as DataResource;
    assert.deepEqual(resource.schema.fields, [
      { name: "index", type: "integer" },
      { name: "name", type: "string" },
      { name: "share", type: "number" },
      { name: "count", type: "integer" },
    ]);
    assert.deepEqual(resource.data, [
      { index: 0, name: "a<b", share: 0.5, count: 3 },
      { index: 1, name: "c", share: 0.125, count: 40 },
    ]);
  });

  it("a long DataFrame: head and tail around a … row, and N rows × M columns", async () => {
    const rows = 1000;
    const steps = Array.from({ length: rows }, (_, i) => i + 1);
    const frame = new dfd.DataFrame({ step: steps, loss: steps.map((s) => 1 / s) });
    const bundle = await toMimeBundle(frame);
    const body = String(bundle["text/plain"]).split("\n").slice(2, -2);
    assert.equal(body.length, 5 + 1 + 5);
    assert.deepEqual(
      body.map((l) => l.trim().split(/\s+/)[0]),
      ["0", "1", "2", "3", "4", "…", "995", "996", "997", "998", "999"],
    );
    assert.deepEqual(body[0].trim().split(/\s+/), ["0", "1", (1).toFixed(6)]);
    assert.deepEqual(body[10].trim().split(/\s+/), ["999", "1000", (1 / 1000).toFixed(6)]);
    assert.match(String(bundle["text/plain"]), /\[DataFrame: 1000 rows × 2 columns\]$/);
    const html = String(bundle["text/html"]);
    assert.equal((html.match(/<tr>/g) ?? []).length, 11);
    assert.match(html, /<tr><th>…<\/th><td>…<\/td><td>…<\/td><\/tr>/);
    assert.match(html, /1000 rows × 2 columns/);
    const resource = bundle[DATARESOURCE] as DataResource;
    assert.equal(resource.data.length, 60, "as pandas: the first display.max_rows rows");
    assert.deepEqual(
      resource.data.map((r) => r.step),
      steps.slice(0, 60),
    );
  });

  it("a Series is a one-column table with its name and dtype", async () => {
    const frame = new dfd.DataFrame({ loss: [2.5, 1e-6, 3e-7] });
    const bundle = await toMimeBundle(frame.loss);
    const lines = String(bundle["text/plain"]).split("\n");
    assert.deepEqual(
      lines.slice(0, 5).map((l) => l.trim().split(/\s+/)),
      [["loss"], ["float32"], ["0", (2.5).toExponential(4)], ["1", (1e-6).toExponential(4)], ["2", (3e-7).toExponential(4)]],
    );
    assert.equal(lines.at(-1), "[Series: 3 rows]");
    assert.equal((bundle[DATARESOURCE] as DataResource).data.length, 3);
  });

  it("an empty DataFrame keeps its columns", async () => {
    const bundle = await toMimeBundle(new dfd.DataFrame([], { columns: ["p", "q"] }));
    assert.match(String(bundle["text/plain"]), /\[DataFrame: 0 rows × 2 columns\]$/);
    assert.deepEqual(
      (bundle[DATARESOURCE] as DataResource).schema.fields.map((f) => f.name),
      ["index", "p", "q"],
    );
  });
});
