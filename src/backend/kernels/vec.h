/*
 * The few SIMD operations tsml's kernels use, for the two builds of the same C sources:
 *   - WebAssembly (clang --target=wasm32 -msimd128, scripts/build-wasm-kernels): 4 lanes, wasm_simd128.h;
 *   - the host (the native addon, native/binding.gyp): VEC_LANES lanes of GCC/clang vector extensions, lowered to
 *     SSE2 / AVX2 on x86-64 and NEON on arm64.
 * Every operation is lane-wise and exactly rounded IEEE arithmetic (add, subtract, multiply, divide, square root; no
 * fused multiply-add: the native build has -ffp-contract=off), a comparison, a select or a bit operation, defined
 * the same way in both builds (vec_pmin / vec_pmax are WebAssembly's pmin / pmax, `b < a ? b : a`, in both), so a
 * kernel that computes each output element in one fixed order gives the same bits in both builds whatever the lane
 * count. Sums over a row use vec_sum16's fixed order (16 partial sums), the same in both builds.
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
static inline vec vec_sub(vec a, vec b) { return wasm_f32x4_sub(a, b); }
static inline vec vec_div(vec a, vec b) { return wasm_f32x4_div(a, b); }
static inline vec vec_neg(vec a) { return wasm_f32x4_neg(a); }
static inline vec vec_abs(vec a) { return wasm_f32x4_abs(a); }
static inline vec vec_sqrt(vec a) { return wasm_f32x4_sqrt(a); }
static inline vec vec_pmin(vec a, vec b) { return wasm_f32x4_pmin(a, b); }
static inline vec vec_pmax(vec a, vec b) { return wasm_f32x4_pmax(a, b); }
/* a < 0 ? b : c, lane by lane. */
static inline vec vec_select_negative(vec a, vec b, vec c) { return wasm_v128_bitselect(b, c, wasm_f32x4_lt(a, wasm_f32x4_splat(0.0f))); }
/* 2^k for lanes holding whole numbers k in [-126, 127]. */
static inline vec vec_exp2_integral(vec k) { return wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(k), wasm_i32x4_splat(127)), 23); }
static inline float vec_first(vec x) { return wasm_f32x4_extract_lane(x, 0); }
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
typedef int ivec __attribute__((vector_size(4 * VEC_LANES)));
static inline vec vec_sub(vec a, vec b) { return a - b; }
static inline vec vec_div(vec a, vec b) { return a / b; }
static inline vec vec_neg(vec a) { return -a; }
static inline vec vec_abs(vec a) { return (vec)((ivec)a & 0x7fffffff); }
/* Lane by lane (correctly rounded in both builds; the compiler emits the vector instruction, -fno-math-errno). */
static inline vec vec_sqrt(vec a) {
  vec out;
  for (int l = 0; l < VEC_LANES; l++) out[l] = __builtin_sqrtf(a[l]);
  return out;
}
static inline vec vec_bitselect(ivec mask, vec a, vec b) { return (vec)((mask & (ivec)a) | (~mask & (ivec)b)); }
static inline vec vec_pmin(vec a, vec b) { return vec_bitselect(b < a, b, a); }
static inline vec vec_pmax(vec a, vec b) { return vec_bitselect(a < b, b, a); }
static inline vec vec_select_negative(vec a, vec b, vec c) { return vec_bitselect(a < vec_zero(), b, c); }
static inline vec vec_exp2_integral(vec k) { return (vec)((__builtin_convertvector(k, ivec) + 127) << 23); }
static inline float vec_first(vec x) { return x[0]; }
#define VEC_FOR_EACH_LANE(x, l, value, body)                        \
  do {                                                              \
    for (int l = 0; l < VEC_LANES; l++) { const float value = (x)[l]; body; } \
  } while (0)
#endif

/* Host build on x86-64 Linux: hot loops are compiled twice, for AVX2 and for baseline SSE2, and the loader picks one
 * for the CPU (GCC / clang function multi-versioning); elsewhere the baseline for the target. */
#if !defined(__wasm__) && defined(__x86_64__) && defined(__linux__)
#define HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define HOT_LOOP
#endif

/*
 * VEC_SUM16(result, n, j, vector_value, scalar_value): result = the sum of n values in one fixed order, whatever
 * VEC_LANES: partial sums p_q = a_q + a_(q + 16) + ... (q < 16, over the whole blocks of 16, ascending), then
 * ((0 + p_0) + p_1) + ... + p_15, then the remaining n % 16 values in order. `vector_value` is an expression of the
 * index j giving the vector of values a_j .. a_(j + VEC_LANES - 1), `scalar_value` one giving a_j, so that sums of
 * computed values (squares, products) need no buffer.
 */
#define VEC_SUM16_BLOCKS (16 / VEC_LANES)
#define VEC_SUM16(result, n, j, vector_value, scalar_value)                                         \
  do {                                                                                              \
    vec acc_[VEC_SUM16_BLOCKS];                                                                     \
    for (int q_ = 0; q_ < VEC_SUM16_BLOCKS; q_++) acc_[q_] = vec_zero();                            \
    const u32 whole_ = (n) / 16 * 16;                                                               \
    for (u32 block_ = 0; block_ < whole_; block_ += 16) {                                           \
      for (int q_ = 0; q_ < VEC_SUM16_BLOCKS; q_++) {                                               \
        const u32 j = block_ + (u32)q_ * VEC_LANES;                                                 \
        acc_[q_] = vec_add(acc_[q_], (vector_value));                                               \
      }                                                                                             \
    }                                                                                               \
    float total_ = 0.0f;                                                                            \
    for (int q_ = 0; q_ < VEC_SUM16_BLOCKS; q_++) VEC_FOR_EACH_LANE(acc_[q_], l_, v_, ((void)l_, total_ += v_)); \
    for (u32 j = whole_; j < (n); j++) total_ += (scalar_value);                                    \
    (result) = total_;                                                                              \
  } while (0)

#endif
