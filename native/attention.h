/* The Node-API functions of tsml's own native kernels (attention.c, dropout.c, layers.c, adamw.c, elementwise.c), added to the addon's exports by blas.c's init. */
#ifndef TSML_ATTENTION_H
#define TSML_ATTENTION_H

#include "operands.h"

/* Defines bandScores, bandContext and bandTranspose on `exports`. */
napi_status define_attention_functions(napi_env env, napi_value exports);

/* Defines dropoutApply on `exports` (dropout.c). */
napi_status define_dropout_functions(napi_env env, napi_value exports);

/* Defines gelu, geluGrad, layerNorm, layerNormGrad, softmax and softmaxGrad on `exports` (layers.c). */
napi_status define_layer_functions(napi_env env, napi_value exports);

/* Defines adamwStep on `exports` (adamw.c). */
napi_status define_adamw_functions(napi_env env, napi_value exports);

/* Defines binary (add, subtract, multiply with broadcasting) on `exports` (elementwise.c). */
napi_status define_elementwise_functions(napi_env env, napi_value exports);

#endif
