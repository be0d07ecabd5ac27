/**
 * tsml's WASM kernels against tfjs's pure-JS cpu backend (stock ops) on random shapes and values: the band
 * attention products with their gradients (the sliding-chunks ops run the kernels on wasm and the blockwise
 * stock-op formulation on cpu), exact GELU, LayerNorm, the attention softmax, and the replaced Transpose, GatherV2, UnsortedSegmentSum, Sum,
 * Slice, PadV2 and Concat with theirs.
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { BAND_SCORES_KERNEL, initBackend } from "../../src/backend";
import { registerWasmTrainingKernels } from "../../src/backend/wasmKernels";
import { activation, layerNorm } from "../../src/models/longformer/ops";
import { LONGFORMER_EXCLUDED_SCORE } from "../../src/models/longformer/masks";
import { type LongformerAttentionMasks, attentionProbs } from "../../src/models/longformer/selfAttention";
import { slidingChunksMatmulAttnProbsValue, slidingChunksQueryKeyMatmul } from "../../src/models/longformer/slidingChunks";

/** The Longformer's exact GELU: its kernels on wasm, stock ops (tf.erf, tf.exp) on cpu. */
const geluOf = (x: tf.Tensor) => activation(x, "gelu");
import { SeededRng } from "../../src/random";
import { compareWithCpu, floats, ints, type Sample } from "./compareWithCpu";

