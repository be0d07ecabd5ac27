/** The native addon for the suites that test it: skipped where it is off, a failure where CI requires it. */
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
