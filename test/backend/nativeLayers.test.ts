/**
 * The native GELU, LayerNorm and softmax kernels (native/layers.c on the addon's thread pool) against the WebAssembly module
 * compiled from the same activations.c: bit for bit, at 1, 2 and 3 threads, for sizes within one work unit and across
 * several, odd widths and rows, with and without a residual; LayerNorm also within float32 rounding of a float64
 * evaluation. Then the checks: an operand past the end of the buffer, misaligned or overlapping is refused, nothing
 * written.
 */
import { strict as assert } from "assert";
import { NativeAddon, resolveThreadCount } from "../../src/backend";
import type { ActivationsModuleExports as ActivationsModule } from "../../src/backend/activationKernels";
import { activationsWasmBase64 } from "../../src/backend/kernels/activationsWasm";
import { SeededRng } from "../../src/random";
import { assertSameBits, requireNativeAddon } from "./nativeAddon";

declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

/** A WebAssembly memory of at least `floats` floats with the activations module instantiated on it. */
function instantiate(floats: number): { memory: { buffer: ArrayBuffer }; module: ActivationsModule; f: Float32Array } {
  const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * floats) / 65536) + 1 });
  const module = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(activationsWasmBase64, "base64")), { env: { memory } })
    .exports as ActivationsModule;
  return { memory, module, f: new Float32Array(memory.buffer) };
}

/** LayerNorm's outputs in float64: x̂ = (v - mean) / sqrt(var + eps), out = x̂ γ + β, v = x (+ residual). */
function referenceLayerNorm(v: Float64Array, gamma: Float32Array, beta: Float32Array, rows: number, width: number, eps: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < width; j++) mean += v[r * width + j] / width;
    let variance = 0;
    for (let j = 0; j < width; j++) variance += (v[r * width + j] - mean) ** 2 / width;
    for (let j = 0; j < width; j++) out[r * width + j] = ((v[r * width + j] - mean) / Math.sqrt(variance + eps)) * gamma[j] + beta[j];
  }
  return out;
}

