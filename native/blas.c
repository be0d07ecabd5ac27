/*
 * tsml's native addon: matrix products on the machine's BLAS (OpenBLAS on Linux, Accelerate on macOS, any CBLAS),
 * computed in place on memory JavaScript owns — tfjs's WebAssembly heap (a WebAssembly.Memory's ArrayBuffer) or any
 * ArrayBuffer. Nothing is copied: operands are byte offsets into one buffer, as for tsml's WASM kernels (band.c).
 *
 * The BLAS is opened at run time (dlopen), so the addon builds with only a C compiler and Node's headers, and a
 * missing library or symbol is an error JavaScript reports (and falls back to WebAssembly), never a crash at load.
 *
 * Layouts (float32, row-major, contiguous). sgemm computes `count` products, for i < count:
 *   C_i = op(A_i) op(B_i)          op(X) = X, or Xᵀ when its transpose flag is set
 *   A_i : [M, K] (transA = 0) or [K, M] (transA = 1)   at a + 4 * i * strideA
 *   B_i : [K, N] (transB = 0) or [N, K] (transB = 1)   at b + 4 * i * strideB
 *   C_i : [M, N]                                       at c + 4 * i * strideC
 * a, b, c are byte offsets; strides are in elements (0: every product uses the same matrix, e.g. a shared weight).
 * epilogue then applies, on C viewed as [rows, cols]:
 *   C[r, j] = act(C[r, j] + bias[j mod biasSize])            (biasSize 0: no bias; 1: a scalar; cols: per column)
 *   act: 0 linear, 1 relu, 2 relu6, 3 prelu (x < 0 ? w[j mod wSize] x : x), 4 leakyrelu (x < 0 ? alpha x : x),
 *        5 sigmoid 1 / (1 + e^-x), 6 elu (x >= 0 ? x : e^x - 1)      — tfjs's FusableActivation, same formulas.
 *
 * Safety rules, checked in 64-bit arithmetic before anything is read or written (a failed check throws a RangeError
 * naming the operand, and nothing is written):
 *   - every dimension and count is in [1, 2^31); offsets are multiples of 4;
 *   - each operand's extent, offset + 4 ((count - 1) stride + rows cols), lies inside the buffer;
 *   - C does not overlap A, B, the bias or the prelu weights (BLAS reads those while it writes C);
 *   - strideC >= M N, so that no two products write the same element.
 * Threads: the BLAS's own pool (openblas_set_num_threads); setThreads also sizes the addon's pool (pool.c) that runs
 * tsml's own kernels (attention.c, dropout.c). With a fixed thread count OpenBLAS gives the same bits on every run:
 * it splits a product over M and N, never over K, so each element's sum keeps one order. Another thread count moves
 * the split, and the edge tiles' kernels with it: measured with OpenBLAS 0.3.21 (Zen), 2-5% of the elements of a
 * product differ in their last bits between 1 and 2 threads (environment.md).
 *
 * The addon's other functions: attention.c (band attention), dropout.c (dropout), layers.c (GELU, LayerNorm),
 * adamw.c (AdamW's update), elementwise.c (add, subtract, multiply); operands.h holds the argument and bounds checks
 * they share.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attention.h"
#include "operands.h"
#include "pool.h"

/* CBLAS's ABI (the enum values are fixed by the CBLAS standard), declared here so that no BLAS header is needed. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int threads);
typedef int (*get_threads_fn)(void);
typedef char *(*get_text_fn)(void);

static struct {
  void *library;
  sgemm_fn sgemm;
  set_threads_fn set_threads;
  get_threads_fn get_threads;
  get_text_fn config;
  get_text_fn corename;
} blas;

/* load(path): opens the BLAS at `path` and looks up its symbols. Returns { path, config, core, threads } or throws
 * an Error saying what was missing. Loading again closes the previous library. */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t length = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "load(path): path must be a string");
    return NULL;
  }
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    napi_throw_error(env, "ERR_TSML_BLAS_OPEN", why ? why : path);
    return NULL;
  }
  sgemm_fn sgemm = (sgemm_fn)dlsym(library, "cblas_sgemm");
  if (!sgemm) {
    char message[4200];
    snprintf(message, sizeof message, "%s has no cblas_sgemm (not a CBLAS library)", path);
    dlclose(library);
    napi_throw_error(env, "ERR_TSML_BLAS_SYMBOL", message);
    return NULL;
  }
  if (blas.library) dlclose(blas.library);
  blas.library = library;
  blas.sgemm = sgemm;
  blas.set_threads = (set_threads_fn)dlsym(library, "openblas_set_num_threads");
  blas.get_threads = (get_threads_fn)dlsym(library, "openblas_get_num_threads");
  blas.config = (get_text_fn)dlsym(library, "openblas_get_config");
  blas.corename = (get_text_fn)dlsym(library, "openblas_get_corename");

  napi_value out;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "path", make_string(env, path)));
  CHECK(napi_set_named_property(env, out, "config", make_string(env, blas.config ? blas.config() : "")));
  CHECK(napi_set_named_property(env, out, "core", make_string(env, blas.corename ? blas.corename() : "")));
  CHECK(napi_set_named_property(env, out, "threads", make_int(env, blas.get_threads ? blas.get_threads() : 0)));
  return out;
}

