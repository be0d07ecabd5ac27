/*
 * HF's exact GELU, x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2, and its derivative Phi(x) + x phi(x), four lanes at a
 * time, for tfjs's WASM backend (whose Erf and Exp are scalar library calls, the slowest ops of a transformer's
 * feed-forward block), and LayerNorm with its gradient in one pass each (instead of about ten elementwise ops).
 * Compiled to a module that imports the backend's memory; same rules as band.c.
 *
 *   exp: 2^k * e^r with k = round(x / ln 2), |r| <= ln 2 / 2, e^r by its degree-6 Taylor polynomial (relative error < 2e-7).
 *   erf: Abramowitz & Stegun 7.1.26, 1 - (a1 t + ... + a5 t^5) e^(-x^2) with t = 1 / (1 + p |x|) (absolute error < 1.5e-7).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef unsigned int u32;

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }

static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, splat(-87.0f)), splat(88.0f));
  const v128_t k = wasm_f32x4_nearest(wasm_f32x4_mul(x, splat(1.44269504088896341f)));
  const v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(k, splat(0.693145751953125f))), wasm_f32x4_mul(k, splat(1.428606765330187e-06f)));
  v128_t p = splat(1.0f / 720.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.0f / 120.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.0f / 24.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.0f / 6.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.0f));
  const v128_t two_k = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(k), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, two_k);
}

static inline v128_t erf4(v128_t x) {
  const v128_t ax = wasm_f32x4_abs(x);
  const v128_t t = wasm_f32x4_div(splat(1.0f), wasm_f32x4_add(splat(1.0f), wasm_f32x4_mul(splat(0.3275911f), ax)));
  v128_t poly = splat(1.061405429f);
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), splat(-1.453152027f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), splat(1.421413741f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), splat(-0.284496736f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), splat(0.254829592f));
  poly = wasm_f32x4_mul(poly, t);
  const v128_t y = wasm_f32x4_sub(splat(1.0f), wasm_f32x4_mul(poly, exp4(wasm_f32x4_neg(wasm_f32x4_mul(ax, ax)))));
  return wasm_v128_bitselect(wasm_f32x4_neg(y), y, wasm_f32x4_lt(x, splat(0.0f)));
}

/* Phi(x) = (1 + erf(x / sqrt 2)) / 2 */
static inline v128_t normal_cdf4(v128_t x) {
  return wasm_f32x4_mul(splat(0.5f), wasm_f32x4_add(splat(1.0f), erf4(wasm_f32x4_mul(x, splat(0.70710678118654752f)))));
}

/* out = x Phi(x); the last n % 4 elements one lane at a time. */
EXPORT(gelu)
void gelu(const float *x, float *out, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    wasm_v128_store(out + i, wasm_f32x4_mul(v, normal_cdf4(v)));
  }
  for (; i < n; i++) out[i] = x[i] * wasm_f32x4_extract_lane(normal_cdf4(splat(x[i])), 0);
}

/* out = dy * (Phi(x) + x phi(x)), phi(x) = e^(-x^2 / 2) / sqrt(2 pi) */
static inline v128_t gelu_derivative4(v128_t v) {
  const v128_t pdf = wasm_f32x4_mul(splat(0.3989422804014327f), exp4(wasm_f32x4_mul(splat(-0.5f), wasm_f32x4_mul(v, v))));
  return wasm_f32x4_add(normal_cdf4(v), wasm_f32x4_mul(v, pdf));
}

EXPORT(gelu_grad)
void gelu_grad(const float *x, const float *dy, float *out, u32 n) {
  u32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), gelu_derivative4(wasm_v128_load(x + i))));
  for (; i < n; i++) out[i] = dy[i] * wasm_f32x4_extract_lane(gelu_derivative4(splat(x[i])), 0);
}

/*
 * LayerNorm over rows of `width` values (PyTorch: biased variance), of x + residual when `residual` is not 0:
 * out = x_hat * gamma + beta with x_hat = (v - mean) / sqrt(var + eps); x_hat and 1/sqrt(var + eps) are written
 * for the backward pass.
 */
EXPORT(layer_norm)
void layer_norm(const float *x, const float *residual, const float *gamma, const float *beta, float *out, float *x_hat, float *inv_std,
                u32 rows, u32 width, float eps) {
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + r * width;
    const float *rr = residual ? residual + r * width : 0;
    float *hr = x_hat + r * width;
    float sum = 0.0f;
    for (u32 j = 0; j < width; j++) {
      const float v = rr ? xr[j] + rr[j] : xr[j];
      hr[j] = v;
      sum += v;
    }
    const float mean = sum / (float)width;
    float squares = 0.0f;
    for (u32 j = 0; j < width; j++) {
      const float c = hr[j] - mean;
      hr[j] = c;
      squares += c * c;
    }
    const float rstd = 1.0f / __builtin_sqrtf(squares / (float)width + eps);
    inv_std[r] = rstd;
    float *or = out + r * width;
    for (u32 j = 0; j < width; j++) {
      const float h = hr[j] * rstd;
      hr[j] = h;
      or[j] = h * gamma[j] + beta[j];
    }
  }
}

/*
 * Its gradient: with g = dy * gamma, dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) per row;
 * d_gamma = sum over rows of dy * x_hat and d_beta = sum over rows of dy (both zeroed first).
 */
EXPORT(layer_norm_grad)
void layer_norm_grad(const float *dy, const float *x_hat, const float *inv_std, const float *gamma, float *dx, float *d_gamma, float *d_beta,
                     u32 rows, u32 width) {
  __builtin_memset(d_gamma, 0, width * 4);
  __builtin_memset(d_beta, 0, width * 4);
  for (u32 r = 0; r < rows; r++) {
    const float *dr = dy + r * width;
    const float *hr = x_hat + r * width;
    float sum_g = 0.0f, sum_gh = 0.0f;
    for (u32 j = 0; j < width; j++) {
      const float g = dr[j] * gamma[j];
      sum_g += g;
      sum_gh += g * hr[j];
      d_gamma[j] += dr[j] * hr[j];
      d_beta[j] += dr[j];
    }
    const float mean_g = sum_g / (float)width, mean_gh = sum_gh / (float)width, rstd = inv_std[r];
    float *xr = dx + r * width;
    for (u32 j = 0; j < width; j++) xr[j] = rstd * (dr[j] * gamma[j] - mean_g - hr[j] * mean_gh);
  }
}
