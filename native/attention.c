/*
 * The band attention kernels of src/backend/kernels/band.c — the same source tsml's WebAssembly module is built
 * from — on every core, in place on tfjs's WASM heap (or any ArrayBuffer): operands are byte offsets into one buffer.
 *
 *   bandScores(buffer, q, k, band, batch, heads, n, d, w)     band = scores(q, k)
 *   bandContext(buffer, p, v, out, batch, heads, n, d, w)     out  = context(p, v)
 *   bandTranspose(buffer, p, out, bh, n, w)                    out  = transpose(p)
 * Layouts and formulas: band.c's header. q, k, v and out hold batch n heads d floats; band and p batch heads n (2w + 1).
 *
 * Work split: a call is cut into units of one sequence-head and a range of rows (at most ROWS_PER_UNIT, a multiple
 * of 4, and enough units for every thread of the pool to take several), run by pool.c. Units write disjoint rows and
 * band.c sums each element in one order, so the result is the same bits for every thread count, and the same bits
 * as the WebAssembly module.
 * Each thread keeps its own scratch for the transposed keys of a unit (grown as needed, outside the buffer).
 *
 * Safety rules, checked in 64-bit arithmetic before anything is read or written (a failed check throws a RangeError
 * naming the operand, and nothing is written):
 *   - batch, heads, n and d are in [1, 2^31), w in [0, 2^30); offsets are multiples of 4;
 *   - each operand has fewer than 2^31 elements (band.c indexes in 32 bits) and lies inside the buffer;
 *   - the output overlaps no input (the inputs are read while the output is written).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "../src/backend/kernels/band.h"
#include "attention.h"
#include "pool.h"

/* Rows of one unit: small enough that a unit's keys stay in a core's L2 cache at d = 64, w = 256. */
#define ROWS_PER_UNIT 256u

typedef struct {
  const float *a, *b; /* inputs: (q, k), (p, v) or (p, -) */
  float *out;
  unsigned int heads, n, d, w;
  unsigned int rows;           /* rows per unit (a multiple of 4) */
  unsigned int units_per_head; /* ceil(n / rows) */
  atomic_int out_of_memory;
} band_call;

static _Thread_local float *scratch = NULL;
static _Thread_local size_t scratch_floats = 0;

static float *thread_scratch(size_t floats) {
  if (floats > scratch_floats) {
    float *grown = realloc(scratch, floats * sizeof(float));
    if (grown == NULL) return NULL;
    scratch = grown;
    scratch_floats = floats;
  }
  return scratch;
}

/* The rows [begin, end) of unit u's sequence-head, returned through s. */
static void unit_rows(const band_call *call, unsigned int unit, unsigned int *s, unsigned int *begin, unsigned int *end) {
  *s = unit / call->units_per_head;
  *begin = (unit % call->units_per_head) * call->rows;
  *end = *begin + call->rows < call->n ? *begin + call->rows : call->n;
}

static void scores_unit(void *context, unsigned int unit) {
  band_call *call = context;
  unsigned int s, begin, end;
  unit_rows(call, unit, &s, &begin, &end);
  float *keys = thread_scratch(band_scores_scratch_floats(end - begin, call->d, call->w));
  if (keys == NULL) {
    atomic_store(&call->out_of_memory, 1);
    return;
  }
  band_scores_rows(call->a, call->b, call->out, keys, s, begin, end, call->heads, call->n, call->d, call->w);
}

static void context_unit(void *context, unsigned int unit) {
  band_call *call = context;
  unsigned int s, begin, end;
  unit_rows(call, unit, &s, &begin, &end);
  band_context_rows(call->a, call->b, call->out, s, begin, end, call->heads, call->n, call->d, call->w);
}

static void transpose_unit(void *context, unsigned int unit) {
  band_call *call = context;
  unsigned int s, begin, end;
  unit_rows(call, unit, &s, &begin, &end);
  band_transpose_rows(call->a, call->out, s, begin, end, call->n, call->w);
}

/* Runs `task` over the units of `call` for `sequence_heads` sequence-heads on the pool. Returns 0, or -1 when a
 * thread's scratch could not be allocated. */
static int run_band(band_call *call, uint64_t sequence_heads, pool_task task) {
  const uint64_t threads = pool_threads();
  const uint64_t per_head_wanted = (4 * threads + sequence_heads - 1) / sequence_heads; /* units per head for ~4 per thread */
  uint64_t rows = (call->n + per_head_wanted - 1) / per_head_wanted;
  rows = (rows + 3) / 4 * 4;
  if (rows > ROWS_PER_UNIT) rows = ROWS_PER_UNIT;
  call->rows = (unsigned int)rows;
  call->units_per_head = (unsigned int)((call->n + rows - 1) / rows);
  atomic_store(&call->out_of_memory, 0);
  pool_run((unsigned int)(sequence_heads * call->units_per_head), task, call);
  return atomic_load(&call->out_of_memory) ? -1 : 0;
}

