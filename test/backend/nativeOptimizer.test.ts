/**
 * The native AdamW update (native/adamw.c on the addon's pool, moments updated where JavaScript keeps them) against the
 * WebAssembly module compiled from the same optimizer.c: bit for bit, parameters and both moments, at 1, 2 and 3
 * threads, with and without weight decay, sizes within one work unit and across several; then its checks refuse
 * operands outside the buffer, overlapping, or moments of the wrong type or length, writing nothing.
 */
import { strict as assert } from "assert";
import { NativeAddon, resolveThreadCount } from "../../src/backend";
import type { OptimizerModuleExports as OptimizerModule } from "../../src/backend/optimizerKernels";
import { optimizerWasmBase64 } from "../../src/backend/kernels/optimizerWasm";
import { SeededRng } from "../../src/random";
import { assertSameBits, requireNativeAddon } from "./nativeAddon";

declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

describe("native AdamW: the same bits as the WebAssembly module, on every thread count", function () {
  this.timeout(60_000);
  let addon: NativeAddon;

  before(function () {
    addon = requireNativeAddon(this);
  });

  after(() => addon?.setThreads(resolveThreadCount()));

  const sizes = [1, 9, 65_536, 150_001];
  // b1, 1 - b1, b2, 1 - b2, eps, step size, sqrt(bias correction 2), decay factor (float32 values, as adamw.ts passes them)
  const scalars = [0.9, 0.1, 0.999, 0.001, 1e-8, 3e-4, 0.0316, 0.99997].map(Math.fround) as [number, number, number, number, number, number, number, number];
  const rng = new SeededRng(11);

  for (const threads of [1, 2, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: 3 steps at ${sizes.length} sizes, with and without decay, equal the WebAssembly module's parameters and moments`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const n of sizes) {
        for (const decays of [false, true]) {
          // Heap layout in floats: param, grad, out (wasm), out (native), m and v (wasm's copies).
          const [param, grad, outWasm, outNative, mAt, vAt] = [0, n, 2 * n, 3 * n, 4 * n, 5 * n];
          const memory = new WebAssembly.Memory({ initial: Math.ceil((24 * n) / 65536) + 1 });
          const module = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(optimizerWasmBase64, "base64")), { env: { memory } })
            .exports as OptimizerModule;
          const f = new Float32Array(memory.buffer);
          const [m, v] = [new Float32Array(n), new Float32Array(n)];
          for (let i = 0; i < n; i++) f[param + i] = rng.nextGaussian();
          for (let step = 0; step < 3; step++) {
            for (let i = 0; i < n; i++) f[grad + i] = rng.nextGaussian() * 10 ** (rng.next() * 6 - 3);
            module.adamw_step(4 * param, 4 * grad, 4 * outWasm, 4 * mAt, 4 * vAt, n, ...scalars, decays ? 1 : 0);
            addon.adamwStep(memory.buffer, 4 * param, 4 * grad, 4 * outNative, n, m, v, ...scalars, decays);
            const what = `n ${n}, decay ${decays}, step ${step}`;
            assertSameBits(f.subarray(outNative, outNative + n), f.subarray(outWasm, outWasm + n), `param, ${what}`);
            assertSameBits(m, f.subarray(mAt, mAt + n), `m, ${what}`);
            assertSameBits(v, f.subarray(vAt, vAt + n), `v, ${what}`);
            f.copyWithin(param, outWasm, outWasm + n);
          }
          checked++;
        }
      }
      assert.equal(checked, 2 * sizes.length);
    });
  }

  it("refuses operands outside the buffer or overlapping, and moments that are not Float32Arrays of n values, writing nothing", () => {
    const heap = new Float32Array(64);
    const [m, v] = [new Float32Array(8), new Float32Array(8)];
    const s = [0.9, 0.1, 0.999, 0.001, 1e-8, 1e-3, 1, 1] as const;
    const b = heap.buffer;
    assert.throws(() => addon.adamwStep(b, 0, 32, 4 * 60, 8, m, v, ...s, false), /adamwStep: out is misaligned, too large or extends past the end/);
    assert.throws(() => addon.adamwStep(b, 2, 32, 64, 8, m, v, ...s, false), /adamwStep: param is misaligned/);
    assert.throws(() => addon.adamwStep(b, 0, 32, 48, 8, m, v, ...s, false), /adamwStep: out overlaps param or grad/);
    assert.throws(() => addon.adamwStep(b, 0, 32, 64, 8, new Float32Array(7), v, ...s, false), /adamwStep: m must be a Float32Array of n values/);
    assert.throws(
      () => addon.adamwStep(b, 0, 32, 64, 8, m, new Float64Array(8) as unknown as Float32Array, ...s, false),
      /adamwStep: v must be a Float32Array of n values/,
    );
    assert.throws(() => addon.adamwStep(b, 0, 32, 64, 8, m, m, ...s, false), /adamwStep: m overlaps v/);
    assert.throws(() => addon.adamwStep(b, 0, 32, 64, 8, heap.subarray(16, 24), v, ...s, false), /adamwStep: m or v overlaps param, grad or out/);
    assert.throws(() => addon.adamwStep(b, 0, 32, 64, 0, m, v, ...s, false), /adamwStep: n must be in \[1, 2\^31\)/);
    assert.ok(heap.every((x) => x === 0) && m.every((x) => x === 0) && v.every((x) => x === 0), "nothing was written");
  });
});
