/*
 * Sliding-window ("band") attention kernels for tfjs's WASM backend, compiled to a tiny WebAssembly module
 * that imports the backend's own memory: every pointer below is an offset into the tfjs heap, so the
 * kernels read their inputs and write their outputs in place (no copies).
 *
 * Layouts (float32, row-major), for a batch of B sequences of n tokens and h heads of size d:
 *   q, k, v, context : [B, n, h, d]        (the projections as they come out of the dense layers: no transposes)
 *   band             : [B, h, n, 2w + 1]   band[b, e, i, t] pairs query i with key j = i + t - w in head e
 *
 *   band_scores(q, k)      band[b, e, i, t] = sum_c q[b, i, e, c] * k[b, i + t - w, e, c]   (0 where j is outside [0, n))
 *   band_context(p, v)     out[b, i, e, c]  = sum_t p[b, e, i, t] * v[b, i + t - w, e, c]   (j outside [0, n) skipped)
 *   band_transpose(p)      out[s, j, m]     = p[s, j + m - w, 2w - m]  for each of the B*h bands s  (0 where the row is outside)
 *
 * The gradients are the same three kernels: for S = scores(Q, K), dQ = context(dS, K) and
 * dK = context(transpose(dS), Q); for C = context(P, V), dP = scores(dC, V) and dV = context(transpose(P), dC).
 *
 * Rules that keep this module safe inside another module's memory: no data segments, no globals written,
 * no shadow stack (no local arrays, no address-taken locals). scripts/build-wasm-kernels checks the output.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef unsigned int u32;

/* kt[c, w + j] = k[j * row_stride + c] for one head of one sequence, with w zero columns on each side and 8 more
 * on the right (so that the 8-wide key groups of band_scores never read outside the scratch buffer). */
static void transpose_keys_padded(const float *k, float *kt, u32 n, u32 d, u32 w, u32 row_stride) {
  const u32 stride = n + 2 * w + 8;
  for (u32 c = 0; c < d; c++) {
    float *row = kt + c * stride;
    for (u32 j = 0; j < w; j++) row[j] = 0.0f;
    for (u32 j = 0; j < n; j++) row[w + j] = k[j * row_stride + c];
    for (u32 j = n + w; j < stride; j++) row[j] = 0.0f;
  }
}

static inline void store_band_lane(float *band_row, int t, int width, float value) {
  if (t >= 0 && t < width) band_row[t] = value;
}

/* Writes lane l of `acc` (scores of one query row with 4 consecutive keys) at band index t0 + l where 0 <= t0 + l < width. */
static inline void store_band_lanes(float *band_row, v128_t acc, int t0, int width) {
  if (t0 >= 0 && t0 + 3 < width) {
    wasm_v128_store(band_row + t0, acc);
    return;
  }
  store_band_lane(band_row, t0 + 0, width, wasm_f32x4_extract_lane(acc, 0));
  store_band_lane(band_row, t0 + 1, width, wasm_f32x4_extract_lane(acc, 1));
  store_band_lane(band_row, t0 + 2, width, wasm_f32x4_extract_lane(acc, 2));
  store_band_lane(band_row, t0 + 3, width, wasm_f32x4_extract_lane(acc, 3));
}

/* Scalar band scores for query rows [i0, i1) of one sequence (remainder rows). */
static void band_scores_rows_scalar(const float *q, const float *kt, float *band, u32 i0, u32 i1, u32 n, u32 d, u32 w, u32 row_stride) {
  const u32 stride = n + 2 * w + 8;
  const u32 width = 2 * w + 1;
  for (u32 i = i0; i < i1; i++) {
    for (u32 t = 0; t < width; t++) {
      float sum = 0.0f;
      for (u32 c = 0; c < d; c++) sum += q[i * row_stride + c] * kt[c * stride + i + t]; /* key j = i + t - w at column w + j */
      band[i * width + t] = sum;
    }
  }
}

EXPORT(band_scores)
void band_scores(const float *q, const float *k, float *band, float *scratch, u32 batch, u32 heads, u32 n, u32 d, u32 w) {
  const u32 width = 2 * w + 1;
  const u32 stride = n + 2 * w + 8;
  const u32 rs = heads * d; /* row stride of q and k */
  for (u32 s = 0; s < batch * heads; s++) {
    const u32 first = (s / heads) * n * rs + (s % heads) * d; /* row 0 of this head in q and k */
    const float *qb = q + first;
    float *out = band + s * n * width;
    transpose_keys_padded(k + first, scratch, n, d, w, rs);
    u32 i0 = 0;
    for (; i0 + 4 <= n; i0 += 4) {
      /* Keys j = i0 - w ... i0 + 3 + w, i.e. padded columns i0 ... i0 + 2w + 3, in groups of 8. */
      for (u32 col = i0; col < i0 + 2 * w + 4; col += 8) {
        v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (u32 c = 0; c < d; c++) {
          const float *kr = scratch + c * stride + col;
          const v128_t k0 = wasm_v128_load(kr), k1 = wasm_v128_load(kr + 4);
          const v128_t q0 = wasm_f32x4_splat(qb[(i0 + 0) * rs + c]);
          const v128_t q1 = wasm_f32x4_splat(qb[(i0 + 1) * rs + c]);
          const v128_t q2 = wasm_f32x4_splat(qb[(i0 + 2) * rs + c]);
          const v128_t q3 = wasm_f32x4_splat(qb[(i0 + 3) * rs + c]);
          a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(q0, k0)); a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(q0, k1));
          a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(q1, k0)); a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(q1, k1));
          a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(q2, k0)); a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(q2, k1));
          a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(q3, k0)); a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(q3, k1));
        }
        /* Row i0 + r, padded column col + l  ->  band index t = col + l - (i0 + r). */
        const int t0 = (int)col - (int)i0;
        store_band_lanes(out + (i0 + 0) * width, a00, t0 - 0, width); store_band_lanes(out + (i0 + 0) * width, a01, t0 + 4 - 0, width);
        store_band_lanes(out + (i0 + 1) * width, a10, t0 - 1, width); store_band_lanes(out + (i0 + 1) * width, a11, t0 + 4 - 1, width);
        store_band_lanes(out + (i0 + 2) * width, a20, t0 - 2, width); store_band_lanes(out + (i0 + 2) * width, a21, t0 + 4 - 2, width);
        store_band_lanes(out + (i0 + 3) * width, a30, t0 - 3, width); store_band_lanes(out + (i0 + 3) * width, a31, t0 + 4 - 3, width);
      }
    }
    band_scores_rows_scalar(qb, scratch, out, i0, n, n, d, w, rs);
  }
}

