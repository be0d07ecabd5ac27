/**
 * Add, Sub and Multiply on the native pool (native/elementwise.c through src/backend/elementwiseKernels.ts): the
 * broadcast layout they are given (closed-form cases), the bits of tfjs's cpu backend for every broadcast a
 * transformer uses at 1, 2 and 3 threads (one IEEE operation per element: identical), tfjs's own kernel below the
 * size threshold, and the addon's checks (nothing written on a refused call).
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { NativeAddon, initBackend, resolveThreadCount } from "../../src/backend";
import { NATIVE_ELEMENTWISE_MIN, broadcastLayout } from "../../src/backend/elementwiseKernels";
import { SeededRng } from "../../src/random";
import { requireNativeAddon } from "./nativeAddon";

describe("native Add, Sub and Multiply with broadcasting: the cpu backend's bits on every thread count", function () {
  this.timeout(120_000);
  let addon: NativeAddon;

  before(async function () {
    addon = requireNativeAddon(this);
    assert.equal((await initBackend()).name, "wasm");
  });

  after(() => addon?.setThreads(resolveThreadCount()));

  it("lays out the broadcast: size-1 axes dropped, axes broadcast alike merged, strides 0 where an operand repeats", () => {
    // [2, 3, 4] op [4]: the two leading axes merge (a full, b broadcast); the last is full in both.
    assert.deepEqual(Array.from(broadcastLayout([2, 3, 4], [2, 3, 4], [4])), [2, 6, 4, 4, 1, 0, 1]);
    // [1, 12, 64, 9] op [1, 1, 64, 1] (a mask over heads and columns): three runs, b broadcast over heads and columns.
    assert.deepEqual(Array.from(broadcastLayout([1, 12, 64, 9], [1, 12, 64, 9], [1, 1, 64, 1])), [3, 12, 64, 9, 576, 9, 1, 0, 1, 0]);
    // Same shapes: one run.
    assert.deepEqual(Array.from(broadcastLayout([5, 7], [5, 7], [5, 7])), [1, 35, 1, 1]);
    // A scalar against a matrix, and the outer product of a column and a row.
    assert.deepEqual(Array.from(broadcastLayout([5, 7], [], [5, 7])), [1, 35, 0, 1]);
    assert.deepEqual(Array.from(broadcastLayout([5, 7], [5, 1], [1, 7])), [2, 5, 7, 1, 0, 0, 1]);
    // Everything of size 1.
    assert.deepEqual(Array.from(broadcastLayout([1, 1], [1], [1, 1])), [1, 1, 1, 1]);
  });

  const rng = new SeededRng(3);
  const random = (shape: number[]) => Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.nextGaussian() * 3);
  // [a shape, b shape]: same shapes, a bias row, a band mask over heads, a keep-mask column over heads and columns,
  // a scalar, column x row, and one below the threshold (tfjs's own kernel).
  const cases: [number[], number[]][] = [
    [
      [300, 130],
      [300, 130],
    ],
    [[1024, 129], [129]],
    [
      [2, 4, 100, 129],
      [2, 1, 100, 129],
    ],
    [
      [1, 4, 256, 65],
      [1, 1, 256, 1],
    ],
    [[70_000], []],
    [
      [400, 1],
      [1, 300],
    ],
    [
      [10, 10],
      [10, 10],
    ],
  ];

  for (const threads of [1, 2, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: add, sub and mul of ${cases.length} broadcasts equal the cpu backend bit for bit, both operand orders`, async () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const [aShape, bShape] of cases) {
        const [av, bv] = [random(aShape), random(bShape)];
        const ops = [tf.add, tf.sub, tf.mul];
        const run = () =>
          ops.flatMap((op) =>
            tf.tidy(() => {
              const [a, b] = [tf.tensor(av, aShape), tf.tensor(bv, bShape)];
              return [op(a, b).dataSync(), op(b, a).dataSync()];
            }),
          );
        const before = tf.memory().numTensors;
        const wasm = run();
        assert.equal(tf.memory().numTensors, before, "no tensor leaks");
        await tf.setBackend("cpu");
        let cpu: ReturnType<typeof run>;
        try {
          cpu = run();
        } finally {
          await tf.setBackend("wasm");
        }
        assert.equal(wasm.length, 6);
        wasm.forEach((values, i) => {
          assert.equal(values.length, cpu[i].length);
          for (let j = 0; j < values.length; j++) {
            assert.ok(Object.is(values[j], cpu[i][j]), `[${aShape}] op [${bShape}], result ${i}: element ${j} is ${values[j]}, cpu ${cpu[i][j]}`);
          }
        });
        checked++;
      }
      assert.equal(checked, cases.length);
      assert.ok(10 * 10 < NATIVE_ELEMENTWISE_MIN, "the last case runs tfjs's own kernel");
    });
  }

  it("refuses operands outside the buffer, overlapping, or a malformed layout, writing nothing", () => {
    const buffer = new Float32Array(64);
    const b = buffer.buffer;
    const layout = (shape: number[], as: number[], bs: number[]) => Int32Array.from([shape.length, ...shape, ...as, ...bs]);
    const flat16 = layout([16], [1], [1]);
    assert.throws(() => addon.binary(b, 3, 0, 64, 128, flat16), /binary: op must be 0 \(add\), 1 \(subtract\) or 2 \(multiply\)/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 4 * 50, flat16), /binary: out is misaligned, too large or extends past the end/);
    assert.throws(() => addon.binary(b, 0, 0, 4 * 50, 128, flat16), /binary: b is misaligned, too large or extends past the end/);
    assert.throws(() => addon.binary(b, 0, 2, 64, 128, flat16), /binary: a is misaligned/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 32, flat16), /binary: out overlaps a or b/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 128, layout([4, 4], [4, 1], [0, 100])), /binary: b is misaligned, too large or extends past the end/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 128, layout([0], [1], [1])), /binary: every size must be in \[1, 2\^31\)/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 128, layout([4], [-1], [1])), /binary: strides must be non-negative/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 128, Int32Array.from([2, 4])), /binary: layout must hold a rank in \[1, 8\]/);
    assert.throws(() => addon.binary(b, 0, 0, 64, 128, new Float32Array(4) as unknown as Int32Array), /binary: layout must be an Int32Array/);
    assert.ok(
      buffer.every((v) => v === 0),
      "nothing was written",
    );
  });
});
