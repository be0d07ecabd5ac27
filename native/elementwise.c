/*
 * Elementwise add, subtract and multiply of two float32 tensors with NumPy broadcasting, on every core, in place on
 * tfjs's WASM heap (or any ArrayBuffer): operands are byte offsets into one buffer. tfjs's own WASM kernels for these
 * run on one thread (src/backend/elementwiseKernels.ts chooses which runs).
 *
 *   binary(buffer, op, a, b, out, layout)
 *     op: 0 add, 1 subtract, 2 multiply;  layout: an Int32Array [rank, shape..., aStrides..., bStrides...];
 *     out (contiguous, of `shape`) at multi-index i = a[sum_k i_k aStride_k] op b[sum_k i_k bStride_k],
 *     strides in elements (0 along an axis an operand is broadcast over).
 * Every element is one IEEE operation (-ffp-contract=off), so the bits are those of any other implementation, for
 * every split over threads.
 *
 * Work split (pool.c): ranges of rows (every axis but the last), about ELEMENTS_PER_UNIT values a unit; each row's
 * last axis is a contiguous run of out, and of each operand unless it is broadcast there (stride 0: one value).
 * Safety rules, checked before anything is read or written (a RangeError naming what is wrong; nothing written):
 * rank in [1, 8]; every size in [1, 2^31) and their product below 2^31; strides in [0, 2^31); the offsets aligned;
 * each operand's extent (1 + sum_k (shape_k - 1) stride_k floats) and out's inside the buffer; out overlapping
 * neither operand.
 */
#include "../src/backend/kernels/vec.h"
#include "attention.h"
#include "pool.h"

#define ELEMENTS_PER_UNIT 32768u
#define MAX_RANK 8

typedef struct {
  const float *a, *b;
  float *out;
  int op;
  int rank;
  int64_t shape[MAX_RANK], a_stride[MAX_RANK], b_stride[MAX_RANK];
  uint64_t rows, row_length, rows_per_unit;
} binary_call;

/* One row of `length` values: out = a op b, each operand contiguous (step 1) or one value (step 0). */
HOT_LOOP
static void binary_row(int op, const float *a, int64_t a_step, const float *b, int64_t b_step, float *out, uint64_t length) {
#define BINARY_LOOPS(expr)                                                                             \
  if (a_step && b_step) {                                                                              \
    for (uint64_t j = 0; j < length; j++) { const float x = a[j], y = b[j]; out[j] = (expr); }         \
  } else if (a_step) {                                                                                 \
    const float y = b[0];                                                                              \
    for (uint64_t j = 0; j < length; j++) { const float x = a[j]; out[j] = (expr); }                   \
  } else if (b_step) {                                                                                 \
    const float x = a[0];                                                                              \
    for (uint64_t j = 0; j < length; j++) { const float y = b[j]; out[j] = (expr); }                   \
  } else {                                                                                             \
    const float x = a[0], y = b[0];                                                                    \
    for (uint64_t j = 0; j < length; j++) out[j] = (expr);                                             \
  }
  if (op == 0) {
    BINARY_LOOPS(x + y)
  } else if (op == 1) {
    BINARY_LOOPS(x - y)
  } else {
    BINARY_LOOPS(x * y)
  }
#undef BINARY_LOOPS
}

static void binary_unit(void *context, unsigned int unit) {
  const binary_call *c = context;
  const uint64_t first = (uint64_t)unit * c->rows_per_unit;
  const uint64_t last = first + c->rows_per_unit < c->rows ? first + c->rows_per_unit : c->rows;
  const int inner = c->rank - 1;
  for (uint64_t row = first; row < last; row++) {
    /* the multi-index of `row` over the outer axes, last outer axis fastest */
    uint64_t rest = row;
    int64_t a_offset = 0, b_offset = 0;
    for (int k = inner - 1; k >= 0; k--) {
      const uint64_t index = rest % (uint64_t)c->shape[k];
      rest /= (uint64_t)c->shape[k];
      a_offset += (int64_t)index * c->a_stride[k];
      b_offset += (int64_t)index * c->b_stride[k];
    }
    binary_row(c->op, c->a + a_offset, c->a_stride[inner], c->b + b_offset, c->b_stride[inner], c->out + row * c->row_length,
               c->row_length);
  }
}

