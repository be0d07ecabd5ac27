/*
 * One AdamW step (decoupled weight decay) over float32 values, four lanes at a time, for tfjs's WASM backend: the
 * moments live in host memory (outside the 4 GiB heap) and come in chunk by chunk. Every operation is rounded to
 * float32 in the order of src/train/adamw.ts's tensor update, so all three implementations give the same bits
 * (float32 sqrt and division are correctly rounded, in wasm and in JavaScript's double-then-fround alike).
 * Compiled to a module that imports the backend's memory; same rules as band.c.
 *
 *   m <- b1 m + c1 g;  v <- b2 v + c2 g^2;  p <- (decay ? p * decay : p) - step_size * m / (sqrt(v) / correction + eps)
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef unsigned int u32;

EXPORT(adamw_step)
void adamw_step(const float *param, const float *grad, float *out, float *m, float *v, u32 n, float b1, float c1,
                float b2, float c2, float eps, float step_size, float correction, float decay, u32 decays) {
  const v128_t B1 = wasm_f32x4_splat(b1), C1 = wasm_f32x4_splat(c1), B2 = wasm_f32x4_splat(b2), C2 = wasm_f32x4_splat(c2);
  const v128_t EPS = wasm_f32x4_splat(eps), STEP = wasm_f32x4_splat(step_size), CORR = wasm_f32x4_splat(correction);
  const v128_t DECAY = wasm_f32x4_splat(decay);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t g = wasm_v128_load(grad + i);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), B1), wasm_f32x4_mul(g, C1));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), B2), wasm_f32x4_mul(wasm_f32x4_mul(g, g), C2));
    wasm_v128_store(m + i, mi);
    wasm_v128_store(v + i, vi);
    const v128_t denom = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), CORR), EPS);
    const v128_t step = wasm_f32x4_mul(wasm_f32x4_div(mi, denom), STEP);
    v128_t p = wasm_v128_load(param + i);
    if (decays) p = wasm_f32x4_mul(p, DECAY);
    wasm_v128_store(out + i, wasm_f32x4_sub(p, step));
  }
  for (; i < n; i++) {
    const float g = grad[i];
    const float mi = m[i] * b1 + g * c1;
    const float vi = v[i] * b2 + (g * g) * c2;
    m[i] = mi;
    v[i] = vi;
    const float step = (mi / (__builtin_sqrtf(vi) / correction + eps)) * step_size;
    out[i] = (decays ? param[i] * decay : param[i]) - step;
  }
}
