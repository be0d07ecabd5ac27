/*
 * AdamW's update of src/backend/kernels/optimizer.c — the same source tsml's WebAssembly module is built from — on
 * every core: the parameter, gradient and output in place on tfjs's WASM heap (byte offsets into `buffer`), the
 * moments in the Float32Arrays where JavaScript keeps them (outside the heap), read and updated without copies.
 *
 *   adamwStep(buffer, param, grad, out, n, m, v, b1, c1, b2, c2, eps, stepSize, correction, decay, decays)
 *     m, v: Float32Arrays of n values, updated in place; out = the new parameter; formula: optimizer.c's header.
 *
 * Work split (pool.c): ranges of elements; every element is computed alone in one order, so the bits are the same
 * for every thread count and the same as the WebAssembly module's.
 * Safety rules, checked before anything is read or written (a RangeError or TypeError naming the operand; nothing
 * written): n in [1, 2^31); param, grad and out aligned, inside the buffer, out overlapping neither; m and v
 * Float32Arrays of exactly n values, overlapping no other operand.
 */
#include "../src/backend/kernels/optimizer.h"
#include "attention.h"
#include "pool.h"

#define ELEMENTS_PER_UNIT 65536u

typedef struct {
  const float *param, *grad;
  float *out, *m, *v;
  unsigned int n;
  float b1, c1, b2, c2, eps, step_size, correction, decay;
  unsigned int decays;
} adamw_call;

static void adamw_unit(void *context, unsigned int unit) {
  const adamw_call *c = context;
  const unsigned int begin = unit * ELEMENTS_PER_UNIT;
  const unsigned int end = (uint64_t)begin + ELEMENTS_PER_UNIT < c->n ? begin + ELEMENTS_PER_UNIT : c->n;
  adamw_range(c->param, c->grad, c->out, c->m, c->v, begin, end, c->b1, c->c1, c->b2, c->c2, c->eps, c->step_size, c->correction,
              c->decay, c->decays);
}

/* The data of a Float32Array of exactly `n` values, as an extent of host addresses; 0 when it is not one. */
static int moment_array(napi_env env, napi_value value, uint64_t n, float **data, extent *range) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, NULL, NULL) != napi_ok) return 0;
  if (type != napi_float32_array || length != n || raw == NULL) return 0;
  *data = raw;
  range->offset = (uint64_t)(uintptr_t)raw;
  range->end = range->offset + 4 * n;
  return 1;
}

/* The host-address extent of an operand checked as a byte extent of the buffer at `data`. */
static extent host_extent(const uint8_t *data, extent e) {
  const uint64_t base = (uint64_t)(uintptr_t)data;
  return (extent){base + e.offset, base + e.end};
}

static napi_value adamw_step(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  int64_t v[4];
  double scalars[8];
  uint8_t *data;
  uint64_t length;
  const char *usage = "adamwStep(buffer: ArrayBuffer, param, grad, out, n, m: Float32Array, v: Float32Array, b1, c1, b2, c2, eps, stepSize, "
                      "correction, decay, decays)";
  if (!buffer_call(env, info, 16, argv, &data, &length, usage)) return NULL;
  if (!read_integers(env, argv + 1, 4, v, "adamwStep")) return NULL;
  const int64_t n = v[3];
  if (!in_dimension_range(n)) return throw_range(env, "adamwStep: n must be in [1, 2^31)");
  for (int i = 0; i < 8; i++) {
    if (napi_get_value_double(env, argv[7 + i], &scalars[i]) != napi_ok) return throw_range(env, "adamwStep: b1 ... decay must be numbers");
  }
  bool decays = false;
  if (napi_get_value_bool(env, argv[15], &decays) != napi_ok) return throw_range(env, "adamwStep: decays must be a boolean");
  extent ep, eg, eo, em, ev;
  const char *const names[] = {"param", "grad", "out"};
  extent *extents[] = {&ep, &eg, &eo};
  for (int i = 0; i < 3; i++) {
    if (!float_extent((uint64_t)v[i], (uint64_t)n, length, extents[i])) {
      char message[120];
      snprintf(message, sizeof message, "adamwStep: %s is misaligned, too large or extends past the end of the buffer", names[i]);
      return throw_range(env, message);
    }
  }
  if (overlaps(eo, ep) || overlaps(eo, eg)) return throw_range(env, "adamwStep: out overlaps param or grad");
  adamw_call call = {.param = (const float *)(data + v[0]), .grad = (const float *)(data + v[1]), .out = (float *)(data + v[2]),
                     .n = (unsigned int)n};
  if (!moment_array(env, argv[5], (uint64_t)n, &call.m, &em)) {
    napi_throw_type_error(env, NULL, "adamwStep: m must be a Float32Array of n values");
    return NULL;
  }
  if (!moment_array(env, argv[6], (uint64_t)n, &call.v, &ev)) {
    napi_throw_type_error(env, NULL, "adamwStep: v must be a Float32Array of n values");
    return NULL;
  }
  const extent heap_operands[] = {host_extent(data, ep), host_extent(data, eg), host_extent(data, eo)};
  if (overlaps(em, ev)) return throw_range(env, "adamwStep: m overlaps v");
  for (int i = 0; i < 3; i++) {
    if (overlaps(em, heap_operands[i]) || overlaps(ev, heap_operands[i])) return throw_range(env, "adamwStep: m or v overlaps param, grad or out");
  }
  call.b1 = (float)scalars[0];
  call.c1 = (float)scalars[1];
  call.b2 = (float)scalars[2];
  call.c2 = (float)scalars[3];
  call.eps = (float)scalars[4];
  call.step_size = (float)scalars[5];
  call.correction = (float)scalars[6];
  call.decay = (float)scalars[7];
  call.decays = decays ? 1u : 0u;
  pool_run((unsigned int)((n + ELEMENTS_PER_UNIT - 1) / ELEMENTS_PER_UNIT), adamw_unit, &call);
  return NULL;
}

napi_status define_adamw_functions(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {{"adamwStep", NULL, adamw_step, NULL, NULL, NULL, napi_default, NULL}};
  return napi_define_properties(env, exports, 1, functions);
}
