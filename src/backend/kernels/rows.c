/*
 * Row-wise data movement for tfjs's WASM backend, compiled to a small WebAssembly module that imports the
 * backend's memory (pointers are offsets into the tfjs heap): the 2-D transpose behind every dense layer's
 * backward pass, the swap of two axes over blocks (attention heads split off and merged back), the row gather behind embedding lookups and its gradient, a row scatter-add, and slices,
 * zero pads and concatenations along the last axis (attention probabilities split into global and band columns),
 * and column sums (bias gradients).
 * tfjs-backend-wasm 4.22 runs these through generic N-d index arithmetic, several times slower.
 *
 * Same rules as band.c: no data segments, no globals, no shadow stack (scripts/build-wasm-kernels checks).
 */

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef unsigned int u32;

#define TILE 32

/* The 4 x 4 block at x (row stride xs) written transposed at out (row stride os), with four SIMD shuffles. */
static inline void transpose_4x4(const u32 *x, u32 xs, u32 *out, u32 os) {
  const v128_t r0 = wasm_v128_load(x), r1 = wasm_v128_load(x + xs), r2 = wasm_v128_load(x + 2 * xs), r3 = wasm_v128_load(x + 3 * xs);
  const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  wasm_v128_store(out, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
  wasm_v128_store(out + os, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
  wasm_v128_store(out + 2 * os, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
  wasm_v128_store(out + 3 * os, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
}

/* out[c, r] = x[r, c] for a rows x cols matrix of 32-bit values: TILE x TILE tiles of 4 x 4 SIMD blocks, scalar edges. */
EXPORT(transpose_2d)
void transpose_2d(const u32 *x, u32 *out, u32 rows, u32 cols) {
  const u32 rows4 = rows & ~3u, cols4 = cols & ~3u;
  for (u32 r0 = 0; r0 < rows4; r0 += TILE) {
    const u32 r1 = r0 + TILE < rows4 ? r0 + TILE : rows4;
    for (u32 c0 = 0; c0 < cols4; c0 += TILE) {
      const u32 c1 = c0 + TILE < cols4 ? c0 + TILE : cols4;
      for (u32 r = r0; r < r1; r += 4) {
        for (u32 c = c0; c < c1; c += 4) transpose_4x4(x + r * cols + c, cols, out + c * rows + r, rows);
      }
    }
  }
  for (u32 r = 0; r < rows; r++) {
    for (u32 c = (r < rows4 ? cols4 : 0); c < cols; c++) out[c * rows + r] = x[r * cols + c];
  }
}

/* out[o, j, i, :] = x[o, i, j, :] for o < outer, i < a, j < b, blocks of `inner` 32-bit values: two adjacent axes
 * swapped (splitting attention heads off, [B, n, h, d] -> [B, h, n, d], and merging them back); one copy per block. */
EXPORT(swap_axes)
void swap_axes(const u32 *x, u32 *out, u32 outer, u32 a, u32 b, u32 inner) {
  for (u32 o = 0; o < outer; o++) {
    const u32 *xo = x + o * a * b * inner;
    u32 *oo = out + o * a * b * inner;
    for (u32 i = 0; i < a; i++) {
      for (u32 j = 0; j < b; j++) __builtin_memcpy(oo + (j * a + i) * inner, xo + (i * b + j) * inner, inner * 4);
    }
  }
}

/* out[i, :] = table[indices[i], :] for `count` rows of `width` 32-bit values (indices already checked). */
EXPORT(gather_rows)
void gather_rows(const u32 *table, const int *indices, u32 *out, u32 count, u32 width) {
  for (u32 i = 0; i < count; i++) __builtin_memcpy(out + i * width, table + (u32)indices[i] * width, width * 4);
}

/* out[segments[i], :] += x[i, :] over `count` rows of `width` floats; out has `num_segments` rows and is zeroed
 * first; rows whose segment is outside [0, num_segments) are dropped (tf.unsortedSegmentSum semantics). */
EXPORT(scatter_add_rows)
void scatter_add_rows(const float *x, const int *segments, float *out, u32 count, u32 width, u32 num_segments) {
  __builtin_memset(out, 0, num_segments * width * 4);
  for (u32 i = 0; i < count; i++) {
    const int s = segments[i];
    if (s < 0 || (u32)s >= num_segments) continue;
    float *dst = out + (u32)s * width;
    const float *src = x + i * width;
    for (u32 j = 0; j < width; j++) dst[j] += src[j];
  }
}

/* out[r, :] = x[r, start : start + out_width] for `rows` rows of `in_width` 32-bit values (a slice of the last axis). */
EXPORT(take_columns)
void take_columns(const u32 *x, u32 *out, u32 rows, u32 in_width, u32 start, u32 out_width) {
  for (u32 r = 0; r < rows; r++) __builtin_memcpy(out + r * out_width, x + r * in_width + start, out_width * 4);
}

/* out[r, offset : offset + in_width] = x[r, :] for `rows` rows of an out_width-wide output (concatenation or zero
 * padding of the last axis; with `zero_rest`, the other columns are zeroed first). */
EXPORT(place_columns)
void place_columns(const u32 *x, u32 *out, u32 rows, u32 in_width, u32 out_width, u32 offset, u32 zero_rest) {
  if (zero_rest) __builtin_memset(out, 0, rows * out_width * 4);
  for (u32 r = 0; r < rows; r++) __builtin_memcpy(out + r * out_width + offset, x + r * in_width, in_width * 4);
}

/* out[c] = sum over r of x[r, c], for `rows` rows of `cols` floats (a reduction over every axis but the last). */
EXPORT(sum_rows)
void sum_rows(const float *x, float *out, u32 rows, u32 cols) {
  __builtin_memset(out, 0, cols * 4);
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    u32 c = 0;
    for (; c + 4 <= cols; c += 4) wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(out + c), wasm_v128_load(xr + c)));
    for (; c < cols; c++) out[c] += xr[c];
  }
}
