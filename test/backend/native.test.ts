/**
 * The native addon itself (native/blas.c): products and epilogues against a float64 reference, the bounds and
 * overlap checks fuzzed near the end of a buffer (nothing outside C is ever written), the thread settings, and the
 * fallback to WebAssembly when the BLAS or one of its symbols is missing.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { NativeAddon, nativeStatus, resolveThreadCount } from "../../src/backend";
import { SeededRng } from "../../src/random";
import { requireNativeAddon } from "./nativeAddon";

/** C = op(A) op(B) in float64 for one product, from the buffer's floats. */
function referenceProduct(f: Float32Array, ta: boolean, tb: boolean, m: number, n: number, k: number, a: number, b: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += f[a + (ta ? p * m + i : i * k + p)] * f[b + (tb ? j * k + p : p * n + j)];
      out[i * n + j] = sum;
    }
  }
  return out;
}

describe("native addon: BLAS products in place on an ArrayBuffer", function () {
  this.timeout(60_000);
  let addon: NativeAddon;

  before(function () {
    addon = requireNativeAddon(this);
  });

  it("fuzz: 400 random products near the end of the buffer are exact where they fit and refused, untouched, where they do not", () => {
    const rng = new SeededRng(99);
    const int = (below: number) => Math.floor(rng.next() * below);
    let computed = 0;
    let refused = 0;
    for (let trial = 0; trial < 400; trial++) {
      const [m, n, k, count] = [1 + int(9), 1 + int(9), 1 + int(9), 1 + int(3)];
      const [ta, tb] = [rng.next() < 0.5, rng.next() < 0.5];
      const strideA = rng.next() < 0.3 ? 0 : m * k + int(3);
      const strideB = rng.next() < 0.3 ? 0 : k * n + int(3);
      const strideC = m * n + int(3);
      const sizeA = (count - 1) * strideA + m * k;
      const sizeB = (count - 1) * strideB + k * n;
      const sizeC = (count - 1) * strideC + m * n;
      const floatsInBuffer = sizeA + sizeB + sizeC + int(6);
      const f = Float32Array.from({ length: floatsInBuffer }, () => rng.nextGaussian());
      const before = f.slice();
      // A, then B, then C placed at the end of the buffer, sometimes one to three floats past it.
      const a = 0;
      const b = sizeA;
      const overhang = rng.next() < 0.4 ? 1 + int(3) : 0;
      const c = floatsInBuffer - sizeC + overhang;
      if (overhang > 0) {
        assert.throws(() => addon.sgemm(f.buffer, count, +ta, +tb, m, n, k, 4 * a, strideA, 4 * b, strideB, 4 * c, strideC), RangeError);
        assert.ok(
          f.every((v, i) => Object.is(v, before[i])),
          "a refused product writes nothing",
        );
        refused++;
        continue;
      }
      addon.sgemm(f.buffer, count, +ta, +tb, m, n, k, 4 * a, strideA, 4 * b, strideB, 4 * c, strideC);
      const written = new Set<number>();
      for (let i = 0; i < count; i++) {
        const want = referenceProduct(before, ta, tb, m, n, k, a + i * strideA, b + i * strideB);
        want.forEach((w, e) => {
          const at = c + i * strideC + e;
          written.add(at);
          assert.ok(Math.abs(f[at] - w) <= 1e-5 + 1e-5 * Math.abs(w), `trial ${trial}, product ${i}, element ${e}: ${f[at]} vs ${w}`);
        });
      }
      for (let i = 0; i < f.length; i++) if (!written.has(i)) assert.ok(Object.is(f[i], before[i]), `trial ${trial}: float ${i} outside C changed`);
      computed++;
    }
    assert.equal(computed + refused, 400);
    assert.ok(computed > 100 && refused > 100, `both outcomes exercised (${computed} computed, ${refused} refused)`);
  });

  it("refuses misaligned operands, overlaps, overlapping products, bad dimensions and a non-buffer, writing nothing", () => {
    const f = new Float32Array(64).fill(1);
    const call =
      (...args: number[]) =>
      () =>
        addon.sgemm(f.buffer, ...(args as [number, number, number, number, number, number, number, number, number, number, number, number]));
    assert.throws(call(1, 0, 0, 2, 2, 2, 2, 0, 16, 0, 32, 0), /A is misaligned/);
    assert.throws(call(1, 0, 0, 2, 2, 2, 0, 0, 16, 0, 8, 0), /C overlaps A or B/);
    assert.throws(call(2, 0, 0, 2, 2, 2, 0, 4, 32, 4, 128, 3), /strideC must be at least M \* N/);
    assert.throws(call(1, 0, 0, 0, 2, 2, 0, 0, 16, 0, 32, 0), /count, M, N and K must be in \[1, 2\^31\)/);
    assert.throws(call(1, 2, 0, 2, 2, 2, 0, 0, 16, 0, 32, 0), /transA and transB must be 0 or 1/);
    assert.throws(() => addon.sgemm(new Float32Array(8) as unknown as ArrayBuffer, 1, 0, 0, 1, 1, 1, 0, 0, 4, 0, 8, 0), TypeError);
    assert.ok(f.every((v) => v === 1));
  });

  it("epilogue: bias (none, scalar, per column) and each of tfjs's activations, by their formulas", () => {
    const rng = new SeededRng(5);
    const [rows, cols] = [3, 4];
    const formulas: ((x: number, w: number) => number)[] = [
      (x) => x,
      (x) => Math.max(0, x),
      (x) => Math.min(Math.max(0, x), 6),
      (x, w) => (x < 0 ? w * x : x),
      (x) => (x < 0 ? 0.2 * x : x),
      (x) => 1 / (1 + Math.exp(-x)),
      (x) => (x >= 0 ? x : Math.exp(x) - 1),
    ];
    let checked = 0;
    formulas.forEach((formula, activation) => {
      for (const biasSize of [0, 1, cols]) {
        const f = Float32Array.from({ length: rows * cols + cols + cols }, () => 4 * rng.nextGaussian());
        const x = f.slice(0, rows * cols);
        const [bias, prelu] = [rows * cols, rows * cols + cols];
        addon.epilogue(f.buffer, 0, rows, cols, 4 * bias, biasSize, activation, 4 * prelu, cols, 0.2);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < cols; j++) {
            const input = x[r * cols + j] + (biasSize === 0 ? 0 : f[bias + (biasSize === 1 ? 0 : j)]);
            const want = formula(Math.fround(input), f[prelu + j]);
            assert.ok(
              Math.abs(f[r * cols + j] - want) <= 1e-6 * (1 + Math.abs(want)),
              `activation ${activation}, bias ${biasSize}: ${f[r * cols + j]} vs ${want}`,
            );
          }
        }
        checked++;
      }
    });
    assert.equal(checked, 21);
    const g = new Float32Array(16);
    assert.throws(() => addon.epilogue(g.buffer, 0, 2, 4, 0, 4, 0, 0, 0, 0), /bias is outside the buffer or overlaps C/);
    assert.throws(() => addon.epilogue(g.buffer, 0, 2, 4, 32, 3, 0, 0, 0, 0), /1 or cols elements/);
    assert.throws(() => addon.epilogue(g.buffer, 8, 2, 4, 0, 0, 9, 0, 0, 0), /activation must be 0..6/);
  });

  it("setThreads: OpenBLAS reports the count it was given", function () {
    if (!/OpenBLAS/.test((nativeStatus() as { blas: { vendor: string } }).blas.vendor)) this.skip();
    assert.equal(addon.setThreads(1), 1);
    assert.throws(() => addon.setThreads(0), RangeError);
  });
});

