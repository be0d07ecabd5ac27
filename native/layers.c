/*
 * The GELU, LayerNorm and softmax kernels of src/backend/kernels/activations.c — the same source tsml's WebAssembly module is
 * built from — on every core, in place on tfjs's WASM heap (or any ArrayBuffer): operands are byte offsets into one
 * buffer, float32, row-major.
 *
 *   gelu(buffer, x, out, n)                         out = x Phi(x)                          (n values)
 *   geluGrad(buffer, x, dy, out, n)                 out = dy (Phi(x) + x phi(x))
 *   layerNorm(buffer, x, residual, gamma, beta, out, xHat, invStd, rows, width, eps)
 *       LayerNorm of the rows of x (+ residual; residual = -1 for none): out and xHat [rows, width], invStd [rows]
 *   layerNormGrad(buffer, dy, xHat, invStd, gamma, dx, dGamma, dBeta, rows, width)
 *       dx [rows, width], dGamma and dBeta [width]
 *   softmax(buffer, x, xBias, global, globalBias, keep, out, globalOut, rows, width, globalWidth, heads, n)
 *       [globalOut | out] ([rows, globalWidth] and [rows, width]) = softmax of each row of [global + globalBias | x + xBias]
 *       times keep: attention scores x [B, heads, n, width] and global [B, heads, n, globalWidth] (rows = B heads n),
 *       their masks xBias [B, 1, n, width] and globalBias [B, 1, 1, globalWidth], the query-keep mask keep [B, 1, n, 1];
 *       xBias, globalBias, keep = -1: none; globalWidth = 0: no global columns (global, globalBias, globalOut not read)
 *   softmaxGrad(buffer, p, dy, globalP, globalDy, out, globalOut, rows, width, globalWidth)
 *       [globalOut | out] = P (DY - sum(DY P)) per row, P = [globalP | p], DY = [globalDy | dy]
 * Formulas: activations.c's header.
 *
 * Work split (pool.c): GELU by ranges of elements, LayerNorm, dx and the softmax by ranges of rows, dGamma and dBeta by ranges of
 * columns (each summed over all rows in order). activations.c computes every element and every row sum in one order
 * whatever the range, so the result is the same bits for every thread count, and the same bits as the WebAssembly
 * module.
 *
 * Safety rules, checked in 64-bit arithmetic before anything is read or written (a failed check throws a RangeError
 * naming the operand, and nothing is written): n, rows and width in [1, 2^31) (globalWidth in [0, 2^31)), every
 * operand fewer than 2^31 floats, aligned to 4 bytes and inside the buffer; no output overlaps an input or another
 * output.
 */
#include "../src/backend/kernels/activations.h"
#include "attention.h"
#include "pool.h"

/* Elements of a GELU unit, and the floats of LayerNorm rows or columns a unit aims at. */
#define ELEMENTS_PER_UNIT 16384u
#define COLUMNS_PER_UNIT 64u

typedef struct {
  const float *x, *dy, *residual, *gamma, *beta, *x_hat, *inv_std, *keep;
  const float *bias, *global, *global_bias, *global_dy; /* the softmax's masks and global-key columns (null: none) */
  float *out, *aux, *d_gamma, *d_beta, *global_out;
  unsigned int count; /* elements (GELU) or rows (LayerNorm, softmax) */
  unsigned int width, global_width;
  unsigned int per_unit; /* elements, rows or columns per unit */
  unsigned int heads, n; /* how the softmax's masks broadcast over its rows */
  float eps;
} layer_call;

static unsigned int unit_end(const layer_call *call, unsigned int unit, unsigned int total) {
  const uint64_t end = (uint64_t)(unit + 1) * call->per_unit;
  return end < total ? (unsigned int)end : total;
}

static void gelu_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  gelu_range(call->x, call->out, unit * call->per_unit, unit_end(call, unit, call->count));
}

static void gelu_grad_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  gelu_grad_range(call->x, call->dy, call->out, unit * call->per_unit, unit_end(call, unit, call->count));
}

static void layer_norm_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  layer_norm_rows(call->x, call->residual, call->gamma, call->beta, call->out, call->aux, call->d_gamma, unit * call->per_unit,
                  unit_end(call, unit, call->count), call->width, call->eps);
}

static void layer_norm_grad_rows_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  layer_norm_grad_rows(call->dy, call->x_hat, call->inv_std, call->gamma, call->out, unit * call->per_unit,
                       unit_end(call, unit, call->count), call->width);
}

static void softmax_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  softmax_rows(call->x, call->bias, call->global, call->global_bias, call->keep, call->out, call->global_out, unit * call->per_unit,
               unit_end(call, unit, call->count), call->width, call->global_width, call->heads, call->n);
}

