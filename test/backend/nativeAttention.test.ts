/**
 * The native band attention kernels (native/attention.c on the addon's thread pool) against the two other builds of
 * the same formulas: bit for bit against the WebAssembly module compiled from the same band.c, at 1, 2 and 3 threads,
 * and within float32 rounding of a float64 evaluation of band.c's definitions. Then the bounds and overlap checks,
 * fuzzed near the end of a buffer: a refused call writes nothing.
 */
import { strict as assert } from "assert";
import { NativeAddon, resolveThreadCount } from "../../src/backend";
import { bandWasmBase64 } from "../../src/backend/kernels/bandWasm";
import { SeededRng } from "../../src/random";
import { assertSameBits, requireNativeAddon } from "./nativeAddon";

declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

interface BandModule {
  band_scores(q: number, k: number, band: number, scratch: number, batch: number, heads: number, n: number, d: number, w: number): void;
  band_context(p: number, v: number, out: number, batch: number, heads: number, n: number, d: number, w: number): void;
  band_transpose(p: number, out: number, bh: number, n: number, w: number): void;
}

interface Shape {
  batch: number;
  heads: number;
  n: number;
  d: number;
  w: number;
}

/** band.c's definitions in float64: scores[b, e, i, t] = sum_c q[b, i, e, c] k[b, i + t - w, e, c] (0 outside). */
function referenceScores(f: Float32Array, q: number, k: number, { batch, heads, n, d, w }: Shape): Float64Array {
  const width = 2 * w + 1;
  const out = new Float64Array(batch * heads * n * width);
  for (let b = 0; b < batch; b++)
    for (let e = 0; e < heads; e++)
      for (let i = 0; i < n; i++)
        for (let t = 0; t < width; t++) {
          const j = i + t - w;
          if (j < 0 || j >= n) continue;
          let sum = 0;
          for (let c = 0; c < d; c++) sum += f[q + ((b * n + i) * heads + e) * d + c] * f[k + ((b * n + j) * heads + e) * d + c];
          out[((b * heads + e) * n + i) * width + t] = sum;
        }
  return out;
}

/** context[b, i, e, c] = sum_t p[b, e, i, t] v[b, i + t - w, e, c] over keys inside the sequence. */
function referenceContext(f: Float32Array, p: number, v: number, { batch, heads, n, d, w }: Shape): Float64Array {
  const width = 2 * w + 1;
  const out = new Float64Array(batch * n * heads * d);
  for (let b = 0; b < batch; b++)
    for (let e = 0; e < heads; e++)
      for (let i = 0; i < n; i++)
        for (let c = 0; c < d; c++) {
          let sum = 0;
          for (let t = 0; t < width; t++) {
            const j = i + t - w;
            if (j >= 0 && j < n) sum += f[p + ((b * heads + e) * n + i) * width + t] * f[v + ((b * n + j) * heads + e) * d + c];
          }
          out[((b * n + i) * heads + e) * d + c] = sum;
        }
  return out;
}

/** transpose[s, j, m] = p[s, j + m - w, 2w - m] (0 where that row is outside). */
function referenceTranspose(f: Float32Array, p: number, bh: number, n: number, w: number): Float64Array {
  const width = 2 * w + 1;
  const out = new Float64Array(bh * n * width);
  for (let s = 0; s < bh; s++)
    for (let j = 0; j < n; j++)
      for (let m = 0; m < width; m++) {
        const i = j + m - w;
        if (i >= 0 && i < n) out[(s * n + j) * width + m] = f[p + (s * n + i) * width + (width - 1 - m)];
      }
  return out;
}

