/** Parallel trials share the cores: each trial process gets TSML_THREADS = its share, unless the caller set it. */
import { strict as assert } from "assert";
import { coreCount } from "../../src/backend";
import { withThreadShare } from "../../src/experiments";

describe("experiments: each parallel trial gets its share of the cores", () => {
  const saved = process.env.TSML_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.TSML_THREADS;
    else process.env.TSML_THREADS = saved;
  });

  it("cores / parallel trials, at least one thread each, other variables kept", () => {
    delete process.env.TSML_THREADS;
    const cores = coreCount();
    for (const parallel of [1, 2, 3, cores, 4 * cores]) {
      const env = withThreadShare({ TSML_BACKEND: "wasm" }, parallel);
      assert.equal(env.TSML_BACKEND, "wasm");
      assert.equal(Number(env.TSML_THREADS), Math.max(1, Math.floor(cores / parallel)), `${parallel} parallel trials on ${cores} cores`);
      assert.ok(Number(env.TSML_THREADS) * Math.min(parallel, cores) <= cores, "no oversubscription");
    }
  });

  it("a thread count the caller or this process set is left alone", () => {
    delete process.env.TSML_THREADS;
    assert.equal(withThreadShare({ TSML_THREADS: "1" }, 1).TSML_THREADS, "1");
    process.env.TSML_THREADS = "1";
    assert.equal(withThreadShare({}, 1).TSML_THREADS, undefined, "inherited from this process's environment");
  });
});
