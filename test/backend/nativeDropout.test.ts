/**
 * Native dropout (native/dropout.c on the addon's pool) gives the bits of x times the JavaScript formula's mask
 * (fillDropoutMask) at every thread count, for sizes within one work unit and across several, writing only its
 * output; its checks refuse an operand outside the buffer, overlapping, or a bad count, key or rate, writing nothing.
 */
import { strict as assert } from "assert";
import { NativeAddon, fillDropoutMask, resolveThreadCount } from "../../src/backend";
import { requireNativeAddon } from "./nativeAddon";

describe("native dropout: x times the JavaScript formula's mask, bit for bit, on every thread count", function () {
  this.timeout(60_000);
  let addon: NativeAddon;

  before(function () {
    addon = requireNativeAddon(this);
  });

  after(() => addon?.setThreads(resolveThreadCount()));

  const cases = [
    { count: 1, key: 0, rate: 0 },
    { count: 1000, key: 2166136261, rate: 0.1 },
    { count: 65_537, key: 4294967295, rate: 0.5 },
    { count: 300_001, key: 12345, rate: 0.9 },
  ];
  for (const threads of [1, 3]) {
    it(`${threads} thread${threads > 1 ? "s" : ""}: dropoutApply of ${cases.length} tensors equals x times fillDropoutMask's mask, bit for bit`, () => {
      addon.setThreads(threads);
      let checked = 0;
      for (const { count, key, rate } of cases) {
        const mask = new Float32Array(count);
        fillDropoutMask(mask, key, rate);
        const buffer = new Float32Array(2 * count + 1).fill(-7);
        const x = buffer.subarray(0, count);
        for (let i = 0; i < count; i++) x[i] = Math.sin(i) * 5 * (i % 3 === 0 ? -1 : 1);
        addon.dropoutApply(buffer.buffer, 0, 4 * count, count, key, rate);
        assert.equal(buffer[2 * count], -7, "the float after the output is untouched");
        for (let i = 0; i < count; i++) assert.ok(Object.is(x[i], Math.fround(Math.sin(i) * 5 * (i % 3 === 0 ? -1 : 1))), `x[${i}] is untouched`);
        const got = buffer.subarray(count, 2 * count);
        for (let i = 0; i < count; i++) {
          const want = Math.fround(x[i] * mask[i]);
          assert.ok(Object.is(got[i], want), `count ${count}, key ${key}, rate ${rate}: element ${i} is ${got[i]}, expected ${want}`);
        }
        checked++;
      }
      assert.equal(checked, cases.length);
    });
  }

  it("refuses an output past the end of the buffer, a misaligned or overlapping one, and bad counts, keys or rates, writing nothing", () => {
    const buffer = new Float32Array(16);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 32, 12, 1, 0.1), /dropoutApply: out is misaligned or extends past the end/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 40, 0, 8, 1, 0.1), /dropoutApply: x is misaligned or extends past the end/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 16, 8, 1, 0.1), /dropoutApply: out overlaps x/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 32, 8, -1, 0.1), /dropoutApply: key must be in \[0, 2\^32\)/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 32, 8, 1, -0.5), /dropoutApply: rate must be in \[0, 1\)/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 32, 0, 1, 0.1), /dropoutApply: count must be in \[1, 2\^31\)/);
    assert.throws(() => addon.dropoutApply(buffer.buffer, 0, 32, 8, 2 ** 32, 0.1), /dropoutApply: key must be in \[0, 2\^32\)/);
    assert.ok(
      buffer.every((v) => v === 0),
      "nothing was written",
    );
  });
});