describe("tsml's WASM kernels equal tfjs's cpu backend", function () {
  this.timeout(120_000);
  const rng = new SeededRng(17);

  // Wherever WASM runs, also where initBackend chose tfjs-node: the suite then switches to wasm and back.
  let original = "";
  before(async () => {
    original = (await initBackend()).name;
    require("@tensorflow/tfjs-backend-wasm");
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend("wasm"), "the wasm backend starts");
    await tf.ready();
    assert.ok(tf.getKernel(BAND_SCORES_KERNEL, "wasm"), "band kernels registered on wasm");
  });
  after(async () => void (await tf.setBackend(original)));

  it("band scores and band context, values and gradients, on 24 random shapes", async () => {
    let checked = 0;
    for (let trial = 0; trial < 12; trial++) {
      const w = [1, 2, 3, 4, 8][trial % 5];
      const heads = 1 + (trial % 3);
      const d = [1, 3, 8, 13][trial % 4];
      const batch = 1 + (trial % 2);
      const n = 2 * w * (1 + Math.floor(rng.next() * 5));
      const q = floats([batch, n, heads * d], rng);
      const k = floats([batch, n, heads * d], rng);
      await compareWithCpu(
        `scores b${batch} h${heads} n${n} d${d} w${w}`,
        (a, b) => slidingChunksQueryKeyMatmul(a, b, heads, w),
        [q, k],
        batch * heads * n * (2 * w + 1),
        rng,
      );
      const p = floats([batch, heads, n, 2 * w + 1], rng);
      const v = floats([batch, n, heads * d], rng);
      await compareWithCpu(
        `context b${batch} h${heads} n${n} d${d} w${w}`,
        (a, b) => slidingChunksMatmulAttnProbsValue(a, b, heads, w),
        [p, v],
        batch * n * heads * d,
        rng,
      );
      checked += 2;
    }
    assert.equal(checked, 24);
  });

  it("Transpose: matrices (float32 and int32, size-1 axes around them), a rank-4 permutation, order-keeping ones and swaps of adjacent axes", async () => {
    const cases: [number[], number[]][] = [
      [
        [7, 5],
        [1, 0],
      ],
      [
        [64, 33],
        [1, 0],
      ],
      [
        [1, 17, 1, 40],
        [0, 3, 2, 1],
      ],
      [
        [1, 9],
        [1, 0],
      ],
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ],
      // permutations that keep the order of the axes longer than 1 (shared data): identity, and moving size-1 axes
      [
        [6, 8],
        [0, 1],
      ],
      [
        [1, 4, 1, 32],
        [0, 2, 1, 3],
      ],
      [
        [3, 1, 5],
        [1, 0, 2],
      ],
      // swaps of two adjacent axes over blocks (attention heads split off and merged back)
      [
        [2, 9, 4, 8],
        [0, 2, 1, 3],
      ],
      [
        [3, 5, 7, 2, 3],
        [0, 1, 3, 2, 4],
      ],
      [
        [6, 5, 4],
        [1, 0, 2],
      ],
    ];
    for (const [shape, perm] of cases) {
      await compareWithCpu(
        `transpose [${shape}] by [${perm}]`,
        (x) => tf.transpose(x, perm),
        [floats(shape, rng)],
        shape.reduce((a, b) => a * b, 1),
        rng,
      );
      await compareWithCpu(`int32 transpose [${shape}]`, (x) => tf.transpose(x, perm).toFloat(), [ints(shape, 1000, rng)], null, rng);
    }
    // A transpose that shares its input's data stays correct after the input is disposed, and leaks nothing.
    const before = tf.memory().numTensors;
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [1, 2, 1, 3]);
    const y = tf.transpose(x, [2, 1, 0, 3]);
    x.dispose();
    assert.deepEqual(y.shape, [1, 2, 1, 3]);
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5, 6]);
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("GatherV2 of rows and UnsortedSegmentSum (its gradient), values and gradients", async () => {
    for (const [tableShape, indexShape] of [
      [[10, 4], [7]],
      [
        [50, 3, 2],
        [2, 6],
      ],
      [[5], [9]],
      [[3, 8], [0]],
    ] as [number[], number[]][]) {
      const table = floats(tableShape, rng);
      const indices = ints(indexShape, tableShape[0], rng);
      const outSize = indexShape.reduce((a, b) => a * b, 1) * tableShape.slice(1).reduce((a, b) => a * b, 1);
      await compareWithCpu(`gather [${tableShape}] by [${indexShape}]`, (t, i) => tf.gather(t, i), [table, indices], outSize, rng);
    }
    const x = floats([12, 5], rng);
    const segments = ints([12], 4, rng, -2); // rows with a negative segment are dropped
    await compareWithCpu("unsortedSegmentSum", (a, s) => tf.unsortedSegmentSum(a, s as tf.Tensor1D, 4), [x, segments], 4 * 5, rng);
  });

  it("exact GELU and its gradient (SIMD erf and exp), values and gradients over [-9, 9] and odd sizes", async () => {
    for (const size of [1, 7, 4096]) {
      const x: Sample = {
        shape: [size],
        dtype: "float32",
        values: Float32Array.from({ length: size }, (_, i) => (size === 1 ? 0.3 : -9 + (18 * i) / (size - 1))),
      };
      await compareWithCpu(`gelu [${size}]`, (a) => geluOf(a), [x], size, rng);
    }
  });

  it("Slice, zero PadV2 and Concat along the last axis (and other axes, through tfjs's own), values and gradients", async () => {
    const x = floats([2, 3, 5, 9], rng);
    await compareWithCpu("slice last axis", (a) => tf.slice(a, [0, 0, 0, 2], [-1, -1, -1, 5]), [x], 2 * 3 * 5 * 5, rng);
    await compareWithCpu("slice first column", (a) => tf.slice(a, [0, 0, 0, 0], [2, 3, 5, 1]), [x], 2 * 3 * 5, rng);
    await compareWithCpu("slice other axes", (a) => tf.slice(a, [1, 0, 2, 1], [1, 2, 3, 4]), [x], 1 * 2 * 3 * 4, rng);
    await compareWithCpu(
      "pad last axis",
      (a) =>
        tf.pad(a, [
          [0, 0],
          [0, 0],
          [0, 0],
          [3, 1],
        ]),
      [x],
      2 * 3 * 5 * 13,
      rng,
    );
    await compareWithCpu(
      "pad with a value",
      (a) =>
        tf.pad(
          a,
          [
            [0, 0],
            [0, 0],
            [0, 0],
            [1, 1],
          ],
          2.5,
        ),
      [x],
      2 * 3 * 5 * 11,
      rng,
    );
    await compareWithCpu(
      "pad other axes",
      (a) =>
        tf.pad(a, [
          [1, 0],
          [0, 0],
          [0, 2],
          [1, 1],
        ]),
      [x],
      3 * 3 * 7 * 11,
      rng,
    );
    const y = floats([2, 3, 5, 1], rng);
    await compareWithCpu("concat last axis", (a, b) => tf.concat([a, b, a], 3), [x, y], 2 * 3 * 5 * 19, rng);
    await compareWithCpu("concat other axis", (a) => tf.concat([a, a], 1), [x], 2 * 6 * 5 * 9, rng);
    await compareWithCpu(
      "int32 concat and slice",
      (a, b) => tf.slice(tf.concat([a, b], 1), [0, 2], [-1, 4]).toFloat(),
      [ints([4, 3], 100, rng), ints([4, 5], 100, rng)],
      null,
      rng,
    );
  });

  it("LayerNorm (alone and of x + residual) and its gradient, values and gradients", async () => {
    for (const [rows, width] of [
      [1, 1],
      [7, 5],
      [64, 128],
    ]) {
      const [x, residual, gamma, beta] = [floats([rows, width], rng), floats([rows, width], rng), floats([width], rng), floats([width], rng)];
      await compareWithCpu(`layerNorm [${rows},${width}]`, (a, g, b) => layerNorm(a, g, b, 1e-5), [x, gamma, beta], rows * width, rng);
      await compareWithCpu(
        `layerNorm of a sum [${rows},${width}]`,
        (a, g, b, r) => layerNorm(a.reshape([1, rows, width]), g, b, 1e-12, r.reshape([1, rows, width])),
        [x, gamma, beta, residual],
        rows * width,
        rng,
      );
    }
  });

  it("the attention softmax (band and global columns, masks, keep) and its gradient; excluded scores get exactly 0", async () => {
    let checked = 0;
    for (const [B, h, n, band, G] of [
      [1, 2, 16, 9, 0],
      [2, 3, 24, 13, 2],
      [1, 4, 40, 65, 1],
    ]) {
      // Masks as the encoder builds them: excluded band entries and global slots, and query rows to drop.
      const bandBias = floats([B, 1, n, band], rng).values.map((v) => (v > 0.8 ? LONGFORMER_EXCLUDED_SCORE : 0));
      const slotBias = Float32Array.from({ length: B * G }, (_, i) => (i === G - 1 && B > 1 ? LONGFORMER_EXCLUDED_SCORE : 0));
      const keep = Float32Array.from({ length: B * n }, (_, i) => (i % 7 === 3 ? 0 : 1));
      const probs = (scores: tf.Tensor, global?: tf.Tensor) => {
        const masks = {
          bandBias: tf.tensor(bandBias, [B, 1, n, band]),
          globalSlotBias: tf.tensor(slotBias, [B, 1, 1, G]),
          queryKeep: tf.tensor(keep, [B, 1, n, 1]),
        } as unknown as LongformerAttentionMasks;
        // The two parts side by side, global columns first (HF's layout), so one comparison covers both.
        const parts = attentionProbs(scores, global ?? null, masks);
        return parts.global ? tf.concat([parts.global, parts.band], 3) : parts.band;
      };
      const inputs = [floats([B, h, n, band], rng), ...(G > 0 ? [floats([B, h, n, G], rng)] : [])];
      await compareWithCpu(`attention softmax [${B}, ${h}, ${n}, ${band}] + ${G} global`, probs, inputs, B * h * n * (band + G), rng);
      const onWasm = tf.tidy(() =>
        probs(
          tf.tensor(inputs[0].values as Float32Array, inputs[0].shape),
          G > 0 ? tf.tensor(inputs[1].values as Float32Array, inputs[1].shape) : undefined,
        ).dataSync(),
      );
      const width = band + G;
      for (let row = 0; row < B * h * n; row++) {
        const [b, i] = [Math.floor(row / (h * n)), row % n];
        for (let t = 0; t < band; t++) {
          if (bandBias[(b * n + i) * band + t] !== 0 || keep[b * n + i] === 0)
            assert.equal(onWasm[row * width + G + t], 0, `row ${row}, band column ${t} is exactly 0`);
        }
      }
      checked++;
    }
    assert.equal(checked, 3);
  });

  it("Sum over the leading axes (bias gradients) and over other axes (through tfjs's own), values and gradients", async () => {
    const x = floats([3, 4, 37], rng);
    await compareWithCpu("sum axis 0 of a matrix", (a) => tf.sum(a.reshape([12, 37]), 0), [x], 37, rng);
    await compareWithCpu("sum over leading axes, keepDims", (a) => tf.sum(a, [1, 0], true), [x], 37, rng);
    await compareWithCpu("sum over the last axis", (a) => tf.sum(a, -1), [x], 12, rng);
    await compareWithCpu("sum over everything", (a) => tf.sum(a), [x], 1, rng);
  });

  it("Identity (tf.clone, and every tensor saved for a backward pass) shares data and stays correct after the original is disposed", () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const buffers = () => (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const before = buffers();
    const copy = tf.clone(x);
    assert.equal(buffers(), before, "no new data buffer: the clone shares x's data");
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3, 4]);
    const sum = tf.add(copy, 1);
    assert.deepEqual(Array.from(sum.dataSync()), [2, 3, 4, 5]);
    tf.dispose([copy, sum]);
    assert.equal(buffers(), before - 1, "the data is freed with its last tensor");
  });

  it("GatherV2 refuses an index outside the table, naming it", () => {
    assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], "int32")).dataSync()), /index value 3 is not in \[0, 2\]/);
  });
});

describe("tsml's WASM kernel modules", () => {
  it("are what their C sources compile to (scripts/build-wasm-kernels --check: no data segment, no shadow stack)", function () {
    this.timeout(60_000);
    const { execFileSync, spawnSync } = require("child_process") as typeof import("child_process");
    if (spawnSync("clang", ["--version"]).status !== 0 || spawnSync("wasm-objdump", ["--version"]).status !== 0) this.skip(); // .ci/run installs clang, lld and wabt
    const out = execFileSync("bash", [require("path").join(__dirname, "..", "..", "..", "scripts", "build-wasm-kernels"), "--check"], { encoding: "utf8" });
    assert.match(out, /wasm kernels match their sources: activations\.c band\.c optimizer\.c rows\.c/);
  });
});