static napi_value binary(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[4];
  uint8_t *data;
  uint64_t length;
  if (!buffer_call(env, info, 6, argv, &data, &length, "binary(buffer: ArrayBuffer, op, a, b, out, layout: Int32Array)")) return NULL;
  if (!read_integers(env, argv + 1, 4, v, "binary")) return NULL;
  const int64_t op = v[0], a = v[1], b = v[2], out = v[3];
  if (op > 2) return throw_range(env, "binary: op must be 0 (add), 1 (subtract) or 2 (multiply)");
  bool is_typed = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *raw = NULL;
  if (napi_is_typedarray(env, argv[5], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[5], &type, &count, &raw, NULL, NULL) != napi_ok || type != napi_int32_array || count < 1) {
    napi_throw_type_error(env, NULL, "binary: layout must be an Int32Array [rank, shape..., aStrides..., bStrides...]");
    return NULL;
  }
  const int32_t *layout = raw;
  const int64_t rank = layout[0];
  if (rank < 1 || rank > MAX_RANK || count != (size_t)(1 + 3 * rank)) {
    return throw_range(env, "binary: layout must hold a rank in [1, 8] and rank sizes and strides for each operand");
  }
  binary_call call = {.op = (int)op, .rank = (int)rank};
  uint64_t elements = 1, a_last = 0, b_last = 0;
  for (int k = 0; k < rank; k++) {
    call.shape[k] = layout[1 + k];
    call.a_stride[k] = layout[1 + rank + k];
    call.b_stride[k] = layout[1 + 2 * rank + k];
    if (!in_dimension_range(call.shape[k])) return throw_range(env, "binary: every size must be in [1, 2^31)");
    if (call.a_stride[k] < 0 || call.b_stride[k] < 0) return throw_range(env, "binary: strides must be non-negative");
    elements *= (uint64_t)call.shape[k];
    if (elements >= ((uint64_t)1 << 31)) return throw_range(env, "binary: the output must have fewer than 2^31 elements");
    a_last += (uint64_t)(call.shape[k] - 1) * (uint64_t)call.a_stride[k];
    b_last += (uint64_t)(call.shape[k] - 1) * (uint64_t)call.b_stride[k];
  }
  extent ea, eb, eo;
  if (!float_extent((uint64_t)a, a_last + 1, length, &ea)) return throw_range(env, "binary: a is misaligned, too large or extends past the end of the buffer");
  if (!float_extent((uint64_t)b, b_last + 1, length, &eb)) return throw_range(env, "binary: b is misaligned, too large or extends past the end of the buffer");
  if (!float_extent((uint64_t)out, elements, length, &eo)) return throw_range(env, "binary: out is misaligned, too large or extends past the end of the buffer");
  if (overlaps(eo, ea) || overlaps(eo, eb)) return throw_range(env, "binary: out overlaps a or b");
  call.a = (const float *)(data + a);
  call.b = (const float *)(data + b);
  call.out = (float *)(data + out);
  call.row_length = (uint64_t)call.shape[rank - 1];
  call.rows = elements / call.row_length;
  call.rows_per_unit = call.row_length >= ELEMENTS_PER_UNIT ? 1 : ELEMENTS_PER_UNIT / call.row_length;
  pool_run((unsigned int)((call.rows + call.rows_per_unit - 1) / call.rows_per_unit), binary_unit, &call);
  return NULL;
}

napi_status define_elementwise_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {{"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL}};
  return napi_define_properties(env, exports, 1, functions);
}
