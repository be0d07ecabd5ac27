/*
 * Inverted-dropout masks on every core, in place on tfjs's WASM heap (src/backend/dropoutKernels.ts has the same
 * formula in JavaScript, for backends without the addon; both give the same bits):
 *
 *   dropoutMask(buffer, out, count, key, rate)
 *     out[i] = 1 / (1 - rate) (rounded to float32) if h(key, i) < (1 - rate) 2^32, else 0,   for i < count,
 *     h(key, i) = murmur3's 32-bit finaliser of (key + i 0x9e3779b9) mod 2^32.
 *
 * The mask is a counter-based hash: element i depends only on (key, i), so any split over threads gives the same
 * mask. Safety: count in [1, 2^31), out a multiple of 4 and out + 4 count inside the buffer, key in [0, 2^32),
 * rate in [0, 1) — checked before anything is written (a RangeError naming the argument).
 */
#include <stdint.h>

#include "operands.h"
#include "pool.h"

#define FLOATS_PER_UNIT 65536u

typedef struct {
  float *out;
  uint64_t count;
  uint32_t key;
  double threshold;
  float scale;
} mask_call;

static void mask_unit(void *context, unsigned int unit) {
  const mask_call *call = context;
  const uint64_t begin = (uint64_t)unit * FLOATS_PER_UNIT;
  const uint64_t end = begin + FLOATS_PER_UNIT < call->count ? begin + FLOATS_PER_UNIT : call->count;
  for (uint64_t i = begin; i < end; i++) {
    uint32_t h = call->key + (uint32_t)i * 0x9e3779b9u;
    h = (h ^ (h >> 16)) * 0x85ebca6bu;
    h = (h ^ (h >> 13)) * 0xc2b2ae35u;
    h ^= h >> 16;
    call->out[i] = (double)h < call->threshold ? call->scale : 0.0f;
  }
}

static napi_value dropout_mask(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int64_t out = 0, count = 0, key = 0;
  double rate = 0;
  uint8_t *data;
  uint64_t length;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5 || !get_buffer(env, argv[0], &data, &length)) {
    napi_throw_type_error(env, NULL, "dropoutMask(buffer: ArrayBuffer, out, count, key, rate)");
    return NULL;
  }
  if (!get_int64(env, argv[1], &out) || !get_int64(env, argv[2], &count) || !get_int64(env, argv[3], &key) ||
      napi_get_value_double(env, argv[4], &rate) != napi_ok) {
    return throw_range(env, "dropoutMask: out, count and key must be integers and rate a number");
  }
  if (!in_dimension_range(count)) return throw_range(env, "dropoutMask: count must be in [1, 2^31)");
  if (key < 0 || key >= ((int64_t)1 << 32)) return throw_range(env, "dropoutMask: key must be in [0, 2^32)");
  if (!(rate >= 0 && rate < 1)) return throw_range(env, "dropoutMask: rate must be in [0, 1)");
  extent e;
  if (out < 0 || !operand_extent((uint64_t)out, 1, 0, 1, (uint64_t)count, length, &e)) {
    return throw_range(env, "dropoutMask: out is misaligned or extends past the end of the buffer");
  }
  const double keep = 1.0 - rate;
  mask_call call = {(float *)(data + out), (uint64_t)count, (uint32_t)key, keep * 4294967296.0, (float)(1.0 / keep)};
  pool_run((unsigned int)((count + FLOATS_PER_UNIT - 1) / FLOATS_PER_UNIT), mask_unit, &call);
  return NULL;
}

napi_status define_dropout_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {{"dropoutMask", NULL, dropout_mask, NULL, NULL, NULL, napi_default, NULL}};
  return napi_define_properties(env, exports, 1, functions);
}