describe("threads: TSML_THREADS and initBackend({ threads })", () => {
  const saved = process.env.TSML_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.TSML_THREADS;
    else process.env.TSML_THREADS = saved;
  });

  for (const bad of ["0", "abc", "1000", "1.5", "-2"]) {
    it(`TSML_THREADS=${bad} is an error naming the variable`, () => {
      process.env.TSML_THREADS = bad;
      assert.throws(
        () => resolveThreadCount(),
        new RegExp(`^Error: TSML_THREADS="${bad.replace(".", "\\.")}": expected a whole number of threads from 1 to \\d+`),
      );
    });
  }

  it("a count given in code wins over the variable, and is checked the same way", () => {
    process.env.TSML_THREADS = "abc";
    assert.equal(resolveThreadCount(1), 1);
    assert.throws(() => resolveThreadCount(0), /initBackend\(\{ threads: 0 \}\): expected a whole number/);
  });
});

describe("without a usable BLAS, tsml says why and computes on WebAssembly", function () {
  this.timeout(60_000);
  const script = `
    const tf = require("@tensorflow/tfjs");
    const { initBackend, describeBackend } = require(${JSON.stringify(path.resolve(__dirname, "..", "..", "src", "backend"))});
    initBackend().then((info) => {
      const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]), false, true).arraySync();
      console.log(JSON.stringify({ line: describeBackend(info), blas: info.blas, c }));
    });`;
  const run = (env: Record<string, string>) => {
    const out = execFileSync(process.execPath, ["-e", script], {
      env: { ...process.env, TSML_BACKEND: "wasm", ...env },
      encoding: "utf8",
      cwd: path.resolve(__dirname, "..", "..", ".."),
    });
    return JSON.parse(out.trim().split("\n").pop() ?? "{}") as { line: string; blas: { active: boolean; reason?: string }; c: number[][] };
  };
  const cases: [string, Record<string, string>, RegExp][] = [
    ["a library without cblas_sgemm", { TSML_BLAS_LIBRARY: "libm.so.6" }, /libm\.so\.6 has no cblas_sgemm/],
    ["a library that does not exist", { TSML_BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" }, /no BLAS could be loaded \(.*nonexistent/],
    ["TSML_NATIVE=0", { TSML_NATIVE: "0" }, /disabled by TSML_NATIVE=0/],
  ];
  for (const [what, env, reason] of cases) {
    it(`${what}: the banner names it, and products are still right`, function () {
      if (process.platform !== "linux" && env.TSML_BLAS_LIBRARY === "libm.so.6") this.skip();
      const result = run(env);
      assert.equal(result.blas.active, false);
      assert.match(result.line, reason);
      assert.match(result.line, /native BLAS off: .* \(fix: /);
      assert.deepEqual(result.c, [
        [17, 23],
        [39, 53],
      ]); // [[1,2],[3,4]] · [[5,6],[7,8]]ᵀ by hand
    });
  }
});
