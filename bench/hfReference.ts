/**
 * Hugging Face's PyTorch Longformer as the benches' reference, run in a child process beside tsml in the same run:
 * Debian's Python with torch (/usr/bin/python3), HF's sources from `$HF_ORACLE_ROOT` (default /tmp/hf-oracle, written
 * by `bash shared/bench/hf/setup.sh`, see its README). Every script it runs unsets OPENBLAS_CORETYPE /
 * OPENBLAS_L2_SIZE itself, so torch runs at its full BLAS speed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** HF's shared bench folder: `$HF_BENCH_DIR`, else shared/bench/hf beside the checkout (from dist/bench/<x>/). */
export function hfBenchDir(): string {
  return process.env.HF_BENCH_DIR ?? path.resolve(__dirname, "..", "..", "..", "shared", "bench", "hf");
}

/**
 * Runs `script` with `args` and returns its JSON lines, or null (after saying why) when HF's sources are not set
 * up here or the script is missing.
 */
export function runHfScript<T>(script: string, args: string[]): T[] | null {
  const root = process.env.HF_ORACLE_ROOT ?? "/tmp/hf-oracle";
  if (!fs.existsSync(script) || !fs.existsSync(path.join(root, "src"))) {
    console.log(
      `HF PyTorch: not set up (no ${script}, or no ${path.join(root, "src")} (HF_ORACLE_ROOT); see ${path.join(hfBenchDir(), "README.md")}); tsml numbers only`,
    );
    return null;
  }
  const env = {
    ...process.env,
    PYTHONPATH: [`${root}/src/src`, `${root}/hfhub/src`, `${root}/shims`].join(":"),
    TRANSFORMERS_OFFLINE: "1",
    HF_HUB_OFFLINE: "1",
    TOKENIZERS_PARALLELISM: "false",
  };
  const out = execFileSync("/usr/bin/python3", [script, ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return out
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as T);
}

/** The sizes of a Longformer in the benches (HF's scripts take the same names as flags). */
export interface LongformerBenchSizes {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  window: number;
  vocab: number;
}

/** The benches' small configuration (hf_fwdbwd_bench.py's defaults). */
export const BENCH_SIZES: LongformerBenchSizes = { hidden: 128, layers: 2, heads: 4, intermediate: 512, window: 64, vocab: 1000 };
/** allenai/longformer-base-4096's sizes. */
export const BASE_SIZES: LongformerBenchSizes = { hidden: 768, layers: 12, heads: 12, intermediate: 3072, window: 512, vocab: 50265 };

/** `sizes` (and `--checkpointing` when on) as the flags HF's bench scripts read. */
export function hfSizeFlags(sizes: LongformerBenchSizes, checkpointing: boolean): string[] {
  const flags = (Object.keys(sizes) as (keyof LongformerBenchSizes)[]).flatMap((name) => [`--${name}`, String(sizes[name])]);
  return checkpointing ? [...flags, "--checkpointing"] : flags;
}

/** The median of `values` (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
