/*
 * Sliding-window ("band") attention kernels, one C source for two builds (vec.h): a tiny WebAssembly module that
 * imports tfjs's WASM memory (scripts/build-wasm-kernels; pointers are offsets into the tfjs heap, so the kernels
 * read their inputs and write their outputs in place), and the host build inside the native addon
 * (native/binding.gyp, native/attention.c), which runs the same row-range functions on every core, also in place on
 * the tfjs heap.
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
 * Each kernel is a function of one sequence-head s = b h + e and a range of rows [i_begin, i_end) (band.h): rows of
 * different ranges share no output, so any split over threads gives the same result. Every output element is one
 * sum in a fixed order (c ascending for scores, j ascending for context), the same in the SIMD blocks and the scalar
 * remainders, and in both builds whatever their lane count, so WebAssembly and native agree bit for bit as long as
 * range starts are multiples of 4 (a context row inside a 4-row block adds the zero coefficients of its neighbours'
 * keys: only the sign of a zero sum could differ otherwise).
 *
 * Rules that keep this module safe inside another module's memory: no data segments, no globals written,
 * no shadow stack (no local arrays, no address-taken locals). scripts/build-wasm-kernels checks the output.
 * Callers check bounds (native/attention.c for the host; the tfjs kernels' shapes for WebAssembly).
 */
#include "band.h"
#include "vec.h"

/* Padded key columns the scores of `rows` query rows read: the band's 2w + 1, plus 3 rows of a 4-row block and one
 * more group of 2 vectors of keys (so that the 2-vector key groups never read outside the scratch buffer). */
static inline u32 key_window(u32 rows, u32 w) { return rows + 2 * w + 2 * VEC_LANES; }

u32 band_scores_scratch_floats(u32 rows, u32 d, u32 w) { return d * key_window(rows, w); }

/* kt[c, x] = k[j * row_stride + c] for key j = col_begin + x - w of one head of one sequence (0 where j is outside
 * [0, n)), for the `cols` padded columns x starting at col_begin. Key-major: each key's row is read once, in order. */
static void transpose_keys_window(const float *k, float *kt, u32 n, u32 d, u32 w, u32 row_stride, u32 col_begin, u32 cols) {
  for (u32 x = 0; x < cols; x++) {
    const int j = (int)(col_begin + x) - (int)w;
    if (j >= 0 && j < (int)n) {
      const float *key = k + (u32)j * row_stride;
      for (u32 c = 0; c < d; c++) kt[c * cols + x] = key[c];
    } else {
      for (u32 c = 0; c < d; c++) kt[c * cols + x] = 0.0f;
    }
  }
}

static inline void store_band_lane(float *band_row, int t, int width, float value) {
  if (t >= 0 && t < width) band_row[t] = value;
}

/* Writes lane l of `acc` (scores of one query row with VEC_LANES consecutive keys) at band index t0 + l where
 * 0 <= t0 + l < width. */
static inline void store_band_lanes(float *band_row, vec acc, int t0, int width) {
  if (t0 >= 0 && t0 + VEC_LANES - 1 < width) {
    vec_store(band_row + t0, acc);
    return;
  }
  VEC_FOR_EACH_LANE(acc, l, value, store_band_lane(band_row, t0 + l, width, value));
}

