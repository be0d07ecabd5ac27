/* The GELU, LayerNorm and softmax kernels of activations.c as functions of a range of elements, rows or columns (see its header). */
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

/* Rows [r_begin, r_end) of the softmax of [g + g_bias | x + x_bias] (g: g_width columns, none when 0; a null bias: none),
 * times keep[(r / (heads n)) n + r % n] (keep null: 1), written to [g_out | out]. x [rows, width], x_bias [rows / heads, width]
 * (rows of [B, heads, n, width] and [B, 1, n, width]), g [rows, g_width], g_bias [rows / (heads n), g_width]. */
void softmax_rows(const float *x, const float *x_bias, const float *g, const float *g_bias, const float *keep, float *out, float *g_out,
                  unsigned int r_begin, unsigned int r_end, unsigned int width, unsigned int g_width, unsigned int heads, unsigned int n);

/* Rows [r_begin, r_end) of the softmax's gradient p (dy - sum(dy p)) with p = [g_p | p], dy = [g_dy | dy], written to
 * [g_out | out]. */
void softmax_grad_rows(const float *p, const float *dy, const float *g_p, const float *g_dy, float *out, float *g_out, unsigned int r_begin,
                       unsigned int r_end, unsigned int width, unsigned int g_width);

#endif
