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
 *   - a product over an empty inner dimension is zeros (tfjs's WASM kernel leaves the output uninitialised);
 *   - else tfjs's own kernel (batched products broadcast over several axes, non-float32, empty outputs).
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
  readSync(dataId: object): ArrayLike<number>;
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
  if (m * n * batch === 0) return undefined; // an empty output: tfjs's kernel makes it
  return { m, n, k, batch, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n, outShape: [...outer, m, n] };
}

/** A new float32 tensor of `shape` with every value `value`. */
function filledOutput(be: WasmBackendWithMemory, shape: number[], value: number): tf.TensorInfo {
  const out = be.makeOutput(shape, "float32");
  new Float32Array(be.wasm.asm.memory.buffer, heapOffset(be, out), product(shape)).fill(value);
  return out;
}

/** C = op(A) op(B) on the BLAS, into a new output. */
function blasProduct(
  be: WasmBackendWithMemory,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  plan: ProductPlan,
): tf.TensorInfo {
  const status = nativeStatus();
  if (!status.active) throw new Error("blasProduct: the native BLAS is not active");
  const out = be.makeOutput(plan.outShape, "float32"); // may grow the heap: read the buffer after it
  const { m, n, k, batch } = plan;
  status.addon.sgemm(
    be.wasm.asm.memory.buffer,
    batch,
    transposeA ? 1 : 0,
    transposeB ? 1 : 0,
    m,
    n,
    k,
    heapOffset(be, a),
    plan.strideA,
    heapOffset(be, b),
    plan.strideB,
    heapOffset(be, out),
    m * n,
  );
  return out;
}

/** The transpose of a matrix (its last two axes; any leading axes have size 1) into a new tensor (kernels/rows.c). */
function transposed(be: WasmBackendWithMemory, x: tf.TensorInfo): tf.TensorInfo {
  const [rows, cols] = x.shape.slice(-2);
  const out = be.makeOutput([...x.shape.slice(0, -2), cols, rows], "float32");
  rowsModule(be).transpose_2d(heapOffset(be, x), heapOffset(be, out), rows, cols);
  return out;
}

type PlainProduct = (a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo;

/**
 * op(A) op(B) for single matrices as a plain product (XNNPACK) on explicit transposes; temporaries freed. With
 * `swap`, Aᵀ B is computed as (Bᵀ A)ᵀ when B is the wider, so that the narrower matrix is the right operand, which
 * XNNPACK repacks on every call.
 */
function productOnTransposes(
  be: WasmBackendWithMemory,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  plain: PlainProduct,
  swap: boolean,
): tf.TensorInfo {
  const temporaries: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temporaries.push(t), t);
  try {
    if (swap && transposeA && !transposeB && b.shape[b.shape.length - 1] > a.shape[a.shape.length - 1])
      return transposed(be, keep(plain(keep(transposed(be, b)), a)));
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

/** True for a single matrix: rank 2, or higher with every leading axis of size 1. */
const isMatrix = (t: tf.TensorInfo) => product(t.shape.slice(0, -2)) === 1;

/** `BatchMatMul` on the BLAS, or on XNNPACK with explicit transposes, else tfjs's own. */
export function batchMatMulKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const be = args.backend as unknown as WasmBackendWithMemory;
      const plan = planProduct(a, b, transposeA, transposeB);
      if (plan?.k === 0) return filledOutput(be, plan.outShape, 0); // tfjs's WASM kernel leaves it uninitialised
      if (plan && onBlas(plan, transposeA, transposeB)) return blasProduct(be, a, b, transposeA, transposeB, plan);
      if (plan && (transposeA || transposeB) && isMatrix(a) && isMatrix(b)) {
        const plain: PlainProduct = (x, y) =>
          original.kernelFunc({ ...args, inputs: { a: x, b: y }, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        return productOnTransposes(be, a, b, transposeA, transposeB, plain, a.shape.length === 2 && b.shape.length === 2);
      }
      return original.kernelFunc(args);
    },
  };
}

/**
 * `_FusedMatMul` (product, bias, activation) on the BLAS where the bias and prelu weights are per column or scalars;
 * else tfjs's kernel — on explicit transposes for single matrices (its own transposed path returns wrong values with
 * a bias in tfjs 4.22), and with a scalar bias spread to every column (it reads n values regardless).
 */
export function fusedMatMulKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const {
        a,
        b,
        bias,
        preluActivationWeights: prelu,
      } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
      const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
        activation: string;
        leakyreluAlpha?: number;
      };
      const be = args.backend as unknown as WasmBackendWithMemory;
      const plan = planProduct(a, b, transposeA, transposeB);
      const code = ACTIVATIONS.indexOf(activation as (typeof ACTIVATIONS)[number]);
      const perColumn = (t: tf.TensorInfo | undefined) =>
        t === undefined || (t.dtype === "float32" && t.shape.length <= 1 && (product(t.shape) === 1 || (plan !== undefined && product(t.shape) === plan.n)));
      const status = nativeStatus();
      if (
        status.active &&
        plan &&
        plan.k > 0 &&
        code >= 0 &&
        perColumn(bias) &&
        (code !== 3 || (prelu && perColumn(prelu))) &&
        onBlas(plan, transposeA, transposeB)
      ) {
        const out = blasProduct(be, a, b, transposeA, transposeB, plan);
        if (bias || code > 0) {
          const weights = code === 3 ? prelu : undefined;
          status.addon.epilogue(
            be.wasm.asm.memory.buffer,
            heapOffset(be, out),
            plan.batch * plan.m,
            plan.n,
            bias ? heapOffset(be, bias) : 0,
            bias ? product(bias.shape) : 0,
            code,
            weights ? heapOffset(be, weights) : 0,
            weights ? product(weights.shape) : 0,
            leakyreluAlpha ?? 0,
          );
        }
        return out;
      }
      // tfjs's kernel reads a bias of n values: a scalar one is spread over the columns first.
      const scalarBias = bias && plan && plan.n > 1 && product(bias.shape) === 1 ? filledOutput(be, [plan.n], be.readSync(bias.dataId)[0]) : undefined;
      const inputs = scalarBias ? { ...args.inputs, bias: scalarBias } : args.inputs;
      try {
        if (plan && plan.k > 0 && (transposeA || transposeB) && isMatrix(a) && isMatrix(b)) {
          const plain: PlainProduct = (x, y) =>
            original.kernelFunc({
              ...args,
              inputs: { ...inputs, a: x, b: y },
              attrs: { ...args.attrs, transposeA: false, transposeB: false },
            }) as tf.TensorInfo;
          return productOnTransposes(be, a, b, transposeA, transposeB, plain, false);
        }
        return original.kernelFunc({ ...args, inputs });
      } finally {
        if (scalarBias) be.disposeData(scalarBias.dataId);
      }
    },
  };
}