/* setThreads(n): sets the BLAS's thread count where it has an API (OpenBLAS) and the addon's own pool (pool.c, which
 * runs the band attention kernels) to n; returns the count the BLAS now uses, or 0 when the library does not say
 * (Accelerate: VECLIB_MAXIMUM_THREADS, read when it loads). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t threads = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_int64(env, argv[0], &threads) || threads < 1 || threads > 4096) {
    return throw_range(env, "setThreads(n): n must be an integer in [1, 4096]");
  }
  if (!blas.sgemm) {
    napi_throw_error(env, NULL, "setThreads: no BLAS loaded");
    return NULL;
  }
  const int error = pool_set_threads((unsigned int)threads);
  if (error) {
    char message[160];
    snprintf(message, sizeof message, "setThreads(%d): could not start the kernel threads (%s); %u run", (int)threads, strerror(error), pool_threads());
    napi_throw_error(env, "ERR_TSML_THREADS", message);
    return NULL;
  }
  if (blas.set_threads) blas.set_threads((int)threads);
  return make_int(env, blas.get_threads ? blas.get_threads() : 0);
}

/* sgemm(buffer, count, transA, transB, M, N, K, a, strideA, b, strideB, c, strideC): see the header. */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  int64_t v[12];
  uint8_t *data;
  uint64_t length;
  if (!blas.sgemm) {
    napi_throw_error(env, NULL, "sgemm: no BLAS loaded");
    return NULL;
  }
  if (!buffer_call(env, info, 13, argv, &data, &length, "sgemm(buffer: ArrayBuffer, count, transA, transB, M, N, K, a, strideA, b, strideB, c, strideC)")) {
    return NULL;
  }
  if (!read_integers(env, argv + 1, 12, v, "sgemm")) return NULL;
  const int64_t count = v[0], trans_a = v[1], trans_b = v[2], m = v[3], n = v[4], k = v[5];
  const int64_t a = v[6], stride_a = v[7], b = v[8], stride_b = v[9], c = v[10], stride_c = v[11];
  if (!in_dimension_range(count) || !in_dimension_range(m) || !in_dimension_range(n) || !in_dimension_range(k)) {
    return throw_range(env, "sgemm: count, M, N and K must be in [1, 2^31)");
  }
  if (trans_a > 1 || trans_b > 1) return throw_range(env, "sgemm: transA and transB must be 0 or 1");
  if (stride_a >= ((int64_t)1 << 32) || stride_b >= ((int64_t)1 << 32) || stride_c >= ((int64_t)1 << 32)) {
    return throw_range(env, "sgemm: a stride is beyond any buffer");
  }
  if (count > 1 && stride_c < m * n) return throw_range(env, "sgemm: strideC must be at least M * N (products would overlap)");
  extent ea, eb, ec;
  if (!operand_extent((uint64_t)a, count, stride_a, m, k, length, &ea)) return throw_range(env, "sgemm: A is misaligned or extends past the end of the buffer");
  if (!operand_extent((uint64_t)b, count, stride_b, k, n, length, &eb)) return throw_range(env, "sgemm: B is misaligned or extends past the end of the buffer");
  if (!operand_extent((uint64_t)c, count, stride_c, m, n, length, &ec)) return throw_range(env, "sgemm: C is misaligned or extends past the end of the buffer");
  if (overlaps(ec, ea) || overlaps(ec, eb)) return throw_range(env, "sgemm: C overlaps A or B");

  const float *pa = (const float *)(data + a), *pb = (const float *)(data + b);
  float *pc = (float *)(data + c);
  const int lda = trans_a ? (int)m : (int)k, ldb = trans_b ? (int)k : (int)n;
  for (int64_t i = 0; i < count; i++) {
    blas.sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m,
               (int)n, (int)k, 1.0f, pa + i * stride_a, lda, pb + i * stride_b, ldb, 0.0f, pc + i * stride_c, (int)n);
  }
  return NULL;
}

