/* The AdamW update of optimizer.c as a function of a range of elements (see its header). */
#ifndef TSML_OPTIMIZER_H
#define TSML_OPTIMIZER_H

/* One AdamW step over elements [begin, end): m and v updated in place, the new parameter written to out. */
void adamw_range(const float *param, const float *grad, float *out, float *m, float *v, unsigned int begin, unsigned int end,
                 float b1, float c1, float b2, float c2, float eps, float step_size, float correction, float decay,
                 unsigned int decays);

#endif
