/**
 * fromPretrained("org/name") against a local fake Hub (test/hub/fakeHub.ts): download into huggingface_hub's
 * cache layout, reuse without downloads, offline mode, resume after a dropped connection, hash verification,
 * and clear errors for 401/404/offline misses.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as tf from "@tensorflow/tfjs";
import { HubRepo, hubSettings } from "../../src/hub";
import { LongformerForSequenceClassification } from "../../src/models/longformer";
import { loadTokenizer, tokenizerFromPretrained } from "../../src/tokenizers";
import { fixturePath, tempDir } from "../helpers";
import { batchOf, disposeBatch, loadCase } from "../models/longformer/fixtures";
import { FakeHub, gitBlobSha1, sha256 } from "./fakeHub";

const CASE = "b_padding_unaligned";
const REPO = "tiny-org/longformer-tiny";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function caseFile(name: string): Buffer {
  return fs.readFileSync(fixturePath("longformer-hf", CASE, name));
}

/** Every file below `dir`, relative, with symlinks shown as `path -> target`. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else out.push(entry.isSymbolicLink() ? `${rel} -> ${fs.readlinkSync(path.join(dir, rel))}` : rel);
    }
  };
  walk("");
  return out.sort();
}

/** Runs `body` with environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function logitsOf(model: LongformerForSequenceClassification): number[] {
  const batch = batchOf(loadCase(CASE).inputs);
  const logits = model.forward(batch);
  const values = Array.from(logits.dataSync());
  tf.dispose(logits);
  disposeBatch(batch);
  model.dispose();
  return values;
}

describe("Hugging Face Hub: fromPretrained(org/name) through huggingface_hub's cache", function () {
  this.timeout(30_000);
  let hub: FakeHub;
  let cacheDir: string;
  let options: { cacheDir: string; endpoint: string; token: false; progress: false };

  beforeEach(async () => {
    hub = new FakeHub();
    hub.repos.set(REPO, {
      commit: COMMIT,
      files: new Map([
        ["config.json", caseFile("config.json")],
        ["pytorch_model.bin", caseFile("pytorch_model.bin")],
      ]),
    });
    await hub.start();
    cacheDir = tempDir("tsml-hub-");
    options = { cacheDir, endpoint: hub.endpoint, token: false, progress: false };
  });
  afterEach(() => hub.close());

  it("first load downloads pytorch_model.bin into the cache layout; logits equal model.safetensors' exactly", async () => {
    const before = tf.memory().numTensors;
    const fromHub = logitsOf(await LongformerForSequenceClassification.fromPretrained(REPO, options));
    const fromSafetensors = logitsOf(LongformerForSequenceClassification.fromFolder(fixturePath("longformer-hf", CASE)));
    assert.equal(fromHub.length, 4);
    assert.deepEqual(fromHub, fromSafetensors);
    assert.equal(tf.memory().numTensors, before);
    const bin = sha256(caseFile("pytorch_model.bin"));
    const config = gitBlobSha1(caseFile("config.json"));
    assert.deepEqual(
      listing(path.join(cacheDir, "models--tiny-org--longformer-tiny")),
      [
        `.no_exist/${COMMIT}/model.safetensors`,
        `blobs/${bin}`,
        `blobs/${config}`,
        "refs/main",
        `snapshots/${COMMIT}/config.json -> ../../blobs/${config}`,
        `snapshots/${COMMIT}/pytorch_model.bin -> ../../blobs/${bin}`,
      ].sort(),
    );
    assert.equal(fs.readFileSync(path.join(cacheDir, "models--tiny-org--longformer-tiny", "refs", "main"), "utf8"), COMMIT);
    // HEAD config.json (pins the commit), HEAD model.safetensors (404), HEAD pytorch_model.bin; then the two GETs.
    assert.deepEqual(
      hub.fileRequests("HEAD").map((r) => r.path),
      [`/${REPO}/resolve/main/config.json`, `/${REPO}/resolve/${COMMIT}/model.safetensors`, `/${REPO}/resolve/${COMMIT}/pytorch_model.bin`],
    );
    assert.deepEqual(
      hub.fileRequests("GET").map((r) => r.path),
      [`/${REPO}/resolve/main/config.json`, `/blobs/${bin}`],
    );
  });

  it("second load downloads nothing (one HEAD to resolve main); offline (HF_HUB_OFFLINE=1) makes no request at all", async () => {
    (await LongformerForSequenceClassification.fromPretrained(REPO, options)).dispose();
    const first = hub.requests.length;
    (await LongformerForSequenceClassification.fromPretrained(REPO, options)).dispose();
    const second = hub.requests.slice(first);
    assert.deepEqual(
      second.map((r) => `${r.method} ${r.path}`),
      [`HEAD /${REPO}/resolve/main/config.json`],
    );
    const beforeOffline = hub.requests.length;
    await withEnv({ HF_HUB_OFFLINE: "1" }, async () => (await LongformerForSequenceClassification.fromPretrained(REPO, options)).dispose());
    (await LongformerForSequenceClassification.fromPretrained(REPO, { ...options, localFilesOnly: true })).dispose();
    (await LongformerForSequenceClassification.fromPretrained(REPO, { ...options, revision: COMMIT })).dispose();
    assert.equal(hub.requests.length, beforeOffline, "offline and pinned-commit loads make no request");
  });

  it("HF_ENDPOINT, HF_HOME and HF_HUB_CACHE choose the Hub and the cache as in huggingface_hub", async () => {
    const home = tempDir("tsml-hf-home-");
    await withEnv({ HF_ENDPOINT: hub.endpoint, HF_HOME: home, HF_HUB_CACHE: undefined, HUGGINGFACE_HUB_CACHE: undefined, HF_TOKEN: undefined }, async () => {
      assert.equal(hubSettings().cacheDir, path.join(home, "hub"));
      assert.equal(hubSettings().endpoint, hub.endpoint);
      (await LongformerForSequenceClassification.fromPretrained(REPO, { progress: false })).dispose();
      assert.ok(fs.existsSync(path.join(home, "hub", "models--tiny-org--longformer-tiny", "refs", "main")));
    });
    await withEnv({ HF_HUB_CACHE: path.join(home, "elsewhere"), HF_HOME: home }, () => assert.equal(hubSettings().cacheDir, path.join(home, "elsewhere")));
  });

  it("a connection dropped mid-file resumes with a Range request; a partial file from an earlier run is resumed too", async () => {
    const content = caseFile("pytorch_model.bin");
    hub.dropAfter.set("pytorch_model.bin", 50_000);
    const progress: number[] = [];
    const repo = new HubRepo(REPO, { ...options, onProgress: (e) => progress.push(e.downloaded) });
    const file = await repo.file("pytorch_model.bin");
    assert.equal(sha256(fs.readFileSync(file)), sha256(content));
    const gets = hub.fileRequests("GET").filter((r) => r.path.startsWith("/blobs/"));
    assert.deepEqual(
      gets.map((r) => r.range),
      [undefined, "bytes=50000-"],
    );
    assert.equal(progress[progress.length - 1], content.length);
    assert.ok(
      progress.every((v, i) => i === 0 || v >= progress[i - 1] || v === 50_000),
      "progress grows (restarting at the resume point)",
    );

    // An earlier run left 70,000 bytes in blobs/<sha256>.incomplete: the next run asks only for the rest.
    const otherCache = tempDir("tsml-hub-");
    const blobs = path.join(otherCache, "models--tiny-org--longformer-tiny", "blobs");
    fs.mkdirSync(blobs, { recursive: true });
    fs.writeFileSync(path.join(blobs, `${sha256(content)}.incomplete`), content.subarray(0, 70_000));
    const before = hub.requests.length;
    const resumed = await new HubRepo(REPO, { ...options, cacheDir: otherCache }).file("pytorch_model.bin");
    assert.equal(sha256(fs.readFileSync(resumed)), sha256(content));
    assert.deepEqual(
      hub.requests
        .slice(before)
        .filter((r) => r.method === "GET")
        .map((r) => r.range),
      ["bytes=70000-"],
    );
    assert.deepEqual(fs.readdirSync(blobs), [sha256(content)], "no .incomplete left");
  });

  it("bytes that do not match the announced sha256 are rejected and nothing corrupt is left in the cache", async () => {
    hub.corrupt.add("pytorch_model.bin");
    await assert.rejects(LongformerForSequenceClassification.fromPretrained(REPO, options), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `${REPO}: pytorch_model.bin at revision ${COMMIT}: download failed verification \\(sha256 is [0-9a-f]{64}, the Hub says ${sha256(caseFile("pytorch_model.bin"))}\\)`,
        ),
      );
      return true;
    });
    const folder = path.join(cacheDir, "models--tiny-org--longformer-tiny");
    const files = listing(folder);
    assert.ok(!files.some((f) => f.includes("pytorch_model.bin") || f.includes(sha256(caseFile("pytorch_model.bin")))), files.join("\n"));
    // A corrupted small (git) file is caught by its git blob sha1.
    hub.corrupt.clear();
    hub.corrupt.add("config.json");
    await assert.rejects(
      new HubRepo(REPO, { ...options, cacheDir: tempDir() }).file("config.json"),
      /config\.json at revision main: download failed verification \(git sha1 is/,
    );
  });

  it("401 and 404 name the repo and the file; a token is sent only to the Hub and never printed", async () => {
    const secret = "hf_SECRETtoken123";
    hub.repos.set("tiny-org/private", {
      commit: COMMIT,
      token: secret,
      files: new Map([
        ["config.json", caseFile("config.json")],
        ["pytorch_model.bin", caseFile("pytorch_model.bin")],
      ]),
    });
    const messages: string[] = [];
    const expectError = async (promise: Promise<unknown>, pattern: RegExp) =>
      assert.rejects(promise, (e: Error) => {
        messages.push(e.message);
        assert.match(e.message, pattern);
        return true;
      });
    await expectError(
      LongformerForSequenceClassification.fromPretrained("tiny-org/private", options),
      /tiny-org\/private: config\.json at revision main: repository not found or private \(HTTP 401 RepoNotFound\).*no token was given \(pass \{ token \} or set HF_TOKEN\)/,
    );
    await expectError(
      LongformerForSequenceClassification.fromPretrained("tiny-org/private", { ...options, token: "hf_wrong" }),
      /HTTP 401 RepoNotFound.*the token given has no access/,
    );
    await expectError(new HubRepo(REPO, options).file("nope.json"), new RegExp(`${REPO}: the repo has no nope\\.json at revision main`));
    await expectError(
      new HubRepo(REPO, { ...options, revision: "v9" }).file("config.json"),
      /config\.json at revision v9: revision v9 does not exist \(HTTP 404 RevisionNotFound\)/,
    );
    hub.repos.get(REPO)!.files.delete("pytorch_model.bin");
    await expectError(
      LongformerForSequenceClassification.fromPretrained(REPO, options),
      /the repo has no any of model\.safetensors, pytorch_model\.bin at revision main/,
    );

    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array) => (stderr.push(String(chunk)), true);
    try {
      await withEnv({ HF_TOKEN: secret }, async () =>
        (await LongformerForSequenceClassification.fromPretrained("tiny-org/private", { ...options, token: undefined, progress: true })).dispose(),
      );
    } finally {
      process.stderr.write = write;
    }
    assert.ok(stderr.join("").includes("tiny-org/private/pytorch_model.bin"), "the progress display names the file");
    const withToken = hub.requests.filter((r) => r.authorization === `Bearer ${secret}`);
    assert.ok(withToken.length >= 2 && withToken.every((r) => r.path.includes("/resolve/")), "the token goes to resolve URLs only, not to the blob URL");
    for (const text of [...messages, ...stderr]) assert.ok(!text.includes(secret) && !text.includes("hf_wrong"), `token leaked: ${text}`);
  });

  it("offline without a cache says what is missing; an unreachable Hub falls back to the cache", async () => {
    await assert.rejects(LongformerForSequenceClassification.fromPretrained(REPO, { ...options, localFilesOnly: true }), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `${REPO}: config\\.json at revision main is not cached: offline mode \\(HF_HUB_OFFLINE=1 or localFilesOnly\\) allows no download, and the cache .*models--tiny-org--longformer-tiny has no refs/main`,
        ),
      );
      return true;
    });
    assert.equal(hub.requests.length, 0);
    const repo = new HubRepo(REPO, options);
    await repo.file("config.json");
    await assert.rejects(
      new HubRepo(REPO, { ...options, localFilesOnly: true }).file("pytorch_model.bin"),
      new RegExp(`pytorch_model\\.bin at revision main is not cached: offline mode .*snapshot ${COMMIT} in the cache .* has no pytorch_model\\.bin`),
    );
    const endpoint = hub.endpoint;
    await hub.close();
    const cached = await new HubRepo(REPO, { ...options, endpoint }).file("config.json");
    assert.equal(fs.readFileSync(cached, "utf8"), caseFile("config.json").toString());
    await assert.rejects(
      new HubRepo(REPO, { ...options, endpoint }).file("pytorch_model.bin"),
      /pytorch_model\.bin at revision main is not cached: Hugging Face Hub: cannot reach http:\/\/127\.0\.0\.1:\d+/,
    );
    hub = new FakeHub();
    await hub.start();
  });

  it("tokenizerFromPretrained: vocab.json + merges.txt or tokenizer.json from the Hub encode as the local files do", async () => {
    const dir = fixturePath("longformer-hf", "tokenizer");
    const files = new Map(
      ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"].map((f) => [f, fs.readFileSync(path.join(dir, f))] as [string, Buffer]),
    );
    hub.repos.set("tiny-org/tok-slow", { commit: COMMIT, files });
    hub.repos.set("tiny-org/tok-fast", {
      commit: COMMIT,
      files: new Map([
        ["tokenizer.json", zlib.gunzipSync(fs.readFileSync(path.join(dir, "tokenizer.json.gz")))],
        ["tokenizer_config.json", files.get("tokenizer_config.json")!],
      ]),
    });
    const text = "Hello world, this is tsml's Longformer tokenizer.";
    const slow = await tokenizerFromPretrained("tiny-org/tok-slow", options);
    assert.deepEqual(slow.encode(text).ids, loadTokenizer(path.join(dir, "vocab.json")).encode(text).ids);
    const fast = await tokenizerFromPretrained("tiny-org/tok-fast", options);
    assert.deepEqual(fast.encode(text).ids, loadTokenizer(path.join(dir, "tokenizer.json.gz")).encode(text).ids);
    assert.ok(fast.encode(text).ids.length > 5);
    assert.ok(fs.existsSync(path.join(cacheDir, "models--tiny-org--tok-slow", ".no_exist", COMMIT, "tokenizer.json")));
    await assert.rejects(tokenizerFromPretrained("not a repo!", options), /not a repo!: no such folder, and not a Hugging Face Hub repo id/);
  });
});
