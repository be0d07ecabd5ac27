/** The native addon for the suites that test it: skipped where it is off, a failure where CI requires it; bit-for-bit comparison. */
import { strict as assert } from "assert";
import { NativeAddon, nativeStatus } from "../../src/backend";

/** The active addon; skips the calling suite when it is off, unless TSML_REQUIRE_NATIVE=1 (then it fails, naming why). */
export function requireNativeAddon(suite: Mocha.Context): NativeAddon {
  const status = nativeStatus();
  if (!status.active) {
    if (process.env.TSML_REQUIRE_NATIVE === "1") assert.fail(`TSML_REQUIRE_NATIVE=1 but the native addon is off: ${status.reason}`);
    suite.skip();
  }
  return status.addon;
}

/** Asserts that `a` and `b` hold the same float32 bits, element by element. */
export function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const [x, y] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  assert.equal(x.length, y.length, `${what}: length`);
  for (let i = 0; i < x.length; i++) assert.equal(x[i], y[i], `${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}
