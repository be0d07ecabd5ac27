/*
 * HF's exact GELU, x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2, and its derivative Phi(x) + x phi(x), and LayerNorm with
 * its gradient in one pass each (instead of about ten elementwise ops). One C source for two builds (vec.h), as
 * band.c: a WebAssembly module that imports tfjs's WASM memory (scripts/build-wasm-kernels; its exports take whole
 * tensors), and the host build inside the native addon (native/layers.c), which runs the range functions of
 * activations.h on every core, in place on the same heap. tfjs's own Erf and Exp on WASM are scalar library calls,
 * the slowest ops of a transformer's feed-forward block.
 *
 *   exp: 2^k * e^r with k = round(x / ln 2) (to nearest, ties to even), |r| <= ln 2 / 2, e^r by its degree-6 Taylor
 *        polynomial (relative error < 2e-7).
 *   erf: Abramowitz & Stegun 7.1.26, 1 - (a1 t + ... + a5 t^5) e^(-x^2) with t = 1 / (1 + p |x|) (absolute error < 1.5e-7).
 *   LayerNorm over rows of `width` values (PyTorch: biased variance), of x + residual when a residual is given:
 *        out = x_hat * gamma + beta with x_hat = (v - mean) / sqrt(var + eps); x_hat and 1 / sqrt(var + eps) are
 *        written for the backward pass.
 *   Its gradient, with g = dy * gamma: dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) per row;
 *        d_gamma = sum over rows of dy * x_hat and d_beta = sum over rows of dy.
 *   Softmax over rows of scores (attention probabilities) held in two tensors — `g_width` global-key columns in g and
 *        `width` band columns in x, one row of the softmax being row r of g followed by row r of x, so that neither
 *        is copied into one tensor — after adding their masks (x_bias per query row, g_bias per batch element: the
 *        band's and the global slots' -1e9 for excluded keys), each row then multiplied by a per-row factor (the
 *        query-keep mask, 0 or 1):
 *        out = keep * e / sum(e), e = exp(x - max(x)), with e = 0 where x - max < -87 (so an excluded score, -1e9,
 *        gets exactly 0), sum(e) = (the global columns' sum) + (the band's sum); its gradient d x = p (dy - sum(dy p))
 *        per row, the dot product summed the same way.
 *
 * Every element is computed by the same sequence of lane-wise operations in both builds, and every sum over a row
 * (mean, variance, mean(g), mean(g x_hat), the softmax's sums) in vec.h's fixed VEC_SUM16 order (a row's maximum is
 * the same in any order); the column sums run over the rows in
 * order. So WebAssembly and native agree bit for bit, for every split of elements, rows or columns over threads.
 *
 * Same rules as band.c: no data segments, no globals written, no shadow stack (scripts/build-wasm-kernels checks).
 * Callers check bounds (native/layers.c for the host; the tfjs kernels' shapes for WebAssembly).
 */
#include "activations.h"
#include "vec.h"

static inline vec exp_vec(vec x) {
  x = vec_pmin(vec_pmax(x, vec_splat(-87.0f)), vec_splat(88.0f));
  /* round to nearest even: exact for |x / ln 2| < 2^22 (here <= 127) */
  const vec k = vec_sub(vec_add(vec_mul(x, vec_splat(1.44269504088896341f)), vec_splat(12582912.0f)), vec_splat(12582912.0f));
  const vec r = vec_sub(vec_sub(x, vec_mul(k, vec_splat(0.693145751953125f))), vec_mul(k, vec_splat(1.428606765330187e-06f)));
  vec p = vec_splat(1.0f / 720.0f);
  p = vec_add(vec_mul(p, r), vec_splat(1.0f / 120.0f));
  p = vec_add(vec_mul(p, r), vec_splat(1.0f / 24.0f));
  p = vec_add(vec_mul(p, r), vec_splat(1.0f / 6.0f));
  p = vec_add(vec_mul(p, r), vec_splat(0.5f));
  p = vec_add(vec_mul(p, r), vec_splat(1.0f));
  p = vec_add(vec_mul(p, r), vec_splat(1.0f));
  return vec_mul(p, vec_exp2_integral(k));
}