function assertClose(got: Float32Array, want: Float64Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-5 * Math.abs(want[i]), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

describe("native band attention: the same bits as the WebAssembly module, on every thread count", function () {
  this.timeout(120_000);
  let addon: NativeAddon;
  let threadsBefore: number;

  before(function () {
    addon = requireNativeAddon(this);
    threadsBefore = resolveThreadCount();
  });

  after(() => {
    if (addon) addon.setThreads(threadsBefore);
  });

  // Small shapes (remainder rows and columns of every size, w = 0), then shapes long enough to be cut into several
  // row ranges per head (ROWS_PER_UNIT = 256 in attention.c).
  const rng = new SeededRng(2024);
  const int = (below: number) => Math.floor(rng.next() * below);
  const shapes: Shape[] = [
    ...Array.from({ length: 24 }, () => ({ batch: 1 + int(2), heads: 1 + int(3), n: 1 + int(40), d: 1 + int(40), w: int(10) })),
    { batch: 1, heads: 2, n: 700, d: 64, w: 32 },
    { batch: 2, heads: 1, n: 517, d: 20, w: 7 },
    { batch: 1, heads: 3, n: 300, d: 16, w: 130 },
  ];

  for (const threads of [1, 2, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: scores, context and transpose of ${shapes.length} shapes equal the WebAssembly module's bits and the float64 formulas`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const shape of shapes) {
        const { batch, heads, n, d, w } = shape;
        const [sequence, band] = [batch * n * heads * d, batch * heads * n * (2 * w + 1)];
        const scratch = d * (n + 2 * w + 8);
        // Layout in floats: q, k, band (wasm), band (native), context (wasm), context (native), transposes, scratch.
        const offsets = [
          0,
          sequence,
          2 * sequence,
          2 * sequence + band,
          2 * sequence + 2 * band,
          3 * sequence + 2 * band,
          4 * sequence + 2 * band,
          4 * sequence + 3 * band,
          4 * sequence + 4 * band,
        ];
        const [q, k, bandWasm, bandNative, contextWasm, contextNative, transposeWasm, transposeNative, scratchAt] = offsets;
        const floats = scratchAt + scratch;
        const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * floats) / 65536) + 1 });
        const module = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(bandWasmBase64, "base64")), { env: { memory } }).exports as BandModule;
        const f = new Float32Array(memory.buffer);
        for (let i = 0; i < 2 * sequence; i++) f[i] = rng.nextGaussian();
        const what = `${threads} threads, [${batch}, ${heads}, ${n}, ${d}], w ${w}`;

        module.band_scores(4 * q, 4 * k, 4 * bandWasm, 4 * scratchAt, batch, heads, n, d, w);
        addon.bandScores(memory.buffer, 4 * q, 4 * k, 4 * bandNative, batch, heads, n, d, w);
        assertSameBits(f.subarray(bandNative, bandNative + band), f.subarray(bandWasm, bandWasm + band), `scores, ${what}`);
        assertClose(f.subarray(bandNative, bandNative + band), referenceScores(f, q, k, shape), `scores, ${what}`);

        // The context of the scores (as attention probabilities would be) with k as the values.
        module.band_context(4 * bandWasm, 4 * k, 4 * contextWasm, batch, heads, n, d, w);
        addon.bandContext(memory.buffer, 4 * bandWasm, 4 * k, 4 * contextNative, batch, heads, n, d, w);
        assertSameBits(f.subarray(contextNative, contextNative + sequence), f.subarray(contextWasm, contextWasm + sequence), `context, ${what}`);
        assertClose(f.subarray(contextNative, contextNative + sequence), referenceContext(f, bandWasm, k, shape), `context, ${what}`);

        module.band_transpose(4 * bandWasm, 4 * transposeWasm, batch * heads, n, w);
        addon.bandTranspose(memory.buffer, 4 * bandWasm, 4 * transposeNative, batch * heads, n, w);
        assertSameBits(f.subarray(transposeNative, transposeNative + band), f.subarray(transposeWasm, transposeWasm + band), `transpose, ${what}`);
        assertClose(f.subarray(transposeNative, transposeNative + band), referenceTranspose(f, bandWasm, batch * heads, n, w), `transpose, ${what}`);
        checked++;
      }
      assert.equal(checked, shapes.length);
    });
  }

  it("fuzz: 300 calls with the output near the end of the buffer run where it fits and are refused, writing nothing, where not", () => {
    const fuzz = new SeededRng(7);
    const below = (n: number) => Math.floor(fuzz.next() * n);
    let [computed, refused] = [0, 0];
    for (let trial = 0; trial < 300; trial++) {
      const shape: Shape = { batch: 1 + below(2), heads: 1 + below(2), n: 1 + below(12), d: 1 + below(9), w: below(4) };
      const { batch, heads, n, d, w } = shape;
      const [sequence, band] = [batch * n * heads * d, batch * heads * n * (2 * w + 1)];
      const kernel = ["scores", "context", "transpose"][below(3)];
      const [firstSize, secondSize, outSize] =
        kernel === "scores" ? [sequence, sequence, band] : kernel === "context" ? [band, sequence, sequence] : [band, 0, band];
      const overhang = fuzz.next() < 0.4 ? 1 + below(3) : 0;
      const floats = firstSize + secondSize + outSize + below(5);
      const f = Float32Array.from({ length: floats }, () => fuzz.nextGaussian());
      const before = f.slice();
      const [x, y, out] = [0, firstSize, floats - outSize + overhang];
      const call = () => {
        if (kernel === "scores") addon.bandScores(f.buffer, 4 * x, 4 * y, 4 * out, batch, heads, n, d, w);
        else if (kernel === "context") addon.bandContext(f.buffer, 4 * x, 4 * y, 4 * out, batch, heads, n, d, w);
        else addon.bandTranspose(f.buffer, 4 * x, 4 * out, batch * heads, n, w);
      };
      if (overhang > 0) {
        assert.throws(call, RangeError);
        assert.ok(
          f.every((v, i) => Object.is(v, before[i])),
          `trial ${trial}: a refused call writes nothing`,
        );
        refused++;
        continue;
      }
      call();
      const want =
        kernel === "scores"
          ? referenceScores(before, x, y, shape)
          : kernel === "context"
            ? referenceContext(before, x, y, shape)
            : referenceTranspose(before, x, batch * heads, n, w);
      assertClose(f.subarray(out, out + outSize), want, `trial ${trial} (${kernel})`);
      for (let i = 0; i < out; i++) assert.ok(Object.is(f[i], before[i]), `trial ${trial}: float ${i} outside the output changed`);
      computed++;
    }
    assert.equal(computed + refused, 300);
    assert.ok(computed > 60 && refused > 60, `both outcomes exercised (${computed} computed, ${refused} refused)`);
  });

  it("refuses overlapping, misaligned or malformed operands with an error naming them", () => {
    const f = new Float32Array(4096);
    const [batch, heads, n, d, w] = [1, 2, 8, 4, 2];
    assert.throws(() => addon.bandScores(f.buffer, 0, 256, 4 * 80, batch, heads, n, d, w), /bandScores: band overlaps q or k/);
    assert.throws(() => addon.bandContext(f.buffer, 0, 1024, 1100, batch, heads, n, d, w), /bandContext: out overlaps p or v/);
    assert.throws(() => addon.bandTranspose(f.buffer, 0, 100, batch * heads, n, w), /bandTranspose: out overlaps p/);
    assert.throws(() => addon.bandScores(f.buffer, 2, 256, 2048, batch, heads, n, d, w), /bandScores: q is misaligned/);
    assert.throws(() => addon.bandScores(f.buffer, 0, 256, 2048, batch, 0, n, d, w), /bandScores: batch, heads, n and d must be in \[1, 2\^31\)/);
    assert.throws(
      () => addon.bandContext(f.buffer, 0, 256, 2048, batch, heads, n, d, -1),
      /bandContext: every argument after the buffer must be a non-negative integer/,
    );
    assert.throws(() => addon.bandTranspose(new Float32Array(8) as unknown as ArrayBuffer, 0, 64, 1, 2, 1), /bandTranspose\(buffer: ArrayBuffer/);
    assert.ok(
      f.every((v) => v === 0),
      "nothing was written",
    );
  });
});