static void softmax_grad_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  softmax_grad_rows(call->x, call->dy, call->global, call->global_dy, call->out, call->global_out, unit * call->per_unit,
                    unit_end(call, unit, call->count), call->width, call->global_width);
}

static void layer_norm_grad_columns_unit(void *context, unsigned int unit) {
  const layer_call *call = context;
  layer_norm_grad_columns(call->dy, call->x_hat, call->d_gamma, call->d_beta, call->count, unit * call->per_unit,
                          unit_end(call, unit, call->width), call->width);
}

static unsigned int units_of(unsigned int total, unsigned int per_unit) { return (total + per_unit - 1) / per_unit; }

/* The floats at byte `offset` of the buffer when the optional operand is `present`, else NULL. */
static float *floats_if(uint8_t *data, int64_t offset, int present) { return present ? (float *)(data + offset) : NULL; }

/* Rows per unit: about ELEMENTS_PER_UNIT floats. */
static unsigned int rows_per_unit(int64_t width) { return width >= ELEMENTS_PER_UNIT ? 1u : (unsigned int)(ELEMENTS_PER_UNIT / width); }

/* Checks that the `count` operands lie in the buffer and that no output (the last `outputs`) overlaps another operand;
 * throws naming the first that fails. */
static int check_operands(napi_env env, const char *kernel, const char *const *names, const int64_t *offsets, const uint64_t *floats,
                          int count, int outputs, uint64_t length) {
  extent e[8];
  char message[200];
  for (int i = 0; i < count; i++) {
    if (offsets[i] < 0 || !float_extent((uint64_t)offsets[i], floats[i], length, &e[i])) {
      snprintf(message, sizeof message, "%s: %s is misaligned, too large or extends past the end of the buffer", kernel, names[i]);
      throw_range(env, message);
      return 0;
    }
  }
  for (int i = count - outputs; i < count; i++) {
    for (int j = 0; j < count; j++) {
      if (j != i && overlaps(e[i], e[j])) {
        snprintf(message, sizeof message, "%s: %s overlaps %s", kernel, names[i], names[j]);
        throw_range(env, message);
        return 0;
      }
    }
  }
  return 1;
}

/* Appends an operand (its name, byte offset and extent in floats) to the local names / offsets / floats lists. */
#define ADD_OPERAND(label, offset, extent_floats) (names[count] = (label), offsets[count] = (offset), floats[count++] = (extent_floats))

/* gelu(buffer, x, out, n) and geluGrad(buffer, x, dy, out, n): see the header. */
static napi_value gelu_pair(napi_env env, napi_callback_info info, int grad) {
  const char *name = grad ? "geluGrad" : "gelu";
  const size_t expected = grad ? 5 : 4;
  napi_value argv[5];
  int64_t v[4];
  uint8_t *data;
  uint64_t length;
  const char *usage = grad ? "geluGrad(buffer: ArrayBuffer, x, dy, out, n)" : "gelu(buffer: ArrayBuffer, x, out, n)";
  if (!buffer_call(env, info, expected, argv, &data, &length, usage)) return NULL;
  if (!read_integers(env, argv + 1, expected - 1, v, name)) return NULL;
  const int64_t n = v[expected - 2];
  if (!in_dimension_range(n)) return throw_range(env, grad ? "geluGrad: n must be in [1, 2^31)" : "gelu: n must be in [1, 2^31)");
  /* operands: x, dy? | out */
  const char *names[3];
  int64_t offsets[3];
  uint64_t floats[3];
  int count = 0;
  ADD_OPERAND("x", v[0], (uint64_t)n);
  if (grad) ADD_OPERAND("dy", v[1], (uint64_t)n);
  ADD_OPERAND("out", v[grad ? 2 : 1], (uint64_t)n);
  if (!check_operands(env, name, names, offsets, floats, count, 1, length)) return NULL;
  layer_call call = {.x = (const float *)(data + v[0]), .dy = floats_if(data, v[1], grad),
                     .out = (float *)(data + v[grad ? 2 : 1]), .count = (unsigned int)n, .per_unit = ELEMENTS_PER_UNIT};
  pool_run(units_of(call.count, call.per_unit), grad ? gelu_grad_unit : gelu_unit, &call);
  return NULL;
}

static napi_value gelu_function(napi_env env, napi_callback_info info) { return gelu_pair(env, info, 0); }

static napi_value gelu_grad_function(napi_env env, napi_callback_info info) { return gelu_pair(env, info, 1); }

