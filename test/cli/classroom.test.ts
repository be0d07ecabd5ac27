/** `tsml classroom assign | grade | validate` from the command line, on the small assignment of test/classroom. */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readNotebook } from "../../src/notebook";
import { repoRoot, tempDir } from "../helpers";
import { CORRECT, WRONG, sourceNotebook, submission, writeSubmission } from "../classroom/assignment";

function tsml(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot(), "dist", "src", "cli", "main.js"), "classroom", ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("tsml classroom (command line)", function () {
  this.timeout(300_000);
  const dir = tempDir("tsml-classroom-cli-");
  const source = path.join(dir, "functions.ipynb");
  fs.writeFileSync(source, JSON.stringify(sourceNotebook()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("assign writes the release and the solutions", async () => {
    const run = await tsml("assign", source, "--out", path.join(dir, "release"), "--solutions", path.join(dir, "solutions.ipynb"));
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(JSON.stringify(readNotebook(path.join(dir, "release", "functions.ipynb"))), /HIDDEN TESTS/);
    assert.match(JSON.stringify(readNotebook(path.join(dir, "solutions.ipynb"))), /HIDDEN TESTS/);
  });

  it("validate passes a correct notebook (exit 0) and lists the failures and edited locked cells of another (exit 1)", async () => {
    const release = readNotebook(path.join(dir, "release", "functions.ipynb"));
    const good = writeSubmission(dir, "good", submission(release, CORRECT));
    const bad = writeSubmission(
      dir,
      "bad",
      submission(release, { ...CORRECT, mean: WRONG.mean }, (nb) => {
        nb.cells[3].source = 'check("square(3) is 9", true, "");';
      }),
    );
    const passed = await tsml("validate", good, "--timeout", "120");
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /3 of 3 tests passed/);
    const failed = await tsml("validate", bad, "--timeout", "120");
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /✗ mean-tests: ✗ mean\(\[1, 2, 3\]\) is 2 — got 3, expected 2 ± 1e-12 — hint: add them up/);
    assert.match(failed.stdout, /! the locked cell "square-tests" was changed/);
    assert.match(failed.stdout, /2 of 3 tests passed/);
  });

  it("grade writes grades.csv for files it cannot run, naming why, and refuses bad options", async () => {
    const corrupt = writeSubmission(dir, "kim", "{ not json");
    const python = writeSubmission(dir, "judy", { ...sourceNotebook(), metadata: { kernelspec: { name: "python3", display_name: "Python 3" } } });
    const run = await tsml("grade", source, corrupt, python, "--out", path.join(dir, "grades"));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /kim: 0 \/ 10 \(.*not valid JSON/);
    assert.match(run.stderr, /judy: 0 \/ 10 \(.*python3/);
    assert.deepEqual(
      fs
        .readFileSync(path.join(dir, "grades", "grades.csv"), "utf8")
        .trim()
        .split("\n")
        .sort(),
      ["judy,0,0,0,0,10", "kim,0,0,0,0,10", "student,square-tests,mean-tests,fib-tests,total,max"],
    );
    const bad = await tsml("grade", source, corrupt, "--out", path.join(dir, "grades"), "--timeout", "0");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--timeout must be a positive number/);
  });
});