/* The coefficient p[i, j - i + w] of query row i and key j, or 0 outside the band. */
static inline float band_coefficient(const float *p, u32 i, int j, u32 w, u32 width) {
  const int t = j - (int)i + (int)w;
  return (t >= 0 && t < (int)width) ? p[i * width + t] : 0.0f;
}

EXPORT(band_context)
void band_context(const float *p, const float *v, float *out, u32 batch, u32 heads, u32 n, u32 d, u32 w) {
  const u32 width = 2 * w + 1;
  const u32 rs = heads * d; /* row stride of v and out */
  for (u32 s = 0; s < batch * heads; s++) {
    const u32 first = (s / heads) * n * rs + (s % heads) * d;
    const float *pb = p + s * n * width;
    const float *vb = v + first;
    float *ob = out + first;
    u32 i0 = 0;
    for (; i0 + 4 <= n; i0 += 4) {
      const int j_first = (int)i0 - (int)w < 0 ? 0 : (int)i0 - (int)w;
      const int j_last = (int)(i0 + 3 + w) > (int)n - 1 ? (int)n - 1 : (int)(i0 + 3 + w);
      u32 c = 0;
      for (; c + 8 <= d; c += 8) {
        v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int j = j_first; j <= j_last; j++) {
          const float *vr = vb + (u32)j * rs + c;
          const v128_t v0 = wasm_v128_load(vr), v1 = wasm_v128_load(vr + 4);
          const v128_t p0 = wasm_f32x4_splat(band_coefficient(pb, i0 + 0, j, w, width));
          const v128_t p1 = wasm_f32x4_splat(band_coefficient(pb, i0 + 1, j, w, width));
          const v128_t p2 = wasm_f32x4_splat(band_coefficient(pb, i0 + 2, j, w, width));
          const v128_t p3 = wasm_f32x4_splat(band_coefficient(pb, i0 + 3, j, w, width));
          a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(p0, v0)); a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(p0, v1));
          a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(p1, v0)); a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(p1, v1));
          a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(p2, v0)); a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(p2, v1));
          a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(p3, v0)); a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(p3, v1));
        }
        wasm_v128_store(ob + (i0 + 0) * rs + c, a00); wasm_v128_store(ob + (i0 + 0) * rs + c + 4, a01);
        wasm_v128_store(ob + (i0 + 1) * rs + c, a10); wasm_v128_store(ob + (i0 + 1) * rs + c + 4, a11);
        wasm_v128_store(ob + (i0 + 2) * rs + c, a20); wasm_v128_store(ob + (i0 + 2) * rs + c + 4, a21);
        wasm_v128_store(ob + (i0 + 3) * rs + c, a30); wasm_v128_store(ob + (i0 + 3) * rs + c + 4, a31);
      }
      for (; c < d; c++) {
        for (u32 r = 0; r < 4; r++) {
          float sum = 0.0f;
          for (int j = j_first; j <= j_last; j++) sum += band_coefficient(pb, i0 + r, j, w, width) * vb[(u32)j * rs + c];
          ob[(i0 + r) * rs + c] = sum;
        }
      }
    }
    for (; i0 < n; i0++) {
      for (u32 c = 0; c < d; c++) {
        float sum = 0.0f;
        for (u32 t = 0; t < width; t++) {
          const int j = (int)i0 + (int)t - (int)w;
          if (j >= 0 && j < (int)n) sum += pb[i0 * width + t] * vb[(u32)j * rs + c];
        }
        ob[i0 * rs + c] = sum;
      }
    }
  }
}

EXPORT(band_transpose)
void band_transpose(const float *p, float *out, u32 bh, u32 n, u32 w) {
  const u32 width = 2 * w + 1;
  for (u32 b = 0; b < bh; b++) {
    const float *pb = p + (u32)b * n * width;
    float *ob = out + (u32)b * n * width;
    for (u32 j = 0; j < n; j++) {
      for (u32 m = 0; m < width; m++) {
        const int i = (int)j + (int)m - (int)w;
        ob[j * width + m] = (i >= 0 && i < (int)n) ? pb[(u32)i * width + (width - 1 - m)] : 0.0f;
      }
    }
  }
}
