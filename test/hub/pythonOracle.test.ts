/**
 * The cache layout checked against the real Python huggingface_hub, both ways: Python resolves offline from a
 * cache tsml wrote (and its cache scanner finds nothing wrong), and tsml resolves offline from a cache Python
 * wrote while downloading from the same fake Hub. Runs only where /usr/bin/python3 can import huggingface_hub
 * (installed, or from the source tree named by TSML_HF_HUB_SRC, default /tmp/hf-oracle/hfhub/src); skipped elsewhere.
 */
import { strict as assert } from "assert";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { HubRepo } from "../../src/hub";
import { fixturePath, tempDir } from "../helpers";
import { FakeHub, sha256 } from "./fakeHub";

const PYTHON = "/usr/bin/python3";
const REPO = "tiny-org/longformer-tiny";
const COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

/** PYTHONPATH under which `import huggingface_hub` works, or undefined when it cannot be imported here. */
function huggingfaceHubPath(): string | undefined {
  if (!fs.existsSync(PYTHON)) return undefined;
  const candidates = [process.env.TSML_HF_HUB_SRC ?? "/tmp/hf-oracle/hfhub/src", ""];
  for (const candidate of candidates) {
    if (candidate && !fs.existsSync(path.join(candidate, "huggingface_hub"))) continue;
    try {
      execFileSync(PYTHON, ["-c", "import huggingface_hub"], { env: { ...process.env, PYTHONPATH: candidate }, stdio: "ignore" });
      return candidate;
    } catch {
      // not importable from this candidate
    }
  }
  return undefined;
}

describe("cache layout: the real Python huggingface_hub reads tsml's cache and tsml reads Python's", function () {
  this.timeout(60_000);
  const pythonPath = huggingfaceHubPath();
  let hub: FakeHub;
  const files = new Map(
    ["config.json", "pytorch_model.bin"].map((f) => [f, fs.readFileSync(fixturePath("longformer-hf", "a_default_global", f))] as [string, Buffer]),
  );

  before(function () {
    if (pythonPath === undefined) this.skip();
  });
  beforeEach(async () => {
    hub = new FakeHub();
    hub.repos.set(REPO, { commit: COMMIT, files });
    await hub.start();
  });
  afterEach(() => hub.close());

  /** Runs a Python snippet with huggingface_hub importable and returns its stdout parsed as JSON. */
  async function python(code: string, env: Record<string, string>): Promise<Record<string, unknown>> {
    const { stdout } = await promisify(execFile)(PYTHON, ["-c", code], { env: { ...process.env, PYTHONPATH: pythonPath!, ...env } });
    return JSON.parse(stdout.trim().split("\n").pop()!);
  }

  it("Python (offline) resolves every file tsml cached, sees the .no_exist marker, and scan_cache_dir reports no problem", async () => {
    const cacheDir = tempDir("tsml-hub-");
    const repo = new HubRepo(REPO, { cacheDir, endpoint: hub.endpoint, token: false, progress: false });
    const ours = { config: await repo.file("config.json"), missing: await repo.fileIfPresent("model.safetensors"), bin: await repo.file("pytorch_model.bin") };
    assert.equal(ours.missing, undefined);
    const report = await python(
      `
import json
from huggingface_hub import hf_hub_download, try_to_load_from_cache, scan_cache_dir
from huggingface_hub.file_download import _CACHED_NO_EXIST
c = ${JSON.stringify(cacheDir)}
info = scan_cache_dir(c)
repo = list(info.repos)[0]
print(json.dumps({
  "config": hf_hub_download(${JSON.stringify(REPO)}, "config.json", cache_dir=c),
  "bin": hf_hub_download(${JSON.stringify(REPO)}, "pytorch_model.bin", cache_dir=c),
  "no_exist": try_to_load_from_cache(${JSON.stringify(REPO)}, "model.safetensors", cache_dir=c) is _CACHED_NO_EXIST,
  "warnings": [str(w) for w in info.warnings],
  "repos": len(info.repos), "repo_id": repo.repo_id, "size": repo.size_on_disk, "refs": sorted(repo.refs),
  "revisions": [r.commit_hash for r in repo.revisions],
  "files": sorted(f.file_name for r in repo.revisions for f in r.files),
}))`,
      { HF_HUB_OFFLINE: "1" },
    );
    assert.equal(report.config, ours.config);
    assert.equal(report.bin, ours.bin);
    assert.equal(report.no_exist, true);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.repos, 1);
    assert.equal(report.repo_id, REPO);
    assert.equal(report.size, files.get("config.json")!.length + files.get("pytorch_model.bin")!.length);
    assert.deepEqual(report.refs, ["main"]);
    assert.deepEqual(report.revisions, [COMMIT]);
    assert.deepEqual(report.files, ["config.json", "pytorch_model.bin"]);
  });

  it("tsml (offline) resolves the files Python downloaded from the same Hub into a fresh cache", async () => {
    const cacheDir = tempDir("tsml-hub-");
    const report = await python(
      `
import json
from huggingface_hub import hf_hub_download
c = ${JSON.stringify(cacheDir)}
print(json.dumps({f: hf_hub_download(${JSON.stringify(REPO)}, f, cache_dir=c) for f in ["config.json", "pytorch_model.bin"]}))`,
      { HF_ENDPOINT: hub.endpoint, HF_HUB_DISABLE_TELEMETRY: "1", HF_HUB_DISABLE_PROGRESS_BARS: "1" },
    );
    const requests = hub.requests.length;
    const repo = new HubRepo(REPO, { cacheDir, localFilesOnly: true, progress: false });
    const bin = await repo.file("pytorch_model.bin");
    assert.equal(bin, report["pytorch_model.bin"]);
    assert.equal(await repo.file("config.json"), report["config.json"]);
    assert.equal(sha256(fs.readFileSync(bin)), sha256(files.get("pytorch_model.bin")!));
    assert.equal(hub.requests.length, requests, "no request");
  });
});
