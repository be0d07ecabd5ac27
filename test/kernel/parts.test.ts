/** The kernel's pure parts: wire signing, loop instrumentation, type lookup for exports-only packages, history. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import { decodeMessage, encodeMessage, makeMessage, MessageSigner } from "../../src/kernel/wire";
import { instrumentLoops } from "../../src/kernel/instrument";
import { INTERRUPT_CHECK_NAME, INTERRUPT_POINT_NAME, InterruptController } from "../../src/kernel/interrupt";
import { createPathForwarder, withTypesFromExports } from "../../src/kernel/resolveTsml";
import { KernelHistory } from "../../src/kernel/history";
import { KernelSession } from "../../src/kernel/session";
import type { CellExecutor } from "../../src/kernel/execution";
import type { KernelSockets } from "../../src/kernel/sockets";
import type { JupyterMessage } from "../../src/kernel/wire";
import { repoRoot } from "../helpers";

describe("kernel parts", () => {
  it("wire: a signed message decodes to the same content; a tampered or unsigned one is rejected", () => {
    const signer = new MessageSigner("secret-key");
    const message = makeMessage("execute_request", { code: "1 + 1", silent: false }, undefined, [Buffer.from("client-id")]);
    const frames = encodeMessage(message, signer);
    const decoded = decodeMessage(frames, signer);
    assert.deepStrictEqual(decoded.content, message.content);
    assert.deepStrictEqual(decoded.identities.map(String), ["client-id"]);
    const tampered = frames.slice();
    tampered[tampered.length - 1] = Buffer.from(JSON.stringify({ code: "evil()" }));
    assert.throws(() => decodeMessage(tampered, signer), /invalid HMAC/);
    assert.throws(() => decodeMessage(encodeMessage(message, new MessageSigner("other-key")), signer), /invalid HMAC/);
  });

  it("instrumentLoops: every loop iteration calls the interrupt check, and results are unchanged", () => {
    const js = `let s = 0; const seen = [];
      for (let i = 0; i < 5; i++) s += i;
      while (s < 20) { s++; }
      do { s--; } while (s > 18);
      for (const k in { a: 1, b: 2 }) seen.push(k);
      outer: for (const v of [1, 2, 3]) { for (;;) { continue outer; } }
      globalThis.__partsResult = [s, seen.join("")];`;
    // Iterations: for 5, while 20-10=10, do-while 2, for-in 2, for-of 3, inner for(;;) 3 => 25.
    let checks = 0;
    const g = globalThis as Record<string, unknown>;
    g[INTERRUPT_CHECK_NAME] = () => checks++;
    const inScope = (code: string) => `(() => {\n${code}\n})()`;
    vm.runInThisContext(inScope(js));
    const plain = g.__partsResult;
    assert.strictEqual(checks, 0);
    vm.runInThisContext(inScope(instrumentLoops(js).code));
    assert.deepStrictEqual(g.__partsResult, plain);
    assert.strictEqual(checks, 25);
    delete g.__partsResult;
  });

  it("instrumentLoops: loops in async code await the interrupt point instead (it may yield to the event loop)", async () => {
    const js = `globalThis.__partsAsync = (async () => {
      let n = 0;
      for (let i = 0; i < 4; i++) n += await Promise.resolve(i);
      const sync = () => { let m = 0; while (m < 3) m++; return m; };
      return [n, sync()];
    })();`;
    let points = 0;
    let checks = 0;
    const g = globalThis as Record<string, unknown>;
    g[INTERRUPT_POINT_NAME] = () => {
      points++;
      return points % 2 === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
    };
    g[INTERRUPT_CHECK_NAME] = () => checks++;
    vm.runInThisContext(instrumentLoops(js).code);
    assert.deepStrictEqual(await g.__partsAsync, [6, 3]);
    assert.strictEqual(points, 4, "the async for loop awaits the interrupt point once per iteration");
    assert.strictEqual(checks, 3, "the synchronous arrow's loop calls the plain check");
    delete g.__partsAsync;
  });

  it('withTypesFromExports: vega-lite\'s types (declared only in exports) get a top-level "types"', () => {
    const manifestPath = path.join(repoRoot(), "node_modules", "vega-lite", "package.json");
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
    const patched = JSON.parse(withTypesFromExports(fs.readFileSync(manifestPath, "utf8")));
    assert.strictEqual(patched.types, manifest.exports["."].types);
    const withTypes = JSON.stringify({ name: "x", types: "a.d.ts", exports: { ".": { types: "b.d.ts" } } });
    assert.strictEqual(withTypesFromExports(withTypes), withTypes);
  });

  it("createPathForwarder: tsml maps to the install; a missing package falls back to the install's node_modules", () => {
    const forward = createPathForwarder("/nb", "/opt/tsml");
    assert.strictEqual(forward("/nb/node_modules/tsml/dist/src/index.d.ts"), "/opt/tsml/dist/src/index.d.ts");
    assert.strictEqual(forward("/nb/node_modules/@scope/pkg/index.d.ts"), "/opt/tsml/node_modules/@scope/pkg/index.d.ts");
    assert.strictEqual(forward("/nb/node_modules/@types/node/index.d.ts"), "/nb/node_modules/@types/node/index.d.ts");
    assert.strictEqual(forward("/elsewhere/file.ts"), "/elsewhere/file.ts");
  });

  it("KernelHistory: tail, range and glob search", () => {
    const history = new KernelHistory();
    ["a = 1", "b = 2", "a = 1", "print(a)"].forEach((code, i) => history.record(i + 1, code, null));
    assert.deepStrictEqual(
      history.query({ hist_access_type: "tail", n: 2 }).map((r) => r[2]),
      ["a = 1", "print(a)"],
    );
    assert.deepStrictEqual(
      history.query({ hist_access_type: "range", session: 1, start: 2, stop: 4 }).map((r) => r[1]),
      [2, 3],
    );
    assert.strictEqual(history.query({ hist_access_type: "search", pattern: "a*" }).length, 2);
    assert.strictEqual(history.query({ hist_access_type: "search", pattern: "a*", unique: true }).length, 1);
    assert.deepStrictEqual(history.query({ hist_access_type: "tail", n: 1, output: true })[0][2], ["print(a)", null]);
  });

  it("KernelSession: a request whose handler throws still gets its reply (an error reply) and the idle status", async () => {
    const replies: JupyterMessage[] = [];
    const published: JupyterMessage[] = [];
    const sockets = {
      replyShell: (m: JupyterMessage) => Promise.resolve(void replies.push(m)),
      publish: (m: JupyterMessage) => Promise.resolve(void published.push(m)),
    };
    const broken = () => {
      throw new Error("the converter broke");
    };
    const executor = { complete: broken, inspect: broken, isComplete: broken };
    const session = new KernelSession(
      sockets as unknown as KernelSockets,
      executor as unknown as CellExecutor<JupyterMessage>,
      new InterruptController<JupyterMessage>(),
      { version: "0", typescriptVersion: "0" },
      () => undefined,
    );
    const requests = [
      makeMessage("complete_request", { code: "Math.ma", cursor_pos: 7 }, undefined, [Buffer.from("client")]),
      makeMessage("inspect_request", { code: "Math", cursor_pos: 2, detail_level: 0 }, undefined, [Buffer.from("client")]),
      makeMessage("is_complete_request", { code: "1 +" }, undefined, [Buffer.from("client")]),
    ];
    requests.forEach((r) => session.onShell(r));
    for (let i = 0; i < 100 && published.filter((m) => m.content.execution_state === "idle").length < requests.length; i++)
      await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(
      replies.map((m) => [m.header.msg_type, m.parent_header.msg_id, m.content.status, m.content.evalue]),
      requests.map((r) => [r.header.msg_type.replace("_request", "_reply"), r.header.msg_id, "error", "the converter broke"]),
    );
    assert.ok(
      replies.every((m) => m.identities.map(String).join() === "client"),
      "replies are routed to the client",
    );
    assert.deepStrictEqual(
      published.filter((m) => m.content.execution_state === "idle").map((m) => m.parent_header.msg_id),
      requests.map((r) => r.header.msg_id),
    );
  });
});
