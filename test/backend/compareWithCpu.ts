/** Comparing a computation on tsml's WASM backend with tfjs's pure-JS cpu backend (an independent implementation). */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import type { SeededRng } from "../../src/random";

/** A tensor's values, made once so that both backends see the same. */
export interface Sample {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype: "float32" | "int32";
}

/** Value of `f` and the gradients of sum(f · upstream) w.r.t. every float input, on the current backend. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, samples: Sample[], upstream: Float32Array | null): { value: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const xs = samples.map((s) => tf.tensor(s.values, s.shape, s.dtype));
    const value = f(...xs);
    if (!upstream) return { value: value.dataSync() as Float32Array, grads: [] };
    const floats = xs.filter((x) => x.dtype === "float32");
    const grads = tf.grads((...args: tf.Tensor[]) => {
      let k = 0;
      const full = xs.map((x) => (x.dtype === "float32" ? args[k++] : x));
      return tf.sum(tf.mul(f(...full), tf.tensor(upstream, value.shape)));
    })(floats);
    return { value: value.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const allowed = 1e-5 + 1e-4 * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= allowed)) assert.fail(`${what}[${i}] = ${got[i]} on wasm, ${want[i]} on cpu`);
  }
}

/** Runs `f` on wasm and on cpu with the same inputs and compares values and gradients. */
export async function compareWithCpu(
  what: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  samples: Sample[],
  upstreamSize: number | null,
  rng: SeededRng,
): Promise<void> {
  const upstream = upstreamSize === null ? null : Float32Array.from({ length: upstreamSize }, () => rng.nextGaussian());
  const before = tf.memory().numTensors;
  const onWasm = valueAndGrads(f, samples, upstream);
  assert.equal(tf.memory().numTensors, before, `${what}: no tensors leak on wasm`);
  await tf.setBackend("cpu");
  try {
    const onCpu = valueAndGrads(f, samples, upstream);
    assertClose(onWasm.value, onCpu.value, `${what} value`);
    assert.equal(onWasm.grads.length, onCpu.grads.length, `${what}: one gradient per float input`);
    onWasm.grads.forEach((g, i) => assertClose(g, onCpu.grads[i], `${what} gradient ${i}`));
  } finally {
    await tf.setBackend("wasm");
  }
}

export function floats(shape: number[], rng: SeededRng): Sample {
  return { shape, dtype: "float32", values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.nextGaussian()) };
}

export function ints(shape: number[], below: number, rng: SeededRng, from = 0): Sample {
  return { shape, dtype: "int32", values: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => from + Math.floor(rng.next() * (below - from))) };
}
