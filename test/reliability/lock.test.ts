/** The folder lock: one owner at a time, a clear message naming the owner, released however the owner ends. */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { acquireFolderLock, FolderLockedError, FOLDER_LOCK_FILE } from "../../src/supervision";
import { repoRoot, tempDir } from "../helpers";
import { deadPid, isRunning, waitFor } from "./support";

const SUPERVISION = path.join(repoRoot(), "dist", "src", "supervision");

/** A node process that takes the lock of `dir`, prints "locked" and then waits (or exits when `exit` is set). */
function lockHolder(dir: string, then: "wait" | "exit") {
  const script = `const { acquireFolderLock } = require(${JSON.stringify(SUPERVISION)});
acquireFolderLock(${JSON.stringify(dir)}, { purpose: "test holder" });
console.log("locked");
${then === "wait" ? "setInterval(() => {}, 1000);" : "process.exit(0);"}`;
  return spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

async function started(child: ReturnType<typeof lockHolder>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("locked") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

describe("reliability: the folder lock", function () {
  this.timeout(30_000);
  const root = tempDir("tsml-lock-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("admits one owner; a second is refused with a message naming the owner's pid; release lets the next in", () => {
    const dir = path.join(root, "a");
    const lock = acquireFolderLock(dir, { purpose: "first" });
    assert.throws(
      () => acquireFolderLock(dir),
      (e: Error) => e instanceof FolderLockedError && e.message.includes(`pid ${process.pid} (first)`) && e.message.includes(dir),
    );
    lock.release();
    assert.ok(!fs.existsSync(path.join(dir, FOLDER_LOCK_FILE)), "release removes the lock file");
    acquireFolderLock(dir).release();
  });

  it("refuses while another live process holds it, and is free again the moment that process is killed with -9", async () => {
    const dir = path.join(root, "b");
    const holder = lockHolder(dir, "wait");
    await started(holder);
    assert.throws(() => acquireFolderLock(dir), new RegExp(`pid ${holder.pid} \\(test holder\\)`));
    holder.kill("SIGKILL");
    await waitFor(() => !isRunning(holder.pid!), 5000, "the holder to die");
    const lock = acquireFolderLock(dir); // the stale lock of the dead owner is taken over
    assert.equal(JSON.parse(fs.readFileSync(lock.file, "utf8")).pid, process.pid);
    lock.release();
  });

  it("is released when its owner exits normally", () => {
    const dir = path.join(root, "c");
    const script = `require(${JSON.stringify(SUPERVISION)}).acquireFolderLock(${JSON.stringify(dir)}); process.exit(0);`;
    assert.equal(spawnSync(process.execPath, ["-e", script]).status, 0);
    assert.ok(!fs.existsSync(path.join(dir, FOLDER_LOCK_FILE)));
  });

  it("takes over a lock whose pid now belongs to another process (pid reuse: the start time differs)", () => {
    const dir = path.join(root, "d");
    fs.mkdirSync(dir, { recursive: true });
    const owner = { pid: process.ppid, startTime: "1", hostname: os.hostname(), purpose: "old", acquiredAt: new Date(0).toISOString() };
    fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), JSON.stringify(owner));
    acquireFolderLock(dir).release();
    fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), JSON.stringify({ ...owner, pid: deadPid(), startTime: null }));
    acquireFolderLock(dir).release();
    fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), "not a lock");
    acquireFolderLock(dir).release();
  });

  it("waits for a live owner when asked to, and gets the lock once it is gone", async () => {
    const dir = path.join(root, "e");
    const holder = lockHolder(dir, "wait");
    await started(holder);
    // acquireFolderLock blocks this thread while it waits, so the kill is scheduled from a helper process.
    const killer = spawn(process.execPath, ["-e", `setTimeout(() => process.kill(${holder.pid}, "SIGKILL"), 300)`]);
    const lock = acquireFolderLock(dir, { waitSeconds: 10 });
    lock.release();
    await new Promise((r) => killer.on("exit", r));
  });

  it("another host's lock is held, unless the arbiter has since granted the same subject to this process", () => {
    const dir = path.join(root, "g");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, FOLDER_LOCK_FILE);
    const foreign = {
      pid: process.pid,
      startTime: null,
      hostname: `${os.hostname()}-elsewhere`,
      purpose: "run r on another machine",
      acquiredAt: "",
      lease: { subject: "job-r", grant: "token-1" },
    };
    fs.writeFileSync(file, JSON.stringify(foreign));
    assert.throws(
      () => acquireFolderLock(dir),
      (e: Error) => e instanceof FolderLockedError && e.message.includes("-elsewhere"),
    );
    assert.throws(() => acquireFolderLock(dir, { lease: { subject: "job-other", grant: "token-2" } }), FolderLockedError);
    assert.throws(() => acquireFolderLock(dir, { lease: { subject: "job-r", grant: "token-1" } }), FolderLockedError, "the same grant is not newer");
    const lock = acquireFolderLock(dir, { lease: { subject: "job-r", grant: "token-2" } });
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")).lease, { subject: "job-r", grant: "token-2" });
    lock.release();
    fs.writeFileSync(file, JSON.stringify({ ...foreign, lease: undefined }));
    assert.throws(
      () => acquireFolderLock(dir, { lease: { subject: "job-r", grant: "token-2" } }),
      FolderLockedError,
      "a lock taken without a lease is never superseded",
    );
    fs.rmSync(file);
  });

  it("many processes racing for a free lock: exactly one wins", async () => {
    const dir = path.join(root, "f");
    fs.mkdirSync(dir, { recursive: true });
    // A stale lock of a dead process, so every racer also goes through the takeover.
    fs.writeFileSync(
      path.join(dir, FOLDER_LOCK_FILE),
      JSON.stringify({ pid: deadPid(), startTime: null, hostname: os.hostname(), purpose: "dead", acquiredAt: "" }),
    );
    const script = `const { acquireFolderLock } = require(${JSON.stringify(SUPERVISION)});
const start = Number(process.argv[1]); while (Date.now() < start) {}
try { acquireFolderLock(${JSON.stringify(dir)}); console.log("won"); setTimeout(() => {}, 1500); } catch (e) { console.log("refused"); }`;
    const startAt = Date.now() + 1500;
    const racers = Array.from({ length: 6 }, () => spawnSyncAsync(script, String(startAt)));
    const outcomes = await Promise.all(racers);
    assert.equal(outcomes.length, 6);
    assert.equal(outcomes.filter((o) => o === "won").length, 1, outcomes.join(","));
    assert.equal(outcomes.filter((o) => o === "refused").length, 5, outcomes.join(","));
  });
});

function spawnSyncAsync(script: string, arg: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", script, arg], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", () => resolve(out.trim()));
  });
}
