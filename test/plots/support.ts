/** Shared helpers for the plots tests: schema validation, strict compilation, evaluating specs in a vega View. */
import Ajv from "ajv";
import * as assert from "assert";
import { loadVega, VegaLiteChart, VegaLiteSpec } from "../../src/plots";

let validator: ReturnType<Ajv["compile"]> | undefined;

/** Asserts `spec` validates against vega-lite's shipped JSON schema and compiles without warnings. */
export async function assertValidVegaLite(spec: VegaLiteSpec): Promise<void> {
  if (!validator) {
    const schema = require("vega-lite/vega-lite-schema.json");
    validator = new Ajv({ strict: false, allErrors: false, validateFormats: false, logger: false }).compile(schema);
  }
  const plain = JSON.parse(JSON.stringify(spec));
  assert.ok(validator(plain), `schema errors: ${JSON.stringify(validator.errors?.slice(0, 3))}`);
  const warnings: string[] = [];
  const logger = {
    level() {
      return logger;
    },
    error(...args: unknown[]) {
      throw new Error(`vega-lite error: ${args.join(" ")}`);
    },
    warn(...args: unknown[]) {
      warnings.push(args.join(" "));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  const { vegaLite } = (await loadVega()) as unknown as { vegaLite: { compile(s: unknown, o: unknown): unknown } };
  vegaLite.compile(plain, { logger });
  assert.deepStrictEqual(warnings, [], "vega-lite compile warnings");
}

/** The layers of a layered chart's spec, read as `T` (fails when the spec has no layers). */
export function layersOf<T>(chart: VegaLiteChart): T[] {
  assert.ok("layer" in chart.spec && Array.isArray(chart.spec.layer), `a layered spec, got keys ${Object.keys(chart.spec).join(", ")}`);
  return chart.spec.layer as T[];
}

/** Every dataset of the compiled spec after setting `signals`, as name -> rows. */
export async function evaluateSpec(spec: VegaLiteSpec, signals: Record<string, unknown> = {}): Promise<Record<string, Record<string, unknown>[]>> {
  const { vega, vegaLite } = (await loadVega()) as unknown as {
    vega: { parse(s: unknown): unknown; View: new (r: unknown, o: object) => ViewLike };
    vegaLite: { compile(s: unknown): { spec: { data?: { name: string }[] } } };
  };
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  for (const [name, value] of Object.entries(signals)) view.signal(name, value);
  await view.runAsync();
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const { name } of compiled.data ?? []) out[name] = view.data(name);
  view.finalize();
  return out;
}

interface ViewLike {
  signal(name: string, value: unknown): ViewLike;
  runAsync(): Promise<unknown>;
  data(name: string): Record<string, unknown>[];
  finalize(): void;
}

/** Rows of the first evaluated dataset whose rows carry `field`. */
export function rowsWith(datasets: Record<string, Record<string, unknown>[]>, field: string): Record<string, unknown>[] {
  const found = Object.values(datasets).find((rows) => rows.length > 0 && field in rows[0]);
  assert.ok(found, `no dataset has field ${field}; datasets: ${Object.keys(datasets).join(", ")}`);
  return found;
}

/** A deterministic noisy decaying loss history (LCG noise) with the Trainer's field names. */
export function testHistory(steps: number, batch = 16, seed = 1): { step: number; examplesSeen: number; loss: number; noiseScale?: number }[] {
  let state = seed * 2654435761;
  const noise = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    examplesSeen: (i + 1) * batch,
    loss: 0.3 + Math.exp(-i / 40) + noise() / Math.sqrt(batch),
    ...(i % 10 === 9 ? { noiseScale: 20 + i } : {}),
  }));
}
