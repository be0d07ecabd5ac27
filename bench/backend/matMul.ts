/**
 * Matrix-product benchmark, side by side in one run: `tf.matMul` on tsml's WASM backend with the native BLAS, the
 * same with `TSML_NATIVE=0` (XNNPACK, tfjs's own path; a child process), and PyTorch's `torch.matmul` (Debian's
 * python3-torch, at full BLAS speed: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for it), at each thread count.
 *
 *   node dist/bench/backend/matMul.js [--threads 1,2] [--seconds 0.5] [--no-torch]
 *
 * Prints GFLOP/s per shape (the Longformer's products, their transposed forms, and small cubes) and the ratios
 * tsml / torch and BLAS / XNNPACK; the small cubes choose BLAS_MIN_FLOPS (src/backend/matMulKernels.ts): the
 * smallest cube from which the BLAS is at least as fast as XNNPACK at one thread.
 */
import { execFileSync } from "child_process";
import { parseArgs } from "util";
import * as tf from "@tensorflow/tfjs";
import { BLAS_MIN_FLOPS, describeBackend, initBackend } from "../../src/backend";

/** [M, K, N, transposeA, transposeB]: C[M, N] = op(A) op(B). */
type Shape = [number, number, number, boolean, boolean];

const MODEL_SHAPES: Shape[] = [
  [1024, 768, 768, false, true], // longformer-base's Q/K/V/output projections at 1024 tokens (x Wᵀ)
  [1024, 768, 3072, false, true], // intermediate dense
  [1024, 3072, 768, false, true], // output dense
  [1024, 768, 768, false, false], // dx = dy W
  [768, 1024, 768, true, false], // dW = dyᵀ x
  [4096, 768, 3072, false, false], // 4096 tokens
  [4096, 3072, 768, false, true],
];
const CUBES = [8, 16, 24, 32, 48, 64, 96, 128, 256];

const USAGE = `usage: node dist/bench/backend/matMul.js [--threads 1,2] [--seconds S] [--no-torch]
  --threads   comma-separated thread counts for the BLAS and torch (default 1,2; at most the cores)
  --seconds   time per shape and path (default 0.5)
  --no-torch  skip PyTorch`;

interface Row {
  shape: Shape;
  gflops: number;
}

function flops([m, k, n]: Shape): number {
  return 2 * m * k * n;
}

const label = ([m, k, n, ta, tb]: Shape) => `${m}x${k}x${n}${ta ? " Aᵀ" : ""}${tb ? " Bᵀ" : ""}`;

/** GFLOP/s of tf.matMul for each shape on the running backend. */
function measureTfjs(shapes: Shape[], seconds: number): Row[] {
  return shapes.map((shape) => {
    const [m, k, n, ta, tb] = shape;
    const a = tf.randomNormal(ta ? [k, m] : [m, k]);
    const b = tf.randomNormal(tb ? [n, k] : [k, n]);
    // WASM kernels run synchronously: the product is complete when matMul returns. No read-back (torch's side
    // copies nothing either; a dataSync would add a copy of C, ~17% of a 1024x768x768 product).
    const once = () => tf.matMul(a, b, ta, tb).dispose();
    once();
    let reps = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      once();
      reps++;
    }
    const elapsed = (performance.now() - start) / 1000;
    tf.dispose([a, b]);
    return { shape, gflops: (flops(shape) * reps) / elapsed / 1e9 };
  });
}

const TORCH_SCRIPT = `
import json, sys, time, torch
threads, seconds, shapes = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
torch.set_num_threads(threads)
out = []
for m, k, n, ta, tb in shapes:
    a = torch.randn(k, m) if ta else torch.randn(m, k)
    b = torch.randn(n, k) if tb else torch.randn(k, n)
    f = lambda: torch.matmul(a.t() if ta else a, b.t() if tb else b)
    f()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f(); reps += 1
    out.append(2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
print(json.dumps(out))
`;

/** GFLOP/s of torch.matmul for each shape, or null when torch is not installed. */
function measureTorch(shapes: Shape[], threads: number, seconds: number): number[] | null {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync("/usr/bin/python3", ["-c", TORCH_SCRIPT, String(threads), String(seconds), JSON.stringify(shapes)], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(out) as number[];
  } catch (e) {
    console.log(`PyTorch: not measured (${(e as Error).message.split("\n")[0]}); apt-get install python3-torch`);
    return null;
  }
}

/** Runs this script with TSML_NATIVE=0 to measure tfjs's own WASM path (XNNPACK) on one thread. */
function measureWithoutNative(shapes: Shape[], seconds: number): number[] {
  const env = { ...process.env, TSML_NATIVE: "0" };
  const out = execFileSync(process.execPath, [__filename, "--child", JSON.stringify(shapes), "--seconds", String(seconds)], { env, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop() ?? "[]") as number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: "string", default: "1,2" },
      seconds: { type: "string", default: "0.5" },
      "no-torch": { type: "boolean", default: false },
      child: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds ${values.seconds}: expected a positive number`);
  if (values.child) {
    await initBackend({ threads: 1 });
    console.log(JSON.stringify(measureTfjs(JSON.parse(values.child) as Shape[], seconds).map((r) => r.gflops)));
    return;
  }
  const threadCounts = values.threads.split(",").map(Number);
  const shapes: Shape[] = [...MODEL_SHAPES, ...CUBES.map((c): Shape => [c, c, c, false, false])];
  const xnnpack = measureWithoutNative(shapes, seconds);
  for (const threads of threadCounts) {
    const info = await initBackend({ threads });
    console.log(`\n${describeBackend(info)}`);
    if (!info.blas?.active) throw new Error("the native BLAS is not active: nothing to compare (see `npx tsml doctor`)");
    const tsml = measureTfjs(shapes, seconds);
    const torch = values["no-torch"] ? null : measureTorch(shapes, threads, seconds);
    console.log(
      `| product (${threads} thread${threads > 1 ? "s" : ""}) | tsml BLAS GFLOP/s | XNNPACK (1 thread) GFLOP/s | torch GFLOP/s | tsml / torch | BLAS / XNNPACK |`,
    );
    console.log("|---|---|---|---|---|---|");
    tsml.forEach((row, i) => {
      const t = torch?.[i];
      console.log(
        `| ${label(row.shape)} | ${row.gflops.toFixed(1)} | ${xnnpack[i].toFixed(1)} | ${t ? t.toFixed(1) : "—"} | ${t ? (row.gflops / t).toFixed(2) : "—"} | ${(row.gflops / xnnpack[i]).toFixed(2)} |`,
      );
    });
    if (threads === 1) {
      const cubeRows = tsml.slice(MODEL_SHAPES.length);
      const from = cubeRows.findIndex((_, i) => cubeRows.slice(i).every((r, j) => r.gflops >= xnnpack[MODEL_SHAPES.length + i + j]));
      const chosen = from < 0 ? "none: XNNPACK won at every cube" : `${CUBES[from]}³ = ${flops(cubeRows[from].shape)} FLOPs`;
      console.log(`BLAS at least as fast as XNNPACK from cube ${chosen}; BLAS_MIN_FLOPS is ${BLAS_MIN_FLOPS} (${Math.cbrt(BLAS_MIN_FLOPS / 2).toFixed(0)}³)`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