/* layerNorm(buffer, x, residual, gamma, beta, out, xHat, invStd, rows, width, eps): see the header. */
static napi_value layer_norm_function(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int64_t v[9];
  double eps = 0;
  uint8_t *data;
  uint64_t length;
  const char *usage = "layerNorm(buffer: ArrayBuffer, x, residual, gamma, beta, out, xHat, invStd, rows, width, eps)";
  if (!buffer_call(env, info, 11, argv, &data, &length, usage)) return NULL;
  if (!read_integers_optional(env, argv + 1, 9, v, "layerNorm", 1u << 1, "residual")) return NULL;
  if (napi_get_value_double(env, argv[10], &eps) != napi_ok || !(eps >= 0)) return throw_range(env, "layerNorm: eps must be a number >= 0");
  const int64_t rows = v[7], width = v[8];
  if (!in_dimension_range(rows) || !in_dimension_range(width)) return throw_range(env, "layerNorm: rows and width must be in [1, 2^31)");
  const uint64_t size = (uint64_t)rows * (uint64_t)width;
  const int with_residual = v[1] != -1;
  /* operands: x, residual?, gamma, beta | out, xHat, invStd */
  const char *names[7];
  int64_t offsets[7];
  uint64_t floats[7];
  int count = 0;
  ADD_OPERAND("x", v[0], size);
  if (with_residual) ADD_OPERAND("residual", v[1], size);
  ADD_OPERAND("gamma", v[2], (uint64_t)width);
  ADD_OPERAND("beta", v[3], (uint64_t)width);
  ADD_OPERAND("out", v[4], size);
  ADD_OPERAND("xHat", v[5], size);
  ADD_OPERAND("invStd", v[6], (uint64_t)rows);
  if (!check_operands(env, "layerNorm", names, offsets, floats, count, 3, length)) return NULL;
  layer_call call = {.x = (const float *)(data + v[0]), .residual = floats_if(data, v[1], with_residual),
                     .gamma = (const float *)(data + v[2]), .beta = (const float *)(data + v[3]), .out = (float *)(data + v[4]),
                     .aux = (float *)(data + v[5]), .d_gamma = (float *)(data + v[6]), .count = (unsigned int)rows,
                     .width = (unsigned int)width, .per_unit = rows_per_unit(width), .eps = (float)eps};
  pool_run(units_of(call.count, call.per_unit), layer_norm_unit, &call);
  return NULL;
}

/* layerNormGrad(buffer, dy, xHat, invStd, gamma, dx, dGamma, dBeta, rows, width): see the header. */
static napi_value layer_norm_grad_function(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int64_t v[9];
  uint8_t *data;
  uint64_t length;
  const char *usage = "layerNormGrad(buffer: ArrayBuffer, dy, xHat, invStd, gamma, dx, dGamma, dBeta, rows, width)";
  if (!buffer_call(env, info, 10, argv, &data, &length, usage)) return NULL;
  if (!read_integers(env, argv + 1, 9, v, "layerNormGrad")) return NULL;
  const int64_t rows = v[7], width = v[8];
  if (!in_dimension_range(rows) || !in_dimension_range(width)) return throw_range(env, "layerNormGrad: rows and width must be in [1, 2^31)");
  const uint64_t size = (uint64_t)rows * (uint64_t)width;
  const char *const names[] = {"dy", "xHat", "invStd", "gamma", "dx", "dGamma", "dBeta"};
  const uint64_t floats[] = {size, size, (uint64_t)rows, (uint64_t)width, size, (uint64_t)width, (uint64_t)width};
  if (!check_operands(env, "layerNormGrad", names, v, floats, 7, 3, length)) return NULL;
  layer_call call = {.dy = (const float *)(data + v[0]), .x_hat = (const float *)(data + v[1]), .inv_std = (const float *)(data + v[2]),
                     .gamma = (const float *)(data + v[3]), .out = (float *)(data + v[4]), .d_gamma = (float *)(data + v[5]),
                     .d_beta = (float *)(data + v[6]), .count = (unsigned int)rows, .width = (unsigned int)width,
                     .per_unit = rows_per_unit(width)};
  pool_run(units_of(call.count, call.per_unit), layer_norm_grad_rows_unit, &call);
  call.per_unit = COLUMNS_PER_UNIT;
  pool_run(units_of(call.width, call.per_unit), layer_norm_grad_columns_unit, &call);
  return NULL;
}

