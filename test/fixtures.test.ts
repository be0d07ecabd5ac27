/**
 * The golden fixtures travel with the repository: every file matches its SHA256SUMS line, nothing is
 * unlisted, and a fresh clone with nothing beside it loads them through the tests' own fixture loader.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { fixturePath, repoRoot, tempDir } from "./helpers";

/** The fixture folders, each with a SHA256SUMS and a README.md. */
const FIXTURE_FOLDERS = ["longformer-hf", "trainer-torch", "torch-checkpoints", "tensorboard"];

function filesBelow(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesBelow(p).map((f) => path.join(e.name, f)) : [e.name];
  });
}

describe("golden fixtures in the repository", () => {
  for (const folder of FIXTURE_FOLDERS) {
    it(`${folder}: every data file matches SHA256SUMS and none is unlisted (README.md documents them)`, () => {
      const dir = fixturePath(folder);
      const lines = fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8").trim().split("\n");
      const listed = lines.map((line) => {
        const m = /^([0-9a-f]{64}) {2}\.\/(.+)$/.exec(line);
        assert.ok(m, `malformed SHA256SUMS line: ${line}`);
        const digest = crypto
          .createHash("sha256")
          .update(fs.readFileSync(path.join(dir, m[2])))
          .digest("hex");
        assert.equal(digest, m[1], `${folder}/${m[2]} does not match its checksum`);
        return m[2];
      });
      const present = filesBelow(dir)
        .filter((f) => f !== "SHA256SUMS" && f !== "README.md")
        .sort();
      assert.deepEqual(present, [...listed].sort());
      assert.ok(listed.length >= 1, `${folder} lists no file`);
    });
  }

  it("a fresh clone with no shared/ beside it loads the fixtures through test/helpers", function () {
    this.timeout(120_000);
    const root = repoRoot();
    const clone = path.join(tempDir("tsml-clone-"), "tsml");
    try {
      execFileSync("git", ["clone", "--quiet", root, clone], { stdio: "pipe" });
      assert.ok(!fs.existsSync(path.join(clone, "..", "shared")), "nothing is beside the clone");
      // Compile only the loader (the clone's own copy, with this checkout's packages) and ask it for every fixture.
      fs.symlinkSync(path.join(root, "node_modules"), path.join(clone, "node_modules"), "dir");
      const out = path.join(clone, "dist-check");
      execFileSync(
        process.execPath,
        [
          path.join(root, "node_modules", "typescript", "bin", "tsc"),
          "--outDir",
          out,
          "--module",
          "commonjs",
          "--target",
          "es2020",
          path.join(clone, "test", "helpers.ts"),
        ],
        { stdio: "pipe" },
      );
      const probe = `const h = require(${JSON.stringify(path.join(out, "helpers.js"))});
        const files = ${JSON.stringify(listedFixtureFiles())};
        for (const f of files) require("fs").readFileSync(h.fixturePath(...f.split("/")));
        console.log(files.length);`;
      const loaded = execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }).trim();
      assert.equal(Number(loaded), listedFixtureFiles().length);
    } finally {
      fs.rmSync(path.dirname(clone), { recursive: true, force: true });
    }
  });
});

/** Every file named by a SHA256SUMS, as `folder/relative/path`. */
function listedFixtureFiles(): string[] {
  return FIXTURE_FOLDERS.flatMap((folder) =>
    fs
      .readFileSync(path.join(fixturePath(folder), "SHA256SUMS"), "utf8")
      .trim()
      .split("\n")
      .map((line) => `${folder}/${line.slice(68)}`),
  );
}
