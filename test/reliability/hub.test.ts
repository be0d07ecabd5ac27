/**
 * The Hub client under bad input and faults (issue 24, rows 2, 5-8 and the Hub cases of 16): a revision cannot
 * write outside the cache, an unwritable cache and a stalled connection end with an error, processes sharing one
 * cache download a blob once, and a cached blob changed on disk is refused with the fix.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { HubRepo } from "../../src/hub";
import { fixturePath, tempDir } from "../helpers";
import { FakeHub } from "../hub/fakeHub";
import { runCli } from "./support";

const REPO = "tiny-org/longformer-tiny";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const CASE = fixturePath("longformer-hf", "b_padding_unaligned");
const INPUTS = path.join(CASE, "inputs.json");

/** Runs `body` with environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("reliability: the Hub client confines its paths and bounds its waits (issue 24)", function () {
  this.timeout(90_000);
  let hub: FakeHub;
  let root: string;
  let cacheDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    hub = new FakeHub();
    hub.repos.set(REPO, {
      commit: COMMIT,
      files: new Map(["config.json", "model.safetensors"].map((f) => [f, fs.readFileSync(path.join(CASE, f))] as [string, Buffer])),
    });
    await hub.start();
    root = tempDir("tsml-hub-reliability-");
    cacheDir = path.join(root, "home", "hub");
    env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cacheDir, HF_TOKEN: "", HF_HUB_OFFLINE: "", HF_HUB_DISABLE_PROGRESS_BARS: "1" };
  });
  afterEach(async () => {
    await hub.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const options = () => ({ cacheDir, endpoint: hub.endpoint, token: false as const, progress: false });

  it("2. a revision such as ../../../../victim-notes.txt is refused before any request; the file outside the cache is untouched", async () => {
    hub.anyRevision = true;
    const revision = "../../../../victim-notes.txt";
    const victim = path.resolve(cacheDir, "models--tiny-org--longformer-tiny", "refs", revision);
    fs.mkdirSync(path.dirname(victim), { recursive: true });
    fs.writeFileSync(victim, "my notes\n");
    const run = await runCli(["predict", "--model", REPO, "--revision", revision, "--inputs", INPUTS], { env });
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /revision "\.\.\/\.\.\/\.\.\/\.\.\/victim-notes\.txt" contains "\.\." \(it must stay inside .*refs\)/);
    assert.equal(fs.readFileSync(victim, "utf8"), "my notes\n");
    assert.equal(hub.requests.length, 0, "nothing was asked of the Hub");
    // A branch name with a slash stays allowed.
    const repo = new HubRepo(REPO, { ...options(), revision: "refs/pr/1" });
    await repo.file("config.json");
    assert.equal(fs.readFileSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "refs", "refs", "pr", "1"), "utf8"), COMMIT);
  });

  it("5. HF_HUB_CACHE=/proc/x (mkdir never returns there) and HF_HUB_CACHE a file end with an error naming the cache", async () => {
    const proc = await runCli(["predict", "--model", REPO, "--inputs", INPUTS], { env: { ...env, HF_HUB_CACHE: "/proc/x" }, timeoutMs: 60_000 });
    assert.equal(proc.signal, null, `killed after hanging:\n${proc.output}`);
    assert.notEqual(proc.code, 0);
    assert.match(
      proc.output,
      /Hugging Face Hub cache \(cacheDir, HF_HUB_CACHE or HF_HOME\) \/proc\/x\/models--tiny-org--longformer-tiny: cannot create the folder \/proc\/x/,
    );
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "");
    await assert.rejects(new HubRepo(REPO, { ...options(), cacheDir: file }).file("config.json"), /Hugging Face Hub cache .*a-file is a file, not a folder/);
  });

  it("6. a download that stalls after 1,000 bytes ends with an error naming HF_HUB_DOWNLOAD_TIMEOUT; a HEAD without answer, HF_HUB_ETAG_TIMEOUT", async () => {
    hub.stallAfter.set("model.safetensors", 1000);
    await withEnv({ HF_HUB_DOWNLOAD_TIMEOUT: "0.5" }, async () => {
      await assert.rejects(
        new HubRepo(REPO, options()).file("model.safetensors"),
        /model\.safetensors at revision main: no data from http:\/\/127\.0\.0\.1:\d+ within 0\.5 s \(HF_HUB_DOWNLOAD_TIMEOUT=0\.5; set it higher/,
      );
    });
    const partial = fs.readdirSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "blobs")).filter((f) => f.endsWith(".incomplete"));
    assert.equal(partial.length, 1, "the partial file is kept for the next run to resume");
    const kept = fs.statSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "blobs", partial[0])).size;
    assert.ok(kept >= 1000, `${kept} bytes kept`);
    // The stall is gone: the next run resumes from what was kept.
    hub.stallAfter.clear();
    const file = await new HubRepo(REPO, options()).file("model.safetensors");
    assert.deepEqual(fs.readFileSync(file), fs.readFileSync(path.join(CASE, "model.safetensors")));
    assert.equal(hub.requests.at(-1)?.range, `bytes=${kept}-`, "resumed with a Range request");

    hub.stallHead.add("config.json");
    await withEnv({ HF_HUB_ETAG_TIMEOUT: "0.5" }, async () => {
      await assert.rejects(
        new HubRepo(REPO, { ...options(), cacheDir: path.join(root, "empty") }).file("config.json"),
        /no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.5 s \(HF_HUB_ETAG_TIMEOUT=0\.5/,
      );
      await assert.rejects(
        withEnv({ HF_HUB_ETAG_TIMEOUT: "soon" }, () => new HubRepo(REPO, options())),
        /HF_HUB_ETAG_TIMEOUT must be a positive number of seconds, got "soon"/,
      );
    });
  });

  it("7. three processes loading one repo into one empty cache all succeed, and the blob is downloaded once", async () => {
    hub.slowBlobs.set("model.safetensors", 150);
    const runs = await Promise.all([0, 1, 2].map(() => runCli(["predict", "--model", REPO, "--inputs", INPUTS], { env })));
    assert.equal(runs.length, 3);
    for (const run of runs) assert.equal(run.code, 0, run.output);
    const logits = runs.map((run) => run.output.split("\n").find((line) => line.startsWith('{"logits"')));
    assert.ok(logits[0]);
    assert.deepEqual(logits, [logits[0], logits[0], logits[0]]);
    const blobGets = hub.requests.filter((r) => r.method === "GET" && r.path.startsWith("/blobs/"));
    assert.equal(blobGets.length, 1, "one process downloaded the blob, the others used it");
    const blobs = fs.readdirSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "blobs"));
    assert.equal(blobs.filter((f) => f.includes(".incomplete")).length, 0, blobs.join(", "));
  });

  it("8. one byte flipped in a cached blob: predict refuses it, naming the file and the fix, instead of printing wrong logits", async () => {
    const first = await runCli(["predict", "--model", REPO, "--inputs", INPUTS], { env });
    assert.equal(first.code, 0, first.output);
    const blob = fs.realpathSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "snapshots", COMMIT, "model.safetensors"));
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length - 5] ^= 0x40;
    fs.writeFileSync(blob, bytes);
    const second = await runCli(["predict", "--model", REPO, "--inputs", INPUTS], { env });
    assert.notEqual(second.code, 0, second.output);
    assert.ok(second.output.includes(`the cached file ${blob} is damaged (sha256 is `), second.output);
    assert.ok(second.output.includes(`delete it (rm ${blob}) and load again`), second.output);
    assert.ok(!second.output.includes('{"logits"'), second.output);
  });

  describe("16. unclear Hub messages", () => {
    it("refs/main holding garbage (offline) names the file and what it holds, not 'never downloaded'", async () => {
      await new HubRepo(REPO, options()).file("config.json");
      const ref = path.join(cacheDir, "models--tiny-org--longformer-tiny", "refs", "main");
      fs.writeFileSync(ref, "garbage");
      await assert.rejects(new HubRepo(REPO, { ...options(), localFilesOnly: true }).file("config.json"), (e: Error) => {
        assert.ok(e.message.includes(`${ref} holds "garbage", not a 40-hex commit hash`), e.message);
        assert.ok(!e.message.includes("never downloaded"), e.message);
        return true;
      });
    });

    it("HF_ENDPOINT=notaurl names the variable", async () => {
      await withEnv({ HF_ENDPOINT: "notaurl" }, () => {
        assert.throws(() => new HubRepo(REPO, { cacheDir }), /HF_ENDPOINT "notaurl" is not an http:\/\/ or https:\/\/ URL/);
      });
    });

    it("a redirect loop is reported as one, not as 'no usable ETag'", async () => {
      hub.redirectLoop = true;
      await assert.rejects(new HubRepo(REPO, options()).file("config.json"), (e: Error) => {
        assert.match(e.message, /config\.json at revision main: more than 5 redirects .* redirects in a loop/);
        assert.ok(!e.message.includes("ETag"), e.message);
        return true;
      });
    });
  });
});