/* softmax(buffer, x, xBias, global, globalBias, keep, out, globalOut, rows, width, globalWidth, heads, n): see the header. */
static napi_value softmax_function(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  int64_t v[12];
  uint8_t *data;
  uint64_t length;
  if (!buffer_call(env, info, 13, argv, &data, &length,
                   "softmax(buffer: ArrayBuffer, x, xBias, global, globalBias, keep, out, globalOut, rows, width, globalWidth, heads, n)")) {
    return NULL;
  }
  if (!read_integers_optional(env, argv + 1, 12, v, "softmax", 1u << 1 | 1u << 3 | 1u << 4, "xBias, globalBias, keep")) return NULL;
  const int64_t rows = v[7], width = v[8], global_width = v[9], heads = v[10], n = v[11];
  const int with_bias = v[1] != -1, with_global = global_width != 0, with_global_bias = with_global && v[3] != -1, with_keep = v[4] != -1;
  if (!in_dimension_range(rows) || !in_dimension_range(width) || !in_dimension_range(heads) || !in_dimension_range(n) ||
      (with_global && !in_dimension_range(global_width))) {
    return throw_range(env, "softmax: rows, width, heads and n must be in [1, 2^31), globalWidth in [0, 2^31)");
  }
  if (rows % (heads * n) != 0) return throw_range(env, "softmax: rows must be a multiple of heads n");
  const uint64_t batch = (uint64_t)(rows / (heads * n));
  const char *names[7];
  int64_t offsets[7];
  uint64_t floats[7];
  int count = 0;
  ADD_OPERAND("x", v[0], (uint64_t)rows * (uint64_t)width);
  if (with_bias) ADD_OPERAND("xBias", v[1], batch * (uint64_t)n * (uint64_t)width);
  if (with_global) ADD_OPERAND("global", v[2], (uint64_t)rows * (uint64_t)global_width);
  if (with_global_bias) ADD_OPERAND("globalBias", v[3], batch * (uint64_t)global_width);
  if (with_keep) ADD_OPERAND("keep", v[4], batch * (uint64_t)n);
  ADD_OPERAND("out", v[5], (uint64_t)rows * (uint64_t)width);
  if (with_global) ADD_OPERAND("globalOut", v[6], (uint64_t)rows * (uint64_t)global_width);
  if (!check_operands(env, "softmax", names, offsets, floats, count, with_global ? 2 : 1, length)) return NULL;
  layer_call call = {.x = (const float *)(data + v[0]), .bias = floats_if(data, v[1], with_bias), .global = floats_if(data, v[2], with_global),
                     .global_bias = floats_if(data, v[3], with_global_bias), .keep = floats_if(data, v[4], with_keep),
                     .out = (float *)(data + v[5]), .global_out = floats_if(data, v[6], with_global), .count = (unsigned int)rows,
                     .width = (unsigned int)width, .global_width = (unsigned int)global_width, .per_unit = rows_per_unit(width + global_width),
                     .heads = (unsigned int)heads, .n = (unsigned int)n};
  pool_run(units_of(call.count, call.per_unit), softmax_unit, &call);
  return NULL;
}

/* softmaxGrad(buffer, p, dy, globalP, globalDy, out, globalOut, rows, width, globalWidth): see the header. */
static napi_value softmax_grad_function(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int64_t v[9];
  uint8_t *data;
  uint64_t length;
  if (!buffer_call(env, info, 10, argv, &data, &length,
                   "softmaxGrad(buffer: ArrayBuffer, p, dy, globalP, globalDy, out, globalOut, rows, width, globalWidth)")) {
    return NULL;
  }
  if (!read_integers(env, argv + 1, 9, v, "softmaxGrad")) return NULL;
  const int64_t rows = v[6], width = v[7], global_width = v[8];
  const int with_global = global_width != 0;
  if (!in_dimension_range(rows) || !in_dimension_range(width) || (with_global && !in_dimension_range(global_width))) {
    return throw_range(env, "softmaxGrad: rows and width must be in [1, 2^31), globalWidth in [0, 2^31)");
  }
  const uint64_t size = (uint64_t)rows * (uint64_t)width, global_size = (uint64_t)rows * (uint64_t)global_width;
  const char *names[6];
  int64_t offsets[6];
  uint64_t floats[6];
  int count = 0;
  ADD_OPERAND("p", v[0], size);
  ADD_OPERAND("dy", v[1], size);
  if (with_global) ADD_OPERAND("globalP", v[2], global_size);
  if (with_global) ADD_OPERAND("globalDy", v[3], global_size);
  ADD_OPERAND("out", v[4], size);
  if (with_global) ADD_OPERAND("globalOut", v[5], global_size);
  if (!check_operands(env, "softmaxGrad", names, offsets, floats, count, with_global ? 2 : 1, length)) return NULL;
  layer_call call = {.x = (const float *)(data + v[0]), .dy = (const float *)(data + v[1]),
                     .global = floats_if(data, v[2], with_global), .global_dy = floats_if(data, v[3], with_global),
                     .out = (float *)(data + v[4]), .global_out = floats_if(data, v[5], with_global), .count = (unsigned int)rows,
                     .width = (unsigned int)width, .global_width = (unsigned int)global_width, .per_unit = rows_per_unit(width + global_width)};
  pool_run(units_of(call.count, call.per_unit), softmax_grad_unit, &call);
  return NULL;
}

napi_status define_layer_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"gelu", NULL, gelu_function, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, gelu_grad_function, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, layer_norm_function, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, layer_norm_grad_function, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, softmax_function, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxGrad", NULL, softmax_grad_function, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
}