static inline vec erf_vec(vec x) {
  const vec ax = vec_abs(x);
  const vec t = vec_div(vec_splat(1.0f), vec_add(vec_splat(1.0f), vec_mul(vec_splat(0.3275911f), ax)));
  vec poly = vec_splat(1.061405429f);
  poly = vec_add(vec_mul(poly, t), vec_splat(-1.453152027f));
  poly = vec_add(vec_mul(poly, t), vec_splat(1.421413741f));
  poly = vec_add(vec_mul(poly, t), vec_splat(-0.284496736f));
  poly = vec_add(vec_mul(poly, t), vec_splat(0.254829592f));
  poly = vec_mul(poly, t);
  const vec y = vec_sub(vec_splat(1.0f), vec_mul(poly, exp_vec(vec_neg(vec_mul(ax, ax)))));
  return vec_select_negative(x, vec_neg(y), y);
}

/* Phi(x) = (1 + erf(x / sqrt 2)) / 2 */
static inline vec normal_cdf_vec(vec x) {
  return vec_mul(vec_splat(0.5f), vec_add(vec_splat(1.0f), erf_vec(vec_mul(x, vec_splat(0.70710678118654752f)))));
}

static inline vec gelu_vec(vec x) { return vec_mul(x, normal_cdf_vec(x)); }

/* Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi) */
static inline vec gelu_derivative_vec(vec x) {
  const vec pdf = vec_mul(vec_splat(0.3989422804014327f), exp_vec(vec_mul(vec_splat(-0.5f), vec_mul(x, x))));
  return vec_add(normal_cdf_vec(x), vec_mul(x, pdf));
}

/* The vector loops stop VEC_LANES short of the end; the rest is computed one element at a time by the same vector
 * functions (lane 0 of a splat), so each element's bits do not depend on where a range starts or ends. */
HOT_LOOP
void gelu_range(const float *x, float *out, u32 begin, u32 end) {
  u32 i = begin;
  for (; i + VEC_LANES <= end; i += VEC_LANES) vec_store(out + i, gelu_vec(vec_load(x + i)));
  for (; i < end; i++) out[i] = vec_first(gelu_vec(vec_splat(x[i])));
}

HOT_LOOP
void gelu_grad_range(const float *x, const float *dy, float *out, u32 begin, u32 end) {
  u32 i = begin;
  for (; i + VEC_LANES <= end; i += VEC_LANES) vec_store(out + i, vec_mul(vec_load(dy + i), gelu_derivative_vec(vec_load(x + i))));
  for (; i < end; i++) out[i] = dy[i] * vec_first(gelu_derivative_vec(vec_splat(x[i])));
}

HOT_LOOP
void layer_norm_rows(const float *x, const float *residual, const float *gamma, const float *beta, float *out, float *x_hat,
                     float *inv_std, u32 r_begin, u32 r_end, u32 width, float eps) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  for (u32 r = r_begin; r < r_end; r++) {
    const float *xr = x + r * width;
    const float *rr = residual ? residual + r * width : 0;
    float *hr = x_hat + r * width;
    float *or = out + r * width;
    /* v = x (+ residual), kept in x_hat */
    for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(hr + j, rr ? vec_add(vec_load(xr + j), vec_load(rr + j)) : vec_load(xr + j));
    for (u32 j = whole; j < width; j++) hr[j] = rr ? xr[j] + rr[j] : xr[j];
    float sum;
    VEC_SUM16(sum, width, j, vec_load(hr + j), hr[j]);
    const float mean = sum / (float)width;
    const vec mean_v = vec_splat(mean);
    for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(hr + j, vec_sub(vec_load(hr + j), mean_v));
    for (u32 j = whole; j < width; j++) hr[j] = hr[j] - mean;
    float squares;
    VEC_SUM16(squares, width, j, vec_mul(vec_load(hr + j), vec_load(hr + j)), hr[j] * hr[j]);
    const float rstd = 1.0f / __builtin_sqrtf(squares / (float)width + eps);
    inv_std[r] = rstd;
    const vec rstd_v = vec_splat(rstd);
    for (u32 j = 0; j < whole; j += VEC_LANES) {
      const vec h = vec_mul(vec_load(hr + j), rstd_v);
      vec_store(hr + j, h);
      vec_store(or + j, vec_add(vec_mul(h, vec_load(gamma + j)), vec_load(beta + j)));
    }
    for (u32 j = whole; j < width; j++) {
      const float h = hr[j] * rstd;
      hr[j] = h;
      or[j] = h * gamma[j] + beta[j];
    }
  }
}

