/**
 * The README's commands, in the README's order, in a fresh clone of this repository — what a new user types:
 * "Two commands" (`npm install`, `npm start`), then "The kernel" (`npx tsml kernel install --user`, `jupyter
 * kernelspec list`), then the first command of "Notebooks headless" (`npx tsml run ...`). The commands are read from
 * the README's sh blocks, so the README cannot drift from what is tested. Differences from a user's machine, each
 * for a stated reason: `npm start` runs the study at its CI size (TSML_SMALL=1: seconds, not minutes); `apt-get`
 * lines are not run (CI installs those packages: .ci/run); `jupyter notebook` starts a server and is not run; Jupyter's
 * user folder is a temporary one (JUPYTER_DATA_DIR), so the machine's own kernels are untouched; npm prefers its
 * cache (the registry is still reachable).
 */
import { strict as assert } from "assert";
import { execSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot, tempDir } from "../helpers";

/** The command lines of the first ```sh block after the heading `## <heading>`, comments stripped. */
function shCommands(readme: string, heading: string): string[] {
  const at = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(at >= 0, `README.md has a "## ${heading}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `README.md's "${heading}" section has a sh block`);
  return block[1]
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

describe("the README's commands in a fresh clone", function () {
  this.timeout(30 * 60_000);

  it("npm install, npm start, the kernel install and list, and a headless notebook run all work in that order", function () {
    const root = repoRoot();
    if (spawnSync("/usr/bin/python3", ["-c", "import jupyter_client, nbformat"]).status !== 0) {
      if (process.env.CI) assert.fail("jupyter_client is missing (.ci/run installs it)");
      this.skip();
    }
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const commands = [...shCommands(readme, "Two commands"), ...shCommands(readme, "The kernel"), shCommands(readme, "Notebooks headless, and a classroom")[0]];
    const work = tempDir("tsml-readme-");
    const clone = path.join(work, "tsml");
    execSync(`git clone --quiet ${JSON.stringify(root)} ${JSON.stringify(clone)}`, { stdio: "pipe" });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JUPYTER_DATA_DIR: path.join(work, "jupyter-data"),
      npm_config_prefer_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      TSML_SMALL: "1",
    };
    delete env.npm_config_prefix; // mocha may run under `npm test`: the clone's npm must not inherit this package's settings
    const ran: string[] = [];
    try {
      for (const command of commands) {
        if (command.startsWith("apt-get ") || command === "jupyter notebook") continue;
        // The headless run writes into the temporary folder, not /tmp.
        const line = command.replace(/\/tmp\//g, `${work}/`);
        const result = spawnSync("bash", ["-c", line], { cwd: clone, env, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
        const output = `${result.stdout}${result.stderr}`;
        assert.equal(result.status, 0, `\`${command}\` exited with ${result.status}:\n${output.slice(-4000)}`);
        if (command === "jupyter kernelspec list") assert.match(output, /\btsml\b/, `the kernel is listed:\n${output}`);
        ran.push(command);
      }
      assert.deepEqual(ran.slice(0, 2), ["npm install", "npm start"]);
      assert.ok(ran.includes("npx tsml kernel install --user") && ran.includes("jupyter kernelspec list"), `ran: ${ran.join("; ")}`);
      assert.equal(ran.length, commands.filter((c) => !c.startsWith("apt-get ") && c !== "jupyter notebook").length);
      // What the user then looks at: the study's report, and the executed notebook and its HTML.
      const reports = fs.readdirSync(path.join(clone, "reports"));
      assert.equal(reports.length, 1, `one study report: ${reports.join(", ")}`);
      assert.ok(fs.statSync(path.join(clone, "reports", reports[0], "report.html")).size > 10_000, "the report has its content");
      assert.ok(fs.existsSync(path.join(work, "tour.ipynb")) && fs.existsSync(path.join(work, "tour.html")), "the notebook ran headless");
      // The bin still runs after the rebuilds npm start made (it once lost its execute bit).
      assert.ok((fs.statSync(path.join(clone, "dist", "src", "cli", "main.js")).mode & 0o111) !== 0, "dist/src/cli/main.js is executable");
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
