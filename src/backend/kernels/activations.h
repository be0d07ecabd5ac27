/* The GELU and LayerNorm kernels of activations.c as functions of a range of elements, rows or columns (see its header). */
#ifndef TSML_ACTIVATIONS_H
#define TSML_ACTIVATIONS_H

/* out[i] = gelu(x[i]) for i in [begin, end). */
void gelu_range(const float *x, float *out, unsigned int begin, unsigned int end);

/* out[i] = dy[i] gelu'(x[i]) for i in [begin, end). */
void gelu_grad_range(const float *x, const float *dy, float *out, unsigned int begin, unsigned int end);

/* LayerNorm of rows [r_begin, r_end) of x (+ residual, when not null): out, x_hat and inv_std of those rows. */
void layer_norm_rows(const float *x, const float *residual, const float *gamma, const float *beta, float *out, float *x_hat,
                     float *inv_std, unsigned int r_begin, unsigned int r_end, unsigned int width, float eps);

/* dx of rows [r_begin, r_end). */
void layer_norm_grad_rows(const float *dy, const float *x_hat, const float *inv_std, const float *gamma, float *dx,
                          unsigned int r_begin, unsigned int r_end, unsigned int width);

/* d_gamma[j] and d_beta[j] for columns j in [c_begin, c_end), summed over all rows in order. */
void layer_norm_grad_columns(const float *dy, const float *x_hat, float *d_gamma, float *d_beta, unsigned int rows,
                             unsigned int c_begin, unsigned int c_end, unsigned int width);

/* Rows [r_begin, r_end) of the softmax of x, times keep[(r / (heads n)) n + r % n] (keep null: 1). */
void softmax_rows(const float *x, const float *keep, float *out, unsigned int r_begin, unsigned int r_end, unsigned int width,
                  unsigned int heads, unsigned int n);

/* Rows [r_begin, r_end) of the softmax's gradient p (dy - sum(dy p)). */
void softmax_grad_rows(const float *p, const float *dy, float *out, unsigned int r_begin, unsigned int r_end, unsigned int width);

#endif
