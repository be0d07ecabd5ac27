/**
 * Matrix products on the WASM backend (src/backend/matMulKernels.ts) against tfjs's cpu backend: every transpose
 * flag, batched, shared and broadcast operands, gradients, and tf.fused.matMul's bias and activations — on the native
 * BLAS when it is active, on XNNPACK with explicit transposes when it is not (the same file runs both ways:
 * withoutNative.test.ts runs it again with TSML_NATIVE=0).
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend, nativeStatus } from "../../src/backend";
import { SeededRng } from "../../src/random";
import { compareWithCpu, floats } from "./compareWithCpu";

describe(`matrix products on wasm (${process.env.TSML_NATIVE === "0" ? "TSML_NATIVE=0: XNNPACK" : "native BLAS when active"}) equal the cpu backend's`, function () {
  this.timeout(120_000);
  const rng = new SeededRng(23);

  before(async function () {
    const info = await initBackend();
    if (info.name !== "wasm") this.skip();
    if (process.env.TSML_REQUIRE_NATIVE === "1")
      assert.ok(nativeStatus().active, `TSML_REQUIRE_NATIVE=1 but the native BLAS is off: ${JSON.stringify(nativeStatus())}`);
  });

  it("2-D products with every transpose flag, values and gradients, small to past the BLAS threshold", async () => {
    let checked = 0;
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 7],
      [17, 9, 33],
      [70, 80, 90],
      [130, 64, 65],
    ]) {
      for (const [ta, tb] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        const a = floats(ta ? [k, m] : [m, k], rng);
        const b = floats(tb ? [n, k] : [k, n], rng);
        await compareWithCpu(`matMul ${m}x${k}x${n} ta=${ta} tb=${tb}`, (x, y) => tf.matMul(x, y, ta, tb), [a, b], m * n, rng);
        checked++;
      }
    }
    assert.equal(checked, 20);
  });

  it("batched products: per-batch operands, a shared left or right matrix, and a broadcast tfjs's kernel keeps", async () => {
    // [A's shape, B's shape, transposeA, transposeB, with gradients]: tfjs's gradient of a broadcast product does not
    // reduce over the broadcast axes (on any backend), so those compare values only.
    const cases: [number[], number[], boolean, boolean, boolean][] = [
      [[4, 6, 5], [4, 5, 3], false, false, true],
      [[2, 3, 5, 6], [2, 3, 3, 5], true, true, true],
      [[6, 5], [3, 5, 4], false, false, false], // A shared by every batch
      [[2, 2, 6, 5], [5, 4], false, false, false], // B shared
      [[1, 6, 5], [3, 4, 5], false, true, false], // batch 1 broadcast
      [[2, 1, 4, 5], [1, 3, 5, 2], false, false, false], // broadcast over two axes: tfjs's own kernel
    ];
    for (const [shapeA, shapeB, ta, tb, withGradients] of cases) {
      const out = tf.tidy(() => tf.matMul(tf.zeros(shapeA), tf.zeros(shapeB), ta, tb).shape);
      const upstream = withGradients ? out.reduce((p, d) => p * d, 1) : null;
      await compareWithCpu(`matMul [${shapeA}] x [${shapeB}]`, (x, y) => tf.matMul(x, y, ta, tb), [floats(shapeA, rng), floats(shapeB, rng)], upstream, rng);
    }
  });

  it("empty products: an empty output, and zeros over an empty inner dimension (tfjs's own WASM kernel returns uninitialised memory)", async () => {
    await compareWithCpu("matMul 0x3x4", (x, y) => tf.matMul(x, y), [floats([0, 3], rng), floats([3, 4], rng)], null, rng);
    await compareWithCpu("matMul 2x0x4", (x, y) => tf.matMul(x, y), [floats([2, 0], rng), floats([0, 4], rng)], null, rng);
  });

  it("tf.fused.matMul: bias (per column and scalar) and each activation, with transposes", async () => {
    const activations = ["linear", "relu", "relu6", "prelu", "leakyrelu", "sigmoid", "elu"] as const;
    let checked = 0;
    for (const activation of activations) {
      for (const [ta, tb, biasShape] of [
        [false, true, [40]],
        [true, false, [1]],
        [false, false, null],
      ] as const) {
        const [m, k, n] = [70, 80, 40];
        const inputs = [floats(ta ? [1, k, m] : [1, m, k], rng), floats(tb ? [1, n, k] : [1, k, n], rng)];
        if (biasShape) inputs.push(floats([...biasShape], rng));
        if (activation === "prelu") inputs.push(floats([n], rng));
        const f = (...xs: tf.Tensor[]) =>
          tf.fused.matMul({
            a: xs[0],
            b: xs[1],
            transposeA: ta,
            transposeB: tb,
            bias: biasShape ? xs[2] : undefined,
            activation,
            preluActivationWeights: activation === "prelu" ? xs[xs.length - 1] : undefined,
            leakyreluAlpha: 0.15,
          });
        // Values only: tfjs has no gradient for prelu's weights on every path, and the products' gradients are above.
        await compareWithCpu(`fused.matMul ${activation} ta=${ta} tb=${tb} bias=${JSON.stringify(biasShape)}`, f, inputs, null, rng);
        checked++;
      }
    }
    assert.equal(checked, activations.length * 3);
  });

  it("the same product twice gives the same bits", () => {
    const [a, b] = [tf.randomNormal([300, 200], 0, 1, "float32", 5), tf.randomNormal([200, 100], 0, 1, "float32", 6)];
    const first = tf.tidy(() => tf.matMul(a, b, false, false).dataSync());
    const second = tf.tidy(() => tf.matMul(a, b, false, false).dataSync());
    assert.equal(first.length, 300 * 100);
    assert.ok(
      first.every((v, i) => Object.is(v, second[i])),
      "bit-identical",
    );
    tf.dispose([a, b]);
  });
});