HOT_LOOP
void layer_norm_grad_rows(const float *dy, const float *x_hat, const float *inv_std, const float *gamma, float *dx, u32 r_begin,
                          u32 r_end, u32 width) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  for (u32 r = r_begin; r < r_end; r++) {
    const float *dr = dy + r * width;
    const float *hr = x_hat + r * width;
    float *xr = dx + r * width;
    float sum_g, sum_gh;
    VEC_SUM16(sum_g, width, j, vec_mul(vec_load(dr + j), vec_load(gamma + j)), dr[j] * gamma[j]);
    VEC_SUM16(sum_gh, width, j, vec_mul(vec_mul(vec_load(dr + j), vec_load(gamma + j)), vec_load(hr + j)), (dr[j] * gamma[j]) * hr[j]);
    const float mean_g = sum_g / (float)width, mean_gh = sum_gh / (float)width, rstd = inv_std[r];
    const vec mean_g_v = vec_splat(mean_g), mean_gh_v = vec_splat(mean_gh), rstd_v = vec_splat(rstd);
    for (u32 j = 0; j < whole; j += VEC_LANES) {
      const vec g = vec_mul(vec_load(dr + j), vec_load(gamma + j));
      vec_store(xr + j, vec_mul(rstd_v, vec_sub(vec_sub(g, mean_g_v), vec_mul(vec_load(hr + j), mean_gh_v))));
    }
    for (u32 j = whole; j < width; j++) xr[j] = rstd * ((dr[j] * gamma[j] - mean_g) - hr[j] * mean_gh);
  }
}

HOT_LOOP
void layer_norm_grad_columns(const float *dy, const float *x_hat, float *d_gamma, float *d_beta, u32 rows, u32 c_begin, u32 c_end,
                             u32 width) {
  u32 whole = c_begin;
  while (whole + VEC_LANES <= c_end) whole += VEC_LANES;
  for (u32 j = c_begin; j < c_end; j++) d_gamma[j] = d_beta[j] = 0.0f;
  for (u32 r = 0; r < rows; r++) {
    const float *dr = dy + r * width;
    const float *hr = x_hat + r * width;
    for (u32 j = c_begin; j < whole; j += VEC_LANES) {
      const vec d = vec_load(dr + j);
      vec_store(d_gamma + j, vec_add(vec_load(d_gamma + j), vec_mul(d, vec_load(hr + j))));
      vec_store(d_beta + j, vec_add(vec_load(d_beta + j), d));
    }
    for (u32 j = whole; j < c_end; j++) {
      d_gamma[j] += dr[j] * hr[j];
      d_beta[j] += dr[j];
    }
  }
}

/* exp(t) for t <= 0, and exactly 0 below -87 (where exp_vec would clamp to e^-87). */
static inline vec softmax_exp_vec(vec t) { return vec_select_negative(vec_add(t, vec_splat(87.0f)), vec_zero(), exp_vec(t)); }

/* or = xr + br (br null: xr), one IEEE addition per element as a separate Add would do. */
static inline void biased_row(const float *xr, const float *br, float *or, u32 width) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  if (br) {
    for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(or + j, vec_add(vec_load(xr + j), vec_load(br + j)));
    for (u32 j = whole; j < width; j++) or[j] = xr[j] + br[j];
  } else {
    for (u32 j = 0; j < width; j++) or[j] = xr[j];
  }
}

/* The largest of `width` values, from `high` on. */
static inline float row_max(const float *xr, u32 width, float high) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  if (whole > 0) {
    vec m = vec_load(xr);
    for (u32 j = VEC_LANES; j < whole; j += VEC_LANES) m = vec_pmax(m, vec_load(xr + j));
    VEC_FOR_EACH_LANE(m, l, value, ((void)l, high = value > high ? value : high));
  }
  for (u32 j = whole; j < width; j++) high = xr[j] > high ? xr[j] : high;
  return high;
}

/* or = e^(or - high) in place (0 below -87); returns their sum (VEC_SUM16 order). */
static inline float exp_row(float *or, u32 width, float high) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  const vec high_v = vec_splat(high);
  for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(or + j, softmax_exp_vec(vec_sub(vec_load(or + j), high_v)));
  for (u32 j = whole; j < width; j++) or[j] = vec_first(softmax_exp_vec(vec_splat(or[j] - high)));
  float sum;
  VEC_SUM16(sum, width, j, vec_load(or + j), or[j]);
  return sum;
}

/* or = (or / sum) factor. */
static inline void normalise_row(float *or, u32 width, float sum, float factor) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  const vec sum_v = vec_splat(sum), factor_v = vec_splat(factor);
  for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(or + j, vec_mul(vec_div(vec_load(or + j), sum_v), factor_v));
  for (u32 j = whole; j < width; j++) or[j] = (or[j] / sum) * factor;
}

