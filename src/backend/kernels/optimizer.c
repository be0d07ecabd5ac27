/*
 * One AdamW step (decoupled weight decay) over float32 values. One C source for two builds (vec.h), as band.c: a
 * WebAssembly module that imports tfjs's WASM memory (src/backend/optimizerKernels.ts copies the moments, kept in
 * host memory outside the 4 GiB heap, in chunk by chunk), and the host build inside the native addon
 * (native/adamw.c), which runs adamw_range on every core, on the heap's parameter and gradient and the moments where
 * JavaScript keeps them, without copies. Every operation is rounded to float32 in the order of src/train/adamw.ts's
 * tensor update, so all implementations give the same bits (float32 sqrt and division are correctly rounded, in
 * WebAssembly, in C and in JavaScript's double-then-fround alike), whatever the split over threads.
 *
 *   m <- b1 m + c1 g;  v <- b2 v + c2 g^2;  p <- (decay ? p * decay : p) - step_size * m / (sqrt(v) / correction + eps)
 *
 * Same rules as band.c: no data segments, no globals written, no shadow stack (scripts/build-wasm-kernels checks).
 * Callers check bounds (native/adamw.c for the host; optimizerKernels.ts's sizes for WebAssembly).
 */
#include "optimizer.h"
#include "vec.h"

HOT_LOOP
void adamw_range(const float *param, const float *grad, float *out, float *m, float *v, u32 begin, u32 end, float b1, float c1,
                 float b2, float c2, float eps, float step_size, float correction, float decay, u32 decays) {
  const vec B1 = vec_splat(b1), C1 = vec_splat(c1), B2 = vec_splat(b2), C2 = vec_splat(c2);
  const vec EPS = vec_splat(eps), STEP = vec_splat(step_size), CORR = vec_splat(correction), DECAY = vec_splat(decay);
  u32 i = begin;
  for (; i + VEC_LANES <= end; i += VEC_LANES) {
    const vec g = vec_load(grad + i);
    const vec mi = vec_add(vec_mul(vec_load(m + i), B1), vec_mul(g, C1));
    const vec vi = vec_add(vec_mul(vec_load(v + i), B2), vec_mul(vec_mul(g, g), C2));
    vec_store(m + i, mi);
    vec_store(v + i, vi);
    const vec denom = vec_add(vec_div(vec_sqrt(vi), CORR), EPS);
    const vec step = vec_mul(vec_div(mi, denom), STEP);
    vec p = vec_load(param + i);
    if (decays) p = vec_mul(p, DECAY);
    vec_store(out + i, vec_sub(p, step));
  }
  for (; i < end; i++) {
    const float g = grad[i];
    const float mi = m[i] * b1 + g * c1;
    const float vi = v[i] * b2 + (g * g) * c2;
    m[i] = mi;
    v[i] = vi;
    const float step = (mi / (__builtin_sqrtf(vi) / correction + eps)) * step_size;
    out[i] = (decays ? param[i] * decay : param[i]) - step;
  }
}

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(#name)))

/* The WebAssembly module's export: the whole of n values (src/backend/optimizerKernels.ts). */
EXPORT(adamw_step)
void adamw_step(const float *param, const float *grad, float *out, float *m, float *v, u32 n, float b1, float c1, float b2, float c2,
                float eps, float step_size, float correction, float decay, u32 decays) {
  adamw_range(param, grad, out, m, v, 0, n, b1, c1, b2, c2, eps, step_size, correction, decay, decays);
}
#endif
