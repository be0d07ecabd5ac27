/*
 * Inverted dropout on every core, in place on tfjs's WASM heap (src/backend/dropoutKernels.ts has the same formulas
 * in JavaScript, for backends without the addon; both give the same bits):
 *
 *   dropoutApply(buffer, x, out, count, key, rate)
 *     out[i] = x[i] * m_i (one float32 product: the bits of x times the mask), for i < count, without the mask in
 *     memory — the forward pass of dropout, and its backward pass on dy with the same key — where
 *     m_i = 1 / (1 - rate) (rounded to float32) if h(key, i) < (1 - rate) 2^32, else 0, and
 *     h(key, i) = murmur3's 32-bit finaliser of (key + i 0x9e3779b9) mod 2^32.
 *
 * The mask is a counter-based hash: element i depends only on (key, i), so any split over threads gives the same
 * mask. h < (1 - rate) 2^32 is tested as h < ceil((1 - rate) 2^32) in 32-bit integers (the same test for an integer
 * h; rate 0 keeps every element), so the loops vectorize (vec.h's HOT_LOOP: an AVX2 build where the CPU has it).
 * Safety: count in [1, 2^31), x and out multiples of 4 inside the buffer and not overlapping, key in [0, 2^32),
 * rate in [0, 1) — checked before anything is written (a RangeError naming the argument).
 */
#include <math.h>
#include <stdint.h>

#include "../src/backend/kernels/vec.h"
#include "operands.h"
#include "pool.h"

#define FLOATS_PER_UNIT 65536u

typedef struct {
  const float *x;
  float *out;
  uint64_t count;
  uint32_t key;
  uint64_t threshold; /* ceil((1 - rate) 2^32) */
  float scale;
} mask_call;

static inline uint32_t dropout_hash(uint32_t key, uint32_t i) {
  uint32_t h = key + i * 0x9e3779b9u;
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

/* Elements [begin, end) of x times the mask, for a threshold below 2^32; vectorized (32-bit lanes). */
HOT_LOOP
static void mask_range(const float *x, float *out, uint32_t begin, uint32_t end, uint32_t key, uint32_t threshold, float scale) {
  for (uint32_t i = begin; i < end; i++) out[i] = x[i] * (dropout_hash(key, i) < threshold ? scale : 0.0f);
}

static void mask_unit(void *context, unsigned int unit) {
  const mask_call *call = context;
  const uint32_t begin = unit * FLOATS_PER_UNIT;
  const uint32_t end = (uint64_t)begin + FLOATS_PER_UNIT < call->count ? begin + FLOATS_PER_UNIT : (uint32_t)call->count;
  if (call->threshold <= UINT32_MAX) {
    mask_range(call->x, call->out, begin, end, call->key, (uint32_t)call->threshold, call->scale);
    return;
  }
  /* rate 0: every element kept, h < 2^32 always */
  for (uint32_t i = begin; i < end; i++) call->out[i] = call->x[i] * call->scale;
}

/* Reads key and rate (argv[0], argv[1]) into the call's threshold and scale; 0 (after throwing) when out of range. */
static int read_key_rate(napi_env env, napi_value *argv, const char *name, mask_call *call) {
  int64_t key = 0;
  double rate = 0;
  char message[120];
  if (!get_int64(env, argv[0], &key) || key < 0 || key >= ((int64_t)1 << 32)) {
    snprintf(message, sizeof message, "%s: key must be in [0, 2^32)", name);
    throw_range(env, message);
    return 0;
  }
  if (napi_get_value_double(env, argv[1], &rate) != napi_ok || !(rate >= 0 && rate < 1)) {
    snprintf(message, sizeof message, "%s: rate must be in [0, 1)", name);
    throw_range(env, message);
    return 0;
  }
  const double keep = 1.0 - rate;
  call->key = (uint32_t)key;
  call->threshold = (uint64_t)ceil(keep * 4294967296.0);
  call->scale = (float)(1.0 / keep);
  return 1;
}

static napi_value dropout_apply(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t x = 0, out = 0, count = 0;
  uint8_t *data;
  uint64_t length;
  if (!buffer_call(env, info, 6, argv, &data, &length, "dropoutApply(buffer: ArrayBuffer, x, out, count, key, rate)")) return NULL;
  if (!get_int64(env, argv[1], &x) || !get_int64(env, argv[2], &out) || !get_int64(env, argv[3], &count)) {
    return throw_range(env, "dropoutApply: x, out and count must be integers");
  }
  if (!in_dimension_range(count)) return throw_range(env, "dropoutApply: count must be in [1, 2^31)");
  mask_call call = {NULL, NULL, (uint64_t)count, 0, 0, 0};
  if (!read_key_rate(env, argv + 4, "dropoutApply", &call)) return NULL;
  extent ex, eo;
  if (x < 0 || !float_extent((uint64_t)x, (uint64_t)count, length, &ex)) {
    return throw_range(env, "dropoutApply: x is misaligned or extends past the end of the buffer");
  }
  if (out < 0 || !float_extent((uint64_t)out, (uint64_t)count, length, &eo)) {
    return throw_range(env, "dropoutApply: out is misaligned or extends past the end of the buffer");
  }
  if (overlaps(ex, eo)) return throw_range(env, "dropoutApply: out overlaps x");
  call.x = (const float *)(data + x);
  call.out = (float *)(data + out);
  pool_run((unsigned int)((count + FLOATS_PER_UNIT - 1) / FLOATS_PER_UNIT), mask_unit, &call);
  return NULL;
}

napi_status define_dropout_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"dropoutApply", NULL, dropout_apply, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
}