/* bandScores / bandContext(buffer, x, y, out, batch, heads, n, d, w): see the header. */
static napi_value band_pair(napi_env env, napi_callback_info info, int scores) {
  const char *name = scores ? "bandScores" : "bandContext";
  napi_value argv[9];
  int64_t v[8];
  uint8_t *data;
  uint64_t length;
  const char *usage = scores ? "bandScores(buffer: ArrayBuffer, q, k, band, batch, heads, n, d, w)"
                             : "bandContext(buffer: ArrayBuffer, p, v, out, batch, heads, n, d, w)";
  if (!buffer_call(env, info, 9, argv, &data, &length, usage)) return NULL;
  if (!read_integers(env, argv + 1, 8, v, name)) return NULL;
  const int64_t x = v[0], y = v[1], out = v[2], batch = v[3], heads = v[4], n = v[5], d = v[6], w = v[7];
  if (!in_dimension_range(batch) || !in_dimension_range(heads) || !in_dimension_range(n) || !in_dimension_range(d) || w >= ((int64_t)1 << 30)) {
    return throw_range(env, scores ? "bandScores: batch, heads, n and d must be in [1, 2^31), w in [0, 2^30)"
                                   : "bandContext: batch, heads, n and d must be in [1, 2^31), w in [0, 2^30)");
  }
  const uint64_t sequence = (uint64_t)batch * n * heads * d, band = (uint64_t)batch * heads * n * (2 * w + 1);
  extent ex, ey, eo;
  if (!float_extent((uint64_t)x, scores ? sequence : band, length, &ex)) {
    return throw_range(env, scores ? "bandScores: q is misaligned, too large or extends past the end of the buffer"
                                   : "bandContext: p is misaligned, too large or extends past the end of the buffer");
  }
  if (!float_extent((uint64_t)y, sequence, length, &ey)) {
    return throw_range(env, scores ? "bandScores: k is misaligned, too large or extends past the end of the buffer"
                                   : "bandContext: v is misaligned, too large or extends past the end of the buffer");
  }
  if (!float_extent((uint64_t)out, scores ? band : sequence, length, &eo)) {
    return throw_range(env, scores ? "bandScores: band is misaligned, too large or extends past the end of the buffer"
                                   : "bandContext: out is misaligned, too large or extends past the end of the buffer");
  }
  if (overlaps(eo, ex) || overlaps(eo, ey)) {
    return throw_range(env, scores ? "bandScores: band overlaps q or k" : "bandContext: out overlaps p or v");
  }
  band_call call = {(const float *)(data + x), (const float *)(data + y), (float *)(data + out), (unsigned int)heads,
                    (unsigned int)n, (unsigned int)d, (unsigned int)w, 0, 0, 0};
  if (run_band(&call, (uint64_t)batch * heads, scores ? scores_unit : context_unit) != 0) {
    napi_throw_error(env, "ERR_TSML_OUT_OF_MEMORY", "bandScores: could not allocate a thread's scratch for the keys");
  }
  return NULL;
}

static napi_value band_scores_function(napi_env env, napi_callback_info info) { return band_pair(env, info, 1); }

static napi_value band_context_function(napi_env env, napi_callback_info info) { return band_pair(env, info, 0); }

/* bandTranspose(buffer, p, out, bh, n, w): see the header. */
static napi_value band_transpose_function(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[5];
  uint8_t *data;
  uint64_t length;
  if (!buffer_call(env, info, 6, argv, &data, &length, "bandTranspose(buffer: ArrayBuffer, p, out, bh, n, w)")) return NULL;
  if (!read_integers(env, argv + 1, 5, v, "bandTranspose")) return NULL;
  const int64_t p = v[0], out = v[1], bh = v[2], n = v[3], w = v[4];
  if (!in_dimension_range(bh) || !in_dimension_range(n) || w >= ((int64_t)1 << 30)) {
    return throw_range(env, "bandTranspose: bh and n must be in [1, 2^31), w in [0, 2^30)");
  }
  const uint64_t band = (uint64_t)bh * n * (2 * w + 1);
  extent ep, eo;
  if (!float_extent((uint64_t)p, band, length, &ep)) return throw_range(env, "bandTranspose: p is misaligned, too large or extends past the end of the buffer");
  if (!float_extent((uint64_t)out, band, length, &eo)) return throw_range(env, "bandTranspose: out is misaligned, too large or extends past the end of the buffer");
  if (overlaps(eo, ep)) return throw_range(env, "bandTranspose: out overlaps p");
  band_call call = {(const float *)(data + p), NULL, (float *)(data + out), 1, (unsigned int)n, 1, (unsigned int)w, 0, 0, 0};
  run_band(&call, (uint64_t)bh, transpose_unit);
  return NULL;
}

napi_status define_attention_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"bandScores", NULL, band_scores_function, NULL, NULL, NULL, napi_default, NULL},
      {"bandContext", NULL, band_context_function, NULL, NULL, NULL, napi_default, NULL},
      {"bandTranspose", NULL, band_transpose_function, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
}
