import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { trackBackendMemory } from "../../src/plan";
import { restoresBackend } from "../backends";

/** emmalloc's bookkeeping per allocation: a size at each end, payload rounded up to 4 bytes, at least 8. */
const heapCost = (bytes: number) => 8 + Math.max(8, Math.ceil(bytes / 4) * 4);
/** WASM: the backend's C++ also records each tensor in a hash map (a node of a few dozen bytes). */
const TENSOR_RECORD_BYTES = 128;

/** `actual` is `bytes`, or on WASM at most `buffers` tensor records (and the growth of that map) more. */
function assertHeld(actual: number, bytes: number, buffers: number, backend: string): void {
  const slack = backend === "wasm" ? (buffers + 1) * TENSOR_RECORD_BYTES : 0;
  assert.ok(actual >= bytes && actual <= bytes + slack, `held ${actual}, expected ${bytes}${slack ? ` (+ up to ${slack})` : ""}`);
}

describe("plan/backendMemory: what a backend holds", () => {
  restoresBackend();

  for (const backend of ["wasm", "cpu"] as const) {
    it(`${backend}: counts a buffer once however many tensors share it, follows its release, keeps the peak`, async () => {
      assert.ok(await tf.setBackend(backend));
      const tracker = trackBackendMemory();
      try {
        assert.equal(tracker.backend, backend);
        const cost = backend === "wasm" ? heapCost : (bytes: number) => bytes;
        const a = tf.zeros([1000, 25]); // 100,000 bytes
        assertHeld(tracker.bytes, cost(100000), 1, backend);
        const shared = [a.reshape([25000]), tf.clone(a), a.reshape([50, 500])]; // share a's buffer (tsml's Identity on WASM)
        assertHeld(tracker.bytes, cost(100000), 1, backend);
        const b = tf.ones([7]); // 28 bytes
        assertHeld(tracker.bytes, cost(100000) + cost(28), 2, backend);
        tf.dispose([a, ...shared]);
        assertHeld(tracker.bytes, cost(28), 1, backend);
        b.dispose();
        assertHeld(tracker.bytes, 0, 0, backend);
        assertHeld(tracker.peakBytes, cost(100000) + cost(28), 2, backend);
      } finally {
        tracker.stop();
      }
      // Stopped: the backend's own functions are back and nothing more is counted.
      const c = tf.zeros([100]);
      c.dispose();
    });
  }

  it("wasm: sees what the backend's C++ allocates for itself (XNNPACK's packed copy of a matrix product's right operand)", async () => {
    assert.ok(await tf.setBackend("wasm"));
    const x = tf.ones([4, 64]);
    const w = tf.ones([64, 256]);
    const tracker = trackBackendMemory();
    try {
      const y = tf.matMul(x, w); // 4 x 256 floats: 4 KiB of output
      const held = tracker.bytes;
      y.dispose();
      // The packed copy of w (64 x 256 floats, 64 KiB) stays with w, beyond the output's own 4 KiB.
      assert.ok(held >= heapCost(4 * 4 * 256) + 4 * 64 * 256, `held ${held}`);
      w.dispose(); // releases w's buffer (allocated before tracking: not counted) and its packed copy
      assert.ok(tracker.bytes < 0, `after releasing w: ${tracker.bytes}`);
    } finally {
      tracker.stop();
      tf.dispose([x, w]);
    }
  });
});
