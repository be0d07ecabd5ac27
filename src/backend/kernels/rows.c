/*
 * Row-wise data movement for tfjs's WASM backend, compiled to a small WebAssembly module that imports the
 * backend's memory (pointers are offsets into the tfjs heap): the 2-D transpose behind every dense layer's
 * backward pass, the row gather behind embedding lookups, and its gradient, a row scatter-add.
 * tfjs-backend-wasm 4.22 runs these through generic N-d index arithmetic, several times slower.
 *
 * Same rules as band.c: no data segments, no globals, no shadow stack (scripts/build-wasm-kernels checks).
 */

#define EXPORT(name) __attribute__((export_name(#name)))

typedef unsigned int u32;

#define TILE 16

/* out[c, r] = x[r, c] for a rows x cols matrix of 32-bit values, in TILE x TILE tiles (cache-friendly both ways). */
EXPORT(transpose_2d)
void transpose_2d(const u32 *x, u32 *out, u32 rows, u32 cols) {
  for (u32 r0 = 0; r0 < rows; r0 += TILE) {
    const u32 r1 = r0 + TILE < rows ? r0 + TILE : rows;
    for (u32 c0 = 0; c0 < cols; c0 += TILE) {
      const u32 c1 = c0 + TILE < cols ? c0 + TILE : cols;
      for (u32 r = r0; r < r1; r++) {
        for (u32 c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c];
      }
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
