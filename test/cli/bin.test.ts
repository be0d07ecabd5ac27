/** The package's `tsml` bin runs straight after a build (`npm run build`, which `npm start` and `npm test` run too). */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot, tempDir } from "../helpers";

describe("tsml bin after a build", function () {
  this.timeout(300_000);

  it("npm run build leaves dist/src/cli/main.js executable: the bin runs through its shebang, as npx runs it", () => {
    const root = repoRoot();
    const copy = tempDir("tsml-build-copy-");
    for (const file of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(root, file), path.join(copy, file));
    fs.cpSync(path.join(root, "src"), path.join(copy, "src"), { recursive: true });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(copy, "node_modules"), "dir");
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { bin: { tsml: string }; scripts: Record<string, string> };
    for (const script of ["start", "test", "prepare"]) {
      assert.match(pkg.scripts[script], /\bnpm run build\b/, `npm ${script} builds through npm run build (and so runs its postbuild step)`);
    }
    const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: copy, encoding: "utf8" });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    const bin = path.join(copy, pkg.bin.tsml);
    assert.ok((fs.statSync(bin).mode & 0o111) !== 0, `${bin} has an execute bit`);
    const run = spawnSync(bin, ["--help"], { cwd: copy, encoding: "utf8" });
    assert.equal(run.error, undefined, String(run.error));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^usage: tsml <command>/);
    fs.rmSync(copy, { recursive: true, force: true });
  });
});