describe("native GELU, LayerNorm and softmax: the same bits as the WebAssembly module, on every thread count", function () {
  this.timeout(120_000);
  let addon: NativeAddon;

  before(function () {
    addon = requireNativeAddon(this);
  });

  after(() => addon?.setThreads(resolveThreadCount()));

  const geluSizes = [1, 7, 8, 9, 16_385, 100_003];
  // [rows, width]: one unit and several (16384 floats a unit, 64 columns a column unit), widths below and above 16.
  const layerShapes: [number, number][] = [
    [1, 1],
    [3, 5],
    [2, 16],
    [7, 17],
    [300, 128],
    [41, 769],
    [2, 20_000],
  ];
  const rng = new SeededRng(7);

  for (const threads of [1, 2, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: GELU and its gradient at ${geluSizes.length} sizes equal the WebAssembly module's bits`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const n of geluSizes) {
        const [x, dy, outWasm, outNative] = [0, n, 2 * n, 3 * n];
        const { memory, module, f } = instantiate(4 * n);
        for (let i = 0; i < 2 * n; i++) f[i] = 4 * rng.nextGaussian();
        f[0] = n > 3 ? -0 : f[0];
        module.gelu(4 * x, 4 * outWasm, n);
        addon.gelu(memory.buffer, 4 * x, 4 * outNative, n);
        assertSameBits(f.subarray(outNative, outNative + n), f.subarray(outWasm, outWasm + n), `gelu, n ${n}`);
        module.gelu_grad(4 * x, 4 * dy, 4 * outWasm, n);
        addon.geluGrad(memory.buffer, 4 * x, 4 * dy, 4 * outNative, n);
        assertSameBits(f.subarray(outNative, outNative + n), f.subarray(outWasm, outWasm + n), `geluGrad, n ${n}`);
        checked++;
      }
      assert.equal(checked, geluSizes.length);
    });

    it(`${threads} thread${threads > 1 ? "s" : ""}: LayerNorm (with and without a residual) and its gradient at ${layerShapes.length} shapes equal the WebAssembly module's bits and the float64 formulas`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const [rows, width] of layerShapes) {
        for (const withResidual of [false, true]) {
          const size = rows * width;
          // Layout in floats: x, residual, dy, gamma, beta, then out, xHat, invStd, dx, dGamma, dBeta for wasm and native.
          const inputs = { x: 0, residual: size, dy: 2 * size, gamma: 3 * size, beta: 3 * size + width };
          const outputsAt = (base: number) => ({
            out: base,
            xHat: base + size,
            invStd: base + 2 * size,
            dx: base + 2 * size + rows,
            dGamma: base + 3 * size + rows,
            dBeta: base + 3 * size + rows + width,
          });
          const wasm = outputsAt(3 * size + 2 * width);
          const native = outputsAt(wasm.dBeta + width);
          const { memory, module, f } = instantiate(native.dBeta + width);
          for (let i = 0; i < 3 * size + 2 * width; i++) f[i] = rng.nextGaussian() + (i < size ? 3 : 0);
          const residual = withResidual ? 4 * inputs.residual : 0;
          const what = `[${rows}, ${width}]${withResidual ? " + residual" : ""}`;
          module.layer_norm(4 * inputs.x, residual, 4 * inputs.gamma, 4 * inputs.beta, 4 * wasm.out, 4 * wasm.xHat, 4 * wasm.invStd, rows, width, 1e-5);
          addon.layerNorm(
            memory.buffer,
            4 * inputs.x,
            withResidual ? residual : -1,
            4 * inputs.gamma,
            4 * inputs.beta,
            4 * native.out,
            4 * native.xHat,
            4 * native.invStd,
            rows,
            width,
            1e-5,
          );
          for (const name of ["out", "xHat", "invStd"] as const) {
            const length = name === "invStd" ? rows : size;
            assertSameBits(f.subarray(native[name], native[name] + length), f.subarray(wasm[name], wasm[name] + length), `layerNorm ${name}, ${what}`);
          }
          const summed = Float64Array.from({ length: size }, (_, i) => f[inputs.x + i] + (withResidual ? f[inputs.residual + i] : 0));
          const gamma = f.subarray(inputs.gamma, inputs.gamma + width);
          const want = referenceLayerNorm(summed, gamma, f.subarray(inputs.beta, inputs.beta + width), rows, width, 1e-5);
          for (let i = 0; i < size; i++) {
            assert.ok(
              Math.abs(f[native.out + i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])),
              `layerNorm out, ${what}: element ${i} is ${f[native.out + i]}, expected ${want[i]}`,
            );
          }

          module.layer_norm_grad(4 * inputs.dy, 4 * wasm.xHat, 4 * wasm.invStd, 4 * inputs.gamma, 4 * wasm.dx, 4 * wasm.dGamma, 4 * wasm.dBeta, rows, width);
          addon.layerNormGrad(
            memory.buffer,
            4 * inputs.dy,
            4 * wasm.xHat,
            4 * wasm.invStd,
            4 * inputs.gamma,
            4 * native.dx,
            4 * native.dGamma,
            4 * native.dBeta,
            rows,
            width,
          );
          for (const name of ["dx", "dGamma", "dBeta"] as const) {
            const length = name === "dx" ? size : width;
            assertSameBits(f.subarray(native[name], native[name] + length), f.subarray(wasm[name], wasm[name] + length), `layerNormGrad ${name}, ${what}`);
          }
          checked++;
        }
      }
      assert.equal(checked, 2 * layerShapes.length);
    });
  }

  // [B, heads, n, width] of band scores, G global columns, and whether the masks (band and global biases [B, 1, n, width]
  // and [B, 1, 1, G], keep [B, 1, n, 1]) are given.
  const softmaxShapes: [number, number, number, number, number, boolean][] = [
    [2, 3, 5, 17, 2, true],
    [1, 1, 7, 1, 0, false],
    [1, 4, 300, 65, 1, true],
    [3, 2, 9, 8, 0, true],
    [2, 2, 6, 13, 3, false],
  ];
  for (const threads of [1, 2, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: the softmax over [global | band] (with and without masks) and its gradient at ${softmaxShapes.length} shapes equal the WebAssembly module's bits and a float64 reference`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const [B, heads, n, width, G, withMasks] of softmaxShapes) {
        const rows = B * heads * n;
        const [size, globalSize] = [rows * width, rows * G];
        let next = 0;
        const take = (floats: number) => ((next += floats), next - floats);
        const [x, dy, g, gDy, xBias, gBias, keep] = [size, size, globalSize, globalSize, B * n * width, B * G, B * n].map(take);
        const [outWasm, gOutWasm, outNative, gOutNative] = [size, globalSize, size, globalSize].map(take);
        const [gradWasm, gGradWasm, gradNative, gGradNative] = [size, globalSize, size, globalSize].map(take);
        const { memory, module, f } = instantiate(next);
        for (const [at, count] of [
          [x, size],
          [dy, size],
          [g, globalSize],
          [gDy, globalSize],
        ])
          for (let i = 0; i < count; i++) f[at + i] = 3 * rng.nextGaussian();
        for (let i = 0; i < size; i += 5) f[x + i] = -1e9; // excluded scores
        for (let i = 0; i < B * n * width; i++) f[xBias + i] = i % 7 === 2 ? -1e9 : 0;
        for (let i = 0; i < B * G; i++) f[gBias + i] = i === 1 ? -1e9 : 0;
        for (let i = 0; i < B * n; i++) f[keep + i] = i % 4 === 1 ? 0 : 1;
        const what = `[${B}, ${heads}, ${n}, ${width}] + ${G} global${withMasks ? ", masks" : ""}`;
        const mask = (at: number, none: number) => (withMasks ? 4 * at : none);
        const globalAt = (at: number) => (G > 0 ? 4 * at : 0);
        module.softmax(
          4 * x,
          mask(xBias, 0),
          globalAt(g),
          G > 0 ? mask(gBias, 0) : 0,
          mask(keep, 0),
          4 * outWasm,
          globalAt(gOutWasm),
          rows,
          width,
          G,
          heads,
          n,
        );
        const native = [4 * x, mask(xBias, -1), globalAt(g), G > 0 ? mask(gBias, -1) : -1, mask(keep, -1), 4 * outNative, globalAt(gOutNative)] as const;
        addon.softmax(memory.buffer, ...native, rows, width, G, heads, n);
        assertSameBits(f.subarray(outNative, outNative + size), f.subarray(outWasm, outWasm + size), `softmax, ${what}`);
        assertSameBits(f.subarray(gOutNative, gOutNative + globalSize), f.subarray(gOutWasm, gOutWasm + globalSize), `softmax global columns, ${what}`);
        let excluded = 0;
        for (let r = 0; r < rows; r++) {
          const [b, i] = [Math.floor(r / (heads * n)), r % n];
          // float64: the row [global + globalBias | band + bandBias], its softmax, times keep.
          const scores = [
            ...Array.from({ length: G }, (_, j) => f[g + r * G + j] + (withMasks ? f[gBias + b * G + j] : 0)),
            ...Array.from({ length: width }, (_, j) => f[x + r * width + j] + (withMasks ? f[xBias + (b * n + i) * width + j] : 0)),
          ];
          const high = Math.max(...scores);
          const e = scores.map((v) => Math.exp(v - high));
          const total = e.reduce((a, v) => a + v, 0);
          const factor = withMasks ? f[keep + b * n + i] : 1;
          const got = [...f.subarray(gOutNative + r * G, gOutNative + (r + 1) * G), ...f.subarray(outNative + r * width, outNative + (r + 1) * width)];
          got.forEach((v, j) => {
            assert.ok(Math.abs(v - (e[j] / total) * factor) < 1e-6, `softmax, ${what}: row ${r}, column ${j}: ${v} vs ${(e[j] / total) * factor}`);
            if (scores[j] - high < -87) {
              excluded++;
              assert.equal(v, 0, `softmax, ${what}: row ${r}: a score 87 below the row's maximum gets exactly 0`);
            }
          });
        }
        assert.ok(excluded > 0 || width + G === 1, `softmax, ${what}: some scores were excluded`);
        module.softmax_grad(4 * outWasm, 4 * dy, globalAt(gOutWasm), globalAt(gDy), 4 * gradWasm, globalAt(gGradWasm), rows, width, G);
        addon.softmaxGrad(memory.buffer, 4 * outWasm, 4 * dy, globalAt(gOutWasm), globalAt(gDy), 4 * gradNative, globalAt(gGradNative), rows, width, G);
        assertSameBits(f.subarray(gradNative, gradNative + size), f.subarray(gradWasm, gradWasm + size), `softmaxGrad, ${what}`);
        assertSameBits(f.subarray(gGradNative, gGradNative + globalSize), f.subarray(gGradWasm, gGradWasm + globalSize), `softmaxGrad global columns, ${what}`);
        for (let r = 0; r < rows; r++) {
          const p = [...f.subarray(gOutWasm + r * G, gOutWasm + (r + 1) * G), ...f.subarray(outWasm + r * width, outWasm + (r + 1) * width)];
          const d = [...f.subarray(gDy + r * G, gDy + (r + 1) * G), ...f.subarray(dy + r * width, dy + (r + 1) * width)];
          const dot = p.reduce((a, v, j) => a + v * d[j], 0);
          const got = [...f.subarray(gGradNative + r * G, gGradNative + (r + 1) * G), ...f.subarray(gradNative + r * width, gradNative + (r + 1) * width)];
          got.forEach((v, j) => assert.ok(Math.abs(v - p[j] * (d[j] - dot)) < 1e-5, `softmaxGrad, ${what}: row ${r}, column ${j}`));
        }
        checked++;
      }
      assert.equal(checked, softmaxShapes.length);
    });
  }

  it("refuses operands past the end of the buffer, misaligned or overlapping, and bad sizes, writing nothing", () => {
    const buffer = new Float32Array(64);
    const b = buffer.buffer;
    assert.throws(() => addon.gelu(b, 0, 4 * 40, 32), /gelu: out is misaligned, too large or extends past the end of the buffer/);
    assert.throws(() => addon.gelu(b, 2, 4 * 32, 8), /gelu: x is misaligned/);
    assert.throws(() => addon.gelu(b, 0, 4 * 4, 8), /gelu: out overlaps x/);
    assert.throws(() => addon.gelu(b, 0, 4 * 8, 0), /gelu: n must be in \[1, 2\^31\)/);
    assert.throws(() => addon.geluGrad(b, 0, 4 * 60, 4 * 16, 8), /geluGrad: dy is misaligned, too large or extends past the end/);
    assert.throws(() => addon.geluGrad(b, 0, 4 * 8, 4 * 12, 8), /geluGrad: out overlaps dy/);
    // layerNorm over [4, 4]: x 0..16, gamma 16..20, beta 20..24, out 24..40, xHat 40..56, invStd 56..60.
    assert.throws(() => addon.layerNorm(b, 0, -1, 64, 80, 96, 160, 248, 4, 4, 1e-5), /layerNorm: invStd is misaligned, too large or extends past the end/);
    assert.throws(() => addon.layerNorm(b, 0, -1, 64, 80, 96, 160, 4 * 56, 4, 4, -1), /layerNorm: eps must be a number >= 0/);
    assert.throws(() => addon.layerNorm(b, 0, -1, 64, 80, 96, 96, 4 * 56, 4, 4, 1e-5), /layerNorm: out overlaps xHat/);
    assert.throws(() => addon.layerNorm(b, 0, 4 * 30, 64, 80, 96, 160, 4 * 56, 4, 4, 1e-5), /layerNorm: out overlaps residual/);
    assert.throws(
      () => addon.layerNorm(b, 0, -2, 64, 80, 96, 160, 4 * 56, 4, 4, 1e-5),
      /layerNorm: every argument after the buffer must be a non-negative integer \(residual: -1 for none\)/,
    );
    assert.throws(() => addon.layerNormGrad(b, 0, 64, 128, 144, 160, 224, 244, 4, 4), /layerNormGrad: dBeta is misaligned, too large or extends past the end/);
    assert.throws(() => addon.layerNormGrad(b, 0, 64, 128, 144, 160, 160, 200, 4, 4), /layerNormGrad: dx overlaps dGamma/);
    assert.throws(() => addon.layerNormGrad(b, 0, 64, 128, 144, 160, 224, 232, 0, 4), /layerNormGrad: rows and width must be in \[1, 2\^31\)/);
    // softmax over [1, 2, 2, 4] (rows 4, width 4): x 0..16, keep 16..18, out 32..48; one global column: 20..24, its output 24..28.
    const softmax = (out: number, heads: number, keep = 64, globalOut = 0, globalWidth = 0) =>
      addon.softmax(b, 0, -1, globalWidth ? 80 : 0, -1, keep, out, globalOut, 4, 4, globalWidth, heads, 2);
    assert.throws(() => softmax(4 * 50, 2), /softmax: out is misaligned, too large or extends past the end/);
    assert.throws(() => softmax(4 * 8, 2), /softmax: out overlaps x/);
    assert.throws(() => softmax(128, 3), /softmax: rows must be a multiple of heads n/);
    assert.throws(
      () => softmax(128, 2, -2),
      /softmax: every argument after the buffer must be a non-negative integer \(xBias, globalBias, keep: -1 for none\)/,
    );
    assert.throws(() => softmax(128, 2, 64, 4 * 34, 1), /softmax: out overlaps globalOut/);
    assert.throws(() => softmax(128, 2, 64, 4 * 62, 1), /softmax: globalOut is misaligned, too large or extends past the end/);
    assert.throws(() => addon.softmaxGrad(b, 0, 64, 0, 0, 4 * 52, 0, 4, 4, 0), /softmaxGrad: out is misaligned, too large or extends past the end/);
    assert.throws(() => addon.softmaxGrad(b, 0, 64, 0, 0, 64, 0, 4, 4, 0), /softmaxGrad: out overlaps dy/);
    assert.throws(() => addon.softmaxGrad(b, 0, 64, 128, 144, 160, 4 * 62, 4, 4, 1), /softmaxGrad: globalOut is misaligned, too large or extends past the end/);
    assert.ok(
      buffer.every((v) => v === 0),
      "nothing was written",
    );
  });
});
