/**
 * Matrix products on tfjs's WASM backend: `BatchMatMul` (every `tf.matMul`, and the products of its gradient) and
 * `_FusedMatMul` (`tf.fused.matMul`: bias and activation), replaced so that they run on the machine's BLAS when the
 * native addon is active (native.ts), in place on the WASM heap, with every transpose flag and any batch that is
 * shared or broadcast from one matrix.
 *
 * Which path a product takes:
 *   - native BLAS, when active, for every float32 product except small untransposed 2-D ones (below
 *     `BLAS_MIN_FLOPS`, where XNNPACK's lower call overhead wins — bench/backend/matMul.ts measured the cut-over);
 *   - else, for a 2-D product with a transposed operand, XNNPACK on an explicit transpose (tfjs's WASM kernel runs a
 *     scalar loop for those, ~2 GFLOP/s): C = op(A) op(B) is computed as transpose + plain product, and Aᵀ B as
 *     (Bᵀ A)ᵀ when B is the wider, because XNNPACK repacks its right operand on every call;
 *   - else tfjs's own kernel (batched products broadcast over several axes, non-float32, empty tensors).
 */
import * as tf from "@tensorflow/tfjs";
import { nativeStatus } from "./native";
import { rowsModule } from "./rowsModule";
import { WasmBackendInternals, heapOffset } from "./wasmModules";

/** Below this many floating-point operations an untransposed 2-D product stays on XNNPACK (bench/backend/matMul.ts). */
export const BLAS_MIN_FLOPS = 2 * 64 * 64 * 64;

/** tfjs's fused activations in the order native/blas.c's epilogue numbers them. */
const ACTIVATIONS = ["linear", "relu", "relu6", "prelu", "leakyrelu", "sigmoid", "elu"] as const;

interface WasmBackendWithMemory extends WasmBackendInternals {
  wasm: WasmBackendInternals["wasm"] & { asm: { memory: { buffer: ArrayBuffer } } };
  disposeData(dataId: object): void;
}

/** The shape of one product C = op(A) op(B), batched over `batch` with A and B either per batch or shared. */
interface ProductPlan {
  m: number;
  n: number;
  k: number;
  batch: number;
  strideA: number;
  strideB: number;
  outShape: number[];
}

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** The plan of op(a) op(b), or undefined where the batch broadcasts over more than a shared matrix (tfjs's kernel does those). */
function planProduct(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): ProductPlan | undefined {
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [ar, br] = [a.shape.length, b.shape.length];
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kB = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kB) return undefined; // tfjs's kernel reports the mismatch
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = product(outer);
  const [batchA, batchB] = [product(a.shape.slice(0, -2)), product(b.shape.slice(0, -2))];
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  if (m * n * k * batch === 0) return undefined;
  return { m, n, k, batch, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n, outShape: [...outer, m, n] };
}

/** C = op(A) op(B) on the BLAS, into a new output. */
function blasProduct(be: WasmBackendWithMemory, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plan: ProductPlan): tf.TensorInfo {
  const status = nativeStatus();
  if (!status.active) throw new Error("blasProduct: the native BLAS is not active");
  const out = be.makeOutput(plan.outShape, "float32"); // may grow the heap: read the buffer after it
  const { m, n, k, batch } = plan;
  status.addon.sgemm(be.wasm.asm.memory.buffer, batch, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, heapOffset(be, a), plan.strideA, heapOffset(be, b), plan.strideB, heapOffset(be, out), m * n);
  return out;
}

/** A 2-D transpose into a new tensor (kernels/rows.c). */
function transposed(be: WasmBackendWithMemory, x: tf.TensorInfo): tf.TensorInfo {
  const [rows, cols] = x.shape;
  const out = be.makeOutput([cols, rows], "float32");
  rowsModule(be).transpose_2d(heapOffset(be, x), heapOffset(be, out), rows, cols);
  return out;
}

type PlainProduct = (a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo;

/** op(A) op(B) for 2-D operands as plain products (XNNPACK) on explicit transposes; temporaries freed. */
function productOnTransposes(be: WasmBackendWithMemory, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plain: PlainProduct): tf.TensorInfo {
  const temporaries: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temporaries.push(t), t);
  try {
    if (transposeA && !transposeB && b.shape[1] > a.shape[1]) {
      // Aᵀ B = (Bᵀ A)ᵀ: the narrower A goes on the right, where XNNPACK repacks.
      return transposed(be, keep(plain(keep(transposed(be, b)), a)));
    }
    return plain(transposeA ? keep(transposed(be, a)) : a, transposeB ? keep(transposed(be, b)) : b);
  } finally {
    for (const t of temporaries) be.disposeData(t.dataId);
  }
}

/** True when `plan` goes to the BLAS rather than XNNPACK. */
function onBlas(plan: ProductPlan, transposeA: boolean, transposeB: boolean): boolean {
  if (!nativeStatus().active) return false;
  return transposeA || transposeB || plan.batch > 1 || 2 * plan.m * plan.n * plan.k >= BLAS_MIN_FLOPS;
}

const isMatrix = (t: tf.TensorInfo) => t.shape.length === 2;

/** `BatchMatMul` on the BLAS, or on XNNPACK with explicit transposes, else tfjs's own. */
export function batchMatMulKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const be = args.backend as unknown as WasmBackendWithMemory;
      const plan = planProduct(a, b, transposeA, transposeB);
      if (plan && onBlas(plan, transposeA, transposeB)) return blasProduct(be, a, b, transposeA, transposeB, plan);
      if (plan && (transposeA || transposeB) && isMatrix(a) && isMatrix(b)) {
        const plain: PlainProduct = (x, y) => original.kernelFunc({ ...args, inputs: { a: x, b: y }, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        return productOnTransposes(be, a, b, transposeA, transposeB, plain);
      }
      return original.kernelFunc(args);
    },
  };
}

/** `_FusedMatMul` (product, bias, activation) on the BLAS where the bias and prelu weights are per column or scalars, else tfjs's own. */
export function fusedMatMulKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights: prelu } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
      const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
      const be = args.backend as unknown as WasmBackendWithMemory;
      const plan = planProduct(a, b, transposeA, transposeB);
      const code = ACTIVATIONS.indexOf(activation as (typeof ACTIVATIONS)[number]);
      const perColumn = (t: tf.TensorInfo | undefined) => t === undefined || (t.dtype === "float32" && t.shape.length <= 1 && (product(t.shape) === 1 || (plan !== undefined && product(t.shape) === plan.n)));
      if (!plan || code < 0 || !perColumn(bias) || (code === 3 && (!prelu || !perColumn(prelu))) || !onBlas(plan, transposeA, transposeB)) return original.kernelFunc(args);
      const out = blasProduct(be, a, b, transposeA, transposeB, plan);
      const status = nativeStatus();
      if (status.active && (bias || code > 0)) {
        const weights = code === 3 && prelu ? prelu : undefined;
        status.addon.epilogue(be.wasm.asm.memory.buffer, heapOffset(be, out), plan.batch * plan.m, plan.n, bias ? heapOffset(be, bias) : 0, bias ? product(bias.shape) : 0, code, weights ? heapOffset(be, weights) : 0, weights ? product(weights.shape) : 0, leakyreluAlpha ?? 0);
      }
      return out;
    },
  };
}
