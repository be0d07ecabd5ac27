/*
 * The few SIMD operations tsml's kernels use, for the two builds of the same C sources:
 *   - WebAssembly (clang --target=wasm32 -msimd128, scripts/build-wasm-kernels): 4 lanes, wasm_simd128.h;
 *   - the host (the native addon, native/binding.gyp): VEC_LANES lanes of GCC/clang vector extensions, lowered to
 *     SSE2 / AVX2 on x86-64 and NEON on arm64.
 * Every operation is lane-wise IEEE add or multiply (no fused multiply-add: the native build has -ffp-contract=off),
 * so a kernel that sums each output element in one fixed order gives the same bits in both builds whatever the
 * lane count.
 */
#ifndef TSML_VEC_H
#define TSML_VEC_H

typedef unsigned int u32;

#ifdef __wasm__
#include <wasm_simd128.h>
#define VEC_LANES 4
typedef v128_t vec;
static inline vec vec_zero(void) { return wasm_f32x4_splat(0.0f); }
static inline vec vec_splat(float x) { return wasm_f32x4_splat(x); }
static inline vec vec_load(const float *p) { return wasm_v128_load(p); }
static inline void vec_store(float *p, vec x) { wasm_v128_store(p, x); }
static inline vec vec_add(vec a, vec b) { return wasm_f32x4_add(a, b); }
static inline vec vec_mul(vec a, vec b) { return wasm_f32x4_mul(a, b); }
/* Lane l of x (a loop over lanes must name them as constants in WebAssembly: no address-taken locals allowed). */
#define VEC_FOR_EACH_LANE(x, l, value, body)                     \
  do {                                                           \
    { const int l = 0; const float value = wasm_f32x4_extract_lane(x, 0); body; } \
    { const int l = 1; const float value = wasm_f32x4_extract_lane(x, 1); body; } \
    { const int l = 2; const float value = wasm_f32x4_extract_lane(x, 2); body; } \
    { const int l = 3; const float value = wasm_f32x4_extract_lane(x, 3); body; } \
  } while (0)
#else
#define VEC_LANES 8
typedef float vec __attribute__((vector_size(4 * VEC_LANES)));
static inline vec vec_zero(void) { return (vec){0.0f}; }
/* A shuffle, not an initializer list: GCC builds {x, x, ...} lane by lane inside a target_clones function. */
#if defined(__has_builtin) && __has_builtin(__builtin_shufflevector)
static inline vec vec_splat(float x) { return __builtin_shufflevector((vec){x}, (vec){x}, 0, 0, 0, 0, 0, 0, 0, 0); }
#else
static inline vec vec_splat(float x) { return (vec){x, x, x, x, x, x, x, x}; }
#endif
static inline vec vec_load(const float *p) { vec x; __builtin_memcpy(&x, p, sizeof x); return x; }
static inline void vec_store(float *p, vec x) { __builtin_memcpy(p, &x, sizeof x); }
static inline vec vec_add(vec a, vec b) { return a + b; }
static inline vec vec_mul(vec a, vec b) { return a * b; }
#define VEC_FOR_EACH_LANE(x, l, value, body)                        \
  do {                                                              \
    for (int l = 0; l < VEC_LANES; l++) { const float value = (x)[l]; body; } \
  } while (0)
#endif

#endif
