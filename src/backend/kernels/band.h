/* The band attention kernels of band.c as functions of one sequence-head s and a range of rows (see band.c's header). */
#ifndef TSML_BAND_H
#define TSML_BAND_H

/* Floats of scratch band_scores_rows needs for `rows` query rows (the keys of their window, transposed). */
unsigned int band_scores_scratch_floats(unsigned int rows, unsigned int d, unsigned int w);

/* band[s, i, :] for query rows i in [i_begin, i_end). */
void band_scores_rows(const float *q, const float *k, float *band, float *scratch, unsigned int s, unsigned int i_begin,
                      unsigned int i_end, unsigned int heads, unsigned int n, unsigned int d, unsigned int w);

/* out[b, i, e, :] for rows i in [i_begin, i_end) of sequence-head s = b heads + e. */
void band_context_rows(const float *p, const float *v, float *out, unsigned int s, unsigned int i_begin, unsigned int i_end,
                       unsigned int heads, unsigned int n, unsigned int d, unsigned int w);

/* out[s, j, :] for rows j in [j_begin, j_end). */
void band_transpose_rows(const float *p, float *out, unsigned int s, unsigned int j_begin, unsigned int j_end, unsigned int n,
                         unsigned int w);

#endif