HOT_LOOP
void softmax_rows(const float *x, const float *x_bias, const float *g, const float *g_bias, const float *keep, float *out, float *g_out,
                  u32 r_begin, u32 r_end, u32 width, u32 g_width, u32 heads, u32 n) {
  for (u32 r = r_begin; r < r_end; r++) {
    /* row r = (b heads + e) n + i of [B, heads, n, .]: the bias and keep rows of [B, 1, n, .] are b n + i, the global
     * bias row of [B, 1, 1, G] is b */
    const u32 b = r / (heads * n), i = r % n;
    float *or = out + r * width;
    float *gor = g_out + r * g_width; /* g_width = 0: no global columns (g, g_bias and g_out are not read) */
    biased_row(x + r * width, x_bias ? x_bias + (b * n + i) * width : 0, or, width);
    biased_row(g + r * g_width, g_bias ? g_bias + b * g_width : 0, gor, g_width);
    const float high = row_max(or, width, row_max(gor, g_width, or[0]));
    /* (sum over the global columns) + (sum over the band): one fixed order */
    const float sum = exp_row(gor, g_width, high) + exp_row(or, width, high);
    const float factor = keep ? keep[b * n + i] : 1.0f;
    normalise_row(gor, g_width, sum, factor);
    normalise_row(or, width, sum, factor);
  }
}

/* sum(dy p) over a row (VEC_SUM16 order). */
static inline float dot_row(const float *pr, const float *dr, u32 width) {
  float dot;
  VEC_SUM16(dot, width, j, vec_mul(vec_load(dr + j), vec_load(pr + j)), dr[j] * pr[j]);
  return dot;
}

/* or = p (dy - dot). */
static inline void softmax_grad_row(const float *pr, const float *dr, float *or, u32 width, float dot) {
  const u32 whole = width / VEC_LANES * VEC_LANES;
  const vec dot_v = vec_splat(dot);
  for (u32 j = 0; j < whole; j += VEC_LANES) vec_store(or + j, vec_mul(vec_load(pr + j), vec_sub(vec_load(dr + j), dot_v)));
  for (u32 j = whole; j < width; j++) or[j] = pr[j] * (dr[j] - dot);
}

HOT_LOOP
void softmax_grad_rows(const float *p, const float *dy, const float *g_p, const float *g_dy, float *out, float *g_out, u32 r_begin,
                       u32 r_end, u32 width, u32 g_width) {
  for (u32 r = r_begin; r < r_end; r++) {
    const float *pr = p + r * width, *dr = dy + r * width;
    const float *gpr = g_p + r * g_width, *gdr = g_dy + r * g_width;
    const float dot = dot_row(gpr, gdr, g_width) + dot_row(pr, dr, width);
    softmax_grad_row(gpr, gdr, g_out + r * g_width, g_width, dot);
    softmax_grad_row(pr, dr, out + r * width, width, dot);
  }
}

#ifdef __wasm__
/* The WebAssembly module's exports: each kernel over a whole tensor (src/backend/activationKernels.ts). */
#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(gelu)
void gelu(const float *x, float *out, u32 n) { gelu_range(x, out, 0, n); }

EXPORT(gelu_grad)
void gelu_grad(const float *x, const float *dy, float *out, u32 n) { gelu_grad_range(x, dy, out, 0, n); }

EXPORT(layer_norm)
void layer_norm(const float *x, const float *residual, const float *gamma, const float *beta, float *out, float *x_hat, float *inv_std,
                u32 rows, u32 width, float eps) {
  layer_norm_rows(x, residual, gamma, beta, out, x_hat, inv_std, 0, rows, width, eps);
}

EXPORT(layer_norm_grad)
void layer_norm_grad(const float *dy, const float *x_hat, const float *inv_std, const float *gamma, float *dx, float *d_gamma, float *d_beta,
                     u32 rows, u32 width) {
  layer_norm_grad_rows(dy, x_hat, inv_std, gamma, dx, 0, rows, width);
  layer_norm_grad_columns(dy, x_hat, d_gamma, d_beta, rows, 0, width, width);
}

EXPORT(softmax)
void softmax(const float *x, const float *x_bias, const float *g, const float *g_bias, const float *keep, float *out, float *g_out, u32 rows,
             u32 width, u32 g_width, u32 heads, u32 n) {
  softmax_rows(x, x_bias, g, g_bias, keep, out, g_out, 0, rows, width, g_width, heads, n);
}

EXPORT(softmax_grad)
void softmax_grad(const float *p, const float *dy, const float *g_p, const float *g_dy, float *out, float *g_out, u32 rows, u32 width,
                  u32 g_width) {
  softmax_grad_rows(p, dy, g_p, g_dy, out, g_out, 0, rows, width, g_width);
}
#endif
