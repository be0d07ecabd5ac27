/**
 * `tsml convert --model DIR_OR_ID --out DIR`: writes a pretrained Longformer folder whose weights are
 * model.safetensors, from a folder or Hub repo that has only pytorch_model.bin, so later loads (here and in any
 * other safetensors reader) need no pickle. Every tensor keeps its name, dtype and bytes; config.json and the
 * tokenizer files are copied.
 */
import * as fs from "fs";
import * as path from "path";
import { pretrainedFolder } from "../../hub";
import { SafetensorsInput, ensureWritableFolder, readTorchCheckpointFile, writeFileAtomic, writeSafetensorsFile } from "../../io";
import { LONGFORMER_WEIGHT_FILES, fetchLongformerCheckpoint } from "../../models/longformer";
import { parseArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml convert --model DIR_OR_ID --out DIR [--revision REV]

  --model DIR_OR_ID folder with config.json and pytorch_model.bin (or model.safetensors), or a Hugging Face Hub
                    repo id (org/name), downloaded once into the huggingface_hub cache
  --out DIR         folder to write model.safetensors, config.json and the tokenizer files to
  --revision REV    branch, tag or commit of a Hub repo (default main)

Tensors keep their names, dtypes and bytes (the conversion is exact); a model.safetensors already in the
source is copied as it is.`;

/** Files copied beside the weights when the source has them. */
const COPIED_FILES = ["config.json", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"];

/** The `convert` subcommand. */
export const command: Command = {
  summary: "write model.safetensors (+ config and tokenizer files) from a pytorch_model.bin folder or Hub repo",
  run: async (argv) => {
    const { options } = parseArgs(argv, { model: "string", out: "string", revision: "string", help: "boolean" });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    if (typeof options.model !== "string" || typeof options.out !== "string") {
      console.error(`tsml convert: --model and --out are required\n\n${USAGE}`);
      return 2;
    }
    // The output folder is checked before anything is downloaded or converted.
    const out = ensureWritableFolder(options.out, "--out");
    const revision = typeof options.revision === "string" ? options.revision : undefined;
    const source = await pretrainedFolder(options.model, { revision }, async (repo) => {
      await fetchLongformerCheckpoint(repo);
      for (const file of COPIED_FILES.slice(1)) await repo.fileIfPresent(file);
    });
    if (!fs.existsSync(path.join(source, "config.json"))) throw new Error(`${source}: config.json not found`);
    const [safetensors, bin] = LONGFORMER_WEIGHT_FILES.map((name) => path.join(source, name));
    const target = path.join(out, "model.safetensors");
    if (fs.existsSync(safetensors)) {
      writeFileAtomic(target, fs.readFileSync(safetensors));
      console.error(`copied ${safetensors} (already safetensors) to ${target}`);
    } else if (fs.existsSync(bin)) {
      const checkpoint = readTorchCheckpointFile(bin);
      const tensors: Record<string, SafetensorsInput> = {};
      for (const [name, entry] of checkpoint.tensors) tensors[name] = { dtype: entry.dtype, shape: entry.shape, data: entry.data };
      try {
        writeSafetensorsFile(target, tensors, { format: "pt" });
      } catch (e) {
        throw new Error(`${bin}: ${(e as Error).message} before converting`);
      }
      console.error(`converted ${bin} (${checkpoint.tensors.size} tensors) to ${target}`);
    } else {
      throw new Error(`${source}: neither ${LONGFORMER_WEIGHT_FILES.join(" nor ")} to convert`);
    }
    for (const file of COPIED_FILES) {
      const from = path.join(source, file);
      if (fs.existsSync(from)) writeFileAtomic(path.join(out, file), fs.readFileSync(from));
    }
    return 0;
  },
};