static inline float activate(float x, int64_t activation, float weight, float alpha) {
  switch (activation) {
    case 1: return x > 0.0f ? x : 0.0f;
    case 2: return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;
    case 3: return x < 0.0f ? weight * x : x;
    case 4: return x < 0.0f ? alpha * x : x;
    case 5: return 1.0f / (1.0f + expf(-x));
    case 6: return x >= 0.0f ? x : expf(x) - 1.0f;
    default: return x;
  }
}

/* epilogue(buffer, c, rows, cols, bias, biasSize, activation, prelu, preluSize, alpha): see the header. */
static napi_value epilogue(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int64_t v[8];
  double alpha = 0;
  uint8_t *data;
  uint64_t length;
  const char *usage = "epilogue(buffer: ArrayBuffer, c, rows, cols, bias, biasSize, activation, prelu, preluSize, alpha)";
  if (!buffer_call(env, info, 10, argv, &data, &length, usage)) return NULL;
  if (napi_get_value_double(env, argv[9], &alpha) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  for (int i = 0; i < 8; i++) {
    if (!get_int64(env, argv[i + 1], &v[i]) || v[i] < 0) return throw_range(env, "epilogue: every integer argument must be non-negative");
  }
  const int64_t c = v[0], rows = v[1], cols = v[2], bias = v[3], bias_size = v[4], activation = v[5], prelu = v[6], prelu_size = v[7];
  if (!in_dimension_range(rows) || !in_dimension_range(cols)) return throw_range(env, "epilogue: rows and cols must be in [1, 2^31)");
  if (activation > 6) return throw_range(env, "epilogue: activation must be 0..6");
  if ((bias_size != 0 && bias_size != 1 && bias_size != cols) || (activation == 3 && prelu_size != 1 && prelu_size != cols)) {
    return throw_range(env, "epilogue: the bias and prelu weights must have 1 or cols elements");
  }
  extent ec, eb, ew;
  if (!operand_extent((uint64_t)c, 1, 0, rows, cols, length, &ec)) return throw_range(env, "epilogue: C is misaligned or extends past the end of the buffer");
  if (bias_size > 0 && (!operand_extent((uint64_t)bias, 1, 0, 1, bias_size, length, &eb) || overlaps(ec, eb))) {
    return throw_range(env, "epilogue: the bias is outside the buffer or overlaps C");
  }
  if (activation == 3 && (!operand_extent((uint64_t)prelu, 1, 0, 1, prelu_size, length, &ew) || overlaps(ec, ew))) {
    return throw_range(env, "epilogue: the prelu weights are outside the buffer or overlap C");
  }
  float *out = (float *)(data + c);
  const float *pbias = bias_size ? (const float *)(data + bias) : NULL;
  const float *pw = activation == 3 ? (const float *)(data + prelu) : NULL;
  const float leak = (float)alpha;
  for (int64_t r = 0; r < rows; r++) {
    float *row = out + r * cols;
    for (int64_t j = 0; j < cols; j++) {
      float x = row[j];
      if (pbias) x += pbias[bias_size == 1 ? 0 : j];
      row[j] = activate(x, activation, pw ? pw[prelu_size == 1 ? 0 : j] : 0.0f, leak);
    }
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"epilogue", NULL, epilogue, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  if (define_attention_functions(env, exports) != napi_ok || define_dropout_functions(env, exports) != napi_ok ||
      define_layer_functions(env, exports) != napi_ok || define_adamw_functions(env, exports) != napi_ok ||
      define_elementwise_functions(env, exports) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