HOT_LOOP
void band_scores_rows(const float *q, const float *k, float *band, float *scratch, u32 s, u32 i_begin, u32 i_end, u32 heads, u32 n, u32 d, u32 w) {
  const u32 width = 2 * w + 1;
  const u32 rs = heads * d; /* row stride of q and k */
  const u32 cols = key_window(i_end - i_begin, w);
  const u32 first = (s / heads) * n * rs + (s % heads) * d; /* row 0 of this head in q and k */
  const float *qb = q + first;
  float *out = band + s * n * width;
  /* Padded column col = i + t holds key j = col - w; the scratch starts at column i_begin. */
  transpose_keys_window(k + first, scratch, n, d, w, rs, i_begin, cols);
  u32 i0 = i_begin;
  for (; i0 + 4 <= i_end; i0 += 4) {
    /* Keys j = i0 - w ... i0 + 3 + w, i.e. padded columns i0 ... i0 + 2w + 3, in groups of 2 vectors. */
    for (u32 col = i0; col < i0 + 2 * w + 4; col += 2 * VEC_LANES) {
      vec a00 = vec_zero(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      for (u32 c = 0; c < d; c++) {
        const float *kr = scratch + c * cols + (col - i_begin);
        const vec k0 = vec_load(kr), k1 = vec_load(kr + VEC_LANES);
        const vec q0 = vec_splat(qb[(i0 + 0) * rs + c]);
        const vec q1 = vec_splat(qb[(i0 + 1) * rs + c]);
        const vec q2 = vec_splat(qb[(i0 + 2) * rs + c]);
        const vec q3 = vec_splat(qb[(i0 + 3) * rs + c]);
        a00 = vec_add(a00, vec_mul(q0, k0)); a01 = vec_add(a01, vec_mul(q0, k1));
        a10 = vec_add(a10, vec_mul(q1, k0)); a11 = vec_add(a11, vec_mul(q1, k1));
        a20 = vec_add(a20, vec_mul(q2, k0)); a21 = vec_add(a21, vec_mul(q2, k1));
        a30 = vec_add(a30, vec_mul(q3, k0)); a31 = vec_add(a31, vec_mul(q3, k1));
      }
      /* Row i0 + r, padded column col + l  ->  band index t = col + l - (i0 + r). */
      const int t0 = (int)col - (int)i0, t1 = t0 + VEC_LANES;
      store_band_lanes(out + (i0 + 0) * width, a00, t0 - 0, width); store_band_lanes(out + (i0 + 0) * width, a01, t1 - 0, width);
      store_band_lanes(out + (i0 + 1) * width, a10, t0 - 1, width); store_band_lanes(out + (i0 + 1) * width, a11, t1 - 1, width);
      store_band_lanes(out + (i0 + 2) * width, a20, t0 - 2, width); store_band_lanes(out + (i0 + 2) * width, a21, t1 - 2, width);
      store_band_lanes(out + (i0 + 3) * width, a30, t0 - 3, width); store_band_lanes(out + (i0 + 3) * width, a31, t1 - 3, width);
    }
  }
  /* Remainder rows, one sum per element in the same order as the blocks above. */
  for (u32 i = i0; i < i_end; i++) {
    for (u32 t = 0; t < width; t++) {
      float sum = 0.0f;
      for (u32 c = 0; c < d; c++) sum += qb[i * rs + c] * scratch[c * cols + (i + t - i_begin)];
      out[i * width + t] = sum;
    }
  }
}

/* The coefficient p[i, j - i + w] of query row i and key j, or 0 outside the band. */
static inline float band_coefficient(const float *p, u32 i, int j, u32 w, u32 width) {
  const int t = j - (int)i + (int)w;
  return (t >= 0 && t < (int)width) ? p[i * width + t] : 0.0f;
}

HOT_LOOP
void band_context_rows(const float *p, const float *v, float *out, u32 s, u32 i_begin, u32 i_end, u32 heads, u32 n, u32 d, u32 w) {
  const u32 width = 2 * w + 1;
  const u32 rs = heads * d; /* row stride of v and out */
  const u32 first = (s / heads) * n * rs + (s % heads) * d;
  const float *pb = p + s * n * width;
  const float *vb = v + first;
  float *ob = out + first;
  u32 i0 = i_begin;
  for (; i0 + 4 <= i_end; i0 += 4) {
    const int j_first = (int)i0 - (int)w < 0 ? 0 : (int)i0 - (int)w;
    const int j_last = (int)(i0 + 3 + w) > (int)n - 1 ? (int)n - 1 : (int)(i0 + 3 + w);
    u32 c = 0;
    for (; c + 2 * VEC_LANES <= d; c += 2 * VEC_LANES) {
      vec a00 = vec_zero(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      for (int j = j_first; j <= j_last; j++) {
        const float *vr = vb + (u32)j * rs + c;
        const vec v0 = vec_load(vr), v1 = vec_load(vr + VEC_LANES);
        const vec p0 = vec_splat(band_coefficient(pb, i0 + 0, j, w, width));
        const vec p1 = vec_splat(band_coefficient(pb, i0 + 1, j, w, width));
        const vec p2 = vec_splat(band_coefficient(pb, i0 + 2, j, w, width));
        const vec p3 = vec_splat(band_coefficient(pb, i0 + 3, j, w, width));
        a00 = vec_add(a00, vec_mul(p0, v0)); a01 = vec_add(a01, vec_mul(p0, v1));
        a10 = vec_add(a10, vec_mul(p1, v0)); a11 = vec_add(a11, vec_mul(p1, v1));
        a20 = vec_add(a20, vec_mul(p2, v0)); a21 = vec_add(a21, vec_mul(p2, v1));
        a30 = vec_add(a30, vec_mul(p3, v0)); a31 = vec_add(a31, vec_mul(p3, v1));
      }
      vec_store(ob + (i0 + 0) * rs + c, a00); vec_store(ob + (i0 + 0) * rs + c + VEC_LANES, a01);
      vec_store(ob + (i0 + 1) * rs + c, a10); vec_store(ob + (i0 + 1) * rs + c + VEC_LANES, a11);
      vec_store(ob + (i0 + 2) * rs + c, a20); vec_store(ob + (i0 + 2) * rs + c + VEC_LANES, a21);
      vec_store(ob + (i0 + 3) * rs + c, a30); vec_store(ob + (i0 + 3) * rs + c + VEC_LANES, a31);
    }
    for (; c < d; c++) {
      for (u32 r = 0; r < 4; r++) {
        float sum = 0.0f;
        for (int j = j_first; j <= j_last; j++) sum += band_coefficient(pb, i0 + r, j, w, width) * vb[(u32)j * rs + c];
        ob[(i0 + r) * rs + c] = sum;
      }
    }
  }
  for (; i0 < i_end; i0++) {
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

void band_transpose_rows(const float *p, float *out, u32 s, u32 j_begin, u32 j_end, u32 n, u32 w) {
  const u32 width = 2 * w + 1;
  const float *pb = p + s * n * width;
  float *ob = out + s * n * width;
  for (u32 j = j_begin; j < j_end; j++) {
    for (u32 m = 0; m < width; m++) {
      const int i = (int)j + (int)m - (int)w;
      ob[j * width + m] = (i >= 0 && i < (int)n) ? pb[(u32)i * width + (width - 1 - m)] : 0.0f;
    }
  }
}

#ifdef __wasm__
/* The WebAssembly module's exports: each kernel over every sequence-head and row (scratch: band_scores_scratch_floats(n, d, w) floats). */
#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(band_scores)
void band_scores(const float *q, const float *k, float *band, float *scratch, u32 batch, u32 heads, u32 n, u32 d, u32 w) {
  for (u32 s = 0; s < batch * heads; s++) band_scores_rows(q, k, band, scratch, s, 0, n, heads, n, d, w);
}

EXPORT(band_context)
void band_context(const float *p, const float *v, float *out, u32 batch, u32 heads, u32 n, u32 d, u32 w) {
  for (u32 s = 0; s < batch * heads; s++) band_context_rows(p, v, out, s, 0, n, heads, n, d, w);
}

EXPORT(band_transpose)
void band_transpose(const float *p, float *out, u32 bh, u32 n, u32 w) {
  for (u32 s = 0; s < bh; s++) band_transpose_rows(p, out, s, 0, n, n, w);
}
#endif
