import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "../../src/cli/args";
import { command as studyCommand } from "../../src/cli/commands/study";
import { LongformerConfig } from "../../src/models/longformer";
import { parseStudyGrid, readStudyGridFile, studyGrid, studyGridOptions } from "../../src/study";
import { tempDir } from "../helpers";

describe("cli: tsml study options, grid files and bad input", () => {
  const root = tempDir("tsml-study-cli-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };

  it("parses options typed from the spec: numbers, switches, repeatable strings, short names", () => {
    const spec = { seeds: "number", quick: "boolean", lr: "string", parameter: "strings" } as const;
    const { options, positional } = parseArgs(["--seeds", "3", "--quick=false", "--lr=1e-5,3e-5", "-p", "a=1", "--parameter", "b=2", "nb.ipynb"], spec, 1, {
      p: "parameter",
    });
    const seeds: number | undefined = options.seeds; // typed: no cast
    assert.equal(seeds, 3);
    assert.equal(options.quick, false);
    assert.equal(options.lr, "1e-5,3e-5");
    assert.deepEqual(options.parameter, ["a=1", "b=2"]);
    assert.deepEqual(positional, ["nb.ipynb"]);
    assert.throws(() => parseArgs(["--seeds", "x"], spec), /option --seeds expects a number, got "x"/);
    assert.throws(() => parseArgs(["--sedes", "3"], spec), /unknown option --sedes; did you mean --seeds\?; expected one of --seeds, --quick/);
    assert.throws(() => parseArgs(["--lr"], spec), /option --lr needs a value$/);
    assert.throws(() => parseArgs(["--quick=yes"], spec), /option --quick is a switch and takes no value/);
  });

  it("the grid from flags: every batch x accumulation at every rate, with the budget stated as arguments", () => {
    const spec = studyGrid({ grid: { perDeviceBatch: [1, 8], accumulation: [1, 8], learningRates: [1e-5, 3e-5, 1e-4], seeds: 3, budget: { steps: 20 } } });
    assert.equal(spec.variants!.length, 2 * 2 * 3);
    assert.deepEqual(spec.axes, { seed: [0, 1, 2] });
    assert.equal(spec.training.maxSteps, 20, "equal steps: one shared argument");
    const examples = studyGrid({ grid: { perDeviceBatch: [2], accumulation: [1, 4], devices: 2, learningRates: [1e-3], budget: { examples: 64 } } });
    // 2 per device x 2 devices = micro-batch 4; effective 4 and 16: 64 examples = 16 and 4 steps.
    assert.deepEqual(
      examples.variants!.map((v) => [v.perDeviceBatchSize, v.gradientAccumulationSteps, v.maxSteps]),
      [
        [4, 1, 16],
        [4, 4, 4],
      ],
    );
    assert.throws(() => studyGrid({ grid: { learningRates: [-1] } }), /learningRates must be positive numbers, got \[-1\]/);
    // A dev F1 target makes every run evaluate on dev every ~128 examples, in its own steps.
    const dev = studyGrid({ grid: { perDeviceBatch: [1, 8], accumulation: [1], learningRates: [1e-3], target: { devF1: 0.8 } } });
    assert.deepEqual(
      dev.variants!.map((v) => v.evalSteps),
      [128, 16],
    );
  });

  it("reads JSON and YAML grid files; an unknown key suggests the one meant", () => {
    const json = write(
      "grid.json",
      JSON.stringify({ perDeviceBatch: [1, 8], accumulation: 8, learningRates: [1e-3], budget: { epochs: 2 }, target: { loss: 0.4 } }),
    );
    assert.deepEqual(readStudyGridFile(json), {
      perDeviceBatch: [1, 8],
      accumulation: [8],
      learningRates: [1e-3],
      budget: { epochs: 2 },
      target: { loss: 0.4 },
    });
    const yaml = write("grid.yaml", "perDeviceBatch: [1, 8]\nlearningRates:\n  - 0.001\n  - 0.003\nseeds: 2\n");
    assert.deepEqual(readStudyGridFile(yaml), { perDeviceBatch: [1, 8], learningRates: [0.001, 0.003], seeds: 2 });
    assert.throws(
      () => readStudyGridFile(write("typo.json", '{"learningRate": [1e-3]}')),
      /typo\.json: unknown key "learningRate"; did you mean learningRates\?; the keys are perDeviceBatch, /,
    );
    assert.throws(() => parseStudyGrid({ budget: { epoch: 2 } }, "g"), /g: budget: unknown key "epoch"; did you mean epochs\?/);
    assert.throws(() => parseStudyGrid({ budget: { epochs: 2, steps: 3 } }, "g"), /budget must hold exactly one of epochs, examples, steps/);
    assert.throws(() => readStudyGridFile(write("bad.json", "{")), /bad\.json: not valid JSON/);
  });

  it("the help states the defaults that run", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      assert.equal(await studyCommand.run(["--help"]), 0);
    } finally {
      console.log = log;
    }
    const help = lines.join("\n");
    const stated = (flag: string) => new RegExp(`\\n  ${flag} +\\S+ +[^\\n]*\\(default ([^;)]+)`).exec(help)?.[1];
    const grid = studyGridOptions({});
    const quick = studyGridOptions({ size: "quick" });
    assert.equal(stated("--batch"), grid.perDeviceBatch!.join(","));
    assert.equal(stated("--accumulation"), grid.accumulation!.join(","));
    assert.equal(stated("--lr"), grid.learningRates.map((r) => r.toExponential()).join(","));
    assert.equal(stated("--seeds"), `${grid.seeds}`);
    assert.match(help, new RegExp(`--seeds N +seeds per configuration \\(default ${grid.seeds}; ${quick.seeds} with --size quick\\)`));
    assert.deepEqual(grid.budget, { epochs: Number(stated("--epochs")) });
  });

  it("the command refuses bad input before training anything", async () => {
    const runs = path.join(root, "runs");
    const base = ["--runs-dir", runs, "--reports-dir", path.join(root, "reports")];
    await assert.rejects(studyCommand.run(["--batch", "1,x", ...base]), /--batch expects a comma-separated list of positive integers, got "1,x"/);
    await assert.rejects(studyCommand.run(["--epochs", "2", "--steps", "3", ...base]), /give one budget: --epochs or --steps, not both/);
    await assert.rejects(studyCommand.run(["--dev", "d.csv", ...base]), /--dev needs --train FILE/);
    await assert.rejects(studyCommand.run(["--size", "huge", ...base]), /--size must be small, quick or full, got "huge"/);
    await assert.rejects(studyCommand.run(["--grid", write("g2.json", '{"seed": 3}'), ...base]), /unknown key "seed"; did you mean seeds\?/);

    const csv = write(
      "docs.csv",
      "body,label\n" + Array.from({ length: 40 }, (_, i) => `"document ${i} about ${i % 2 ? "cats" : "dogs"}",${i % 2 ? "cat" : "dog"}`).join("\n") + "\n",
    );
    const own = ["--train", csv, "--size", "small", "--text-column", "body", ...base];
    await assert.rejects(studyCommand.run([...own, "--label-column", "class", "--name", "c1"]), /missing column "class"; the columns are "body", "label"/);
    const one = write("one.csv", "text,label\n" + Array.from({ length: 20 }, (_, i) => `doc ${i},spam`).join("\n") + "\n");
    await assert.rejects(
      studyCommand.run(["--train", one, "--size", "small", ...base, "--name", "c2"]),
      /only one class \("spam"\) in column "label"; a classifier needs at least two/,
    );
    const empty = write("empty.csv", "text,label\n" + Array.from({ length: 20 }, (_, i) => `doc ${i},`).join("\n") + "\n");
    await assert.rejects(
      studyCommand.run(["--train", empty, "--size", "small", ...base, "--name", "c3"]),
      /empty\.csv: 20 invalid rows\n {2}row 1 \(line 2\): label is missing/,
    );
    const model = path.join(root, "model");
    fs.mkdirSync(model);
    fs.writeFileSync(
      path.join(model, "config.json"),
      JSON.stringify(
        new LongformerConfig({
          vocab_size: 100,
          hidden_size: 16,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          intermediate_size: 32,
          max_position_embeddings: 66,
          attention_window: 8,
        }).toJSON(),
      ),
    );
    await assert.rejects(
      studyCommand.run([...own, "--label-column", "label", "--model", model, "--max-length", "128", "--name", "c4"]),
      /--max-length 128 is beyond what --model .*model can read: .*config\.json has max_position_embeddings 66, i\.e\. at most 64 tokens/,
    );
    for (const name of ["c1", "c2", "c3", "c4"]) {
      const trained = fs.existsSync(path.join(runs, name)) ? fs.readdirSync(path.join(runs, name)).filter((f) => f.startsWith("b")) : [];
      assert.deepEqual(trained, [], `${name}: no run folder`);
    }
  });
});
