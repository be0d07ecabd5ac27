/* Node-API helpers shared by the addon's functions (blas.c, attention.c, dropout.c, layers.c): argument reading and the operand checks
 * every call makes before it touches memory (see blas.c's header for the rules). */
#ifndef TSML_OPERANDS_H
#define TSML_OPERANDS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "tsml native: Node-API call failed"); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static inline napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static inline int get_int64(napi_env env, napi_value value, int64_t *out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static inline napi_value make_string(napi_env env, const char *text) {
  napi_value out;
  if (napi_create_string_utf8(env, text ? text : "", NAPI_AUTO_LENGTH, &out) != napi_ok) return NULL;
  return out;
}

static inline napi_value make_int(napi_env env, int64_t value) {
  napi_value out;
  if (napi_create_int64(env, value, &out) != napi_ok) return NULL;
  return out;
}

typedef struct {
  uint64_t offset; /* bytes */
  uint64_t end;    /* bytes, exclusive */
} extent;

/* The byte range of `count` matrices of rows x cols floats at `offset`, `stride` elements apart; 0 when it does not
 * fit in `length` bytes (or is misaligned). */
static inline int operand_extent(uint64_t offset, uint64_t count, uint64_t stride, uint64_t rows, uint64_t cols,
                          uint64_t length, extent *out) {
  if (offset % 4 != 0 || offset > length) return 0;
  const uint64_t elements = (count - 1) * stride + rows * cols; /* count, rows, cols < 2^31, stride < 2^32: fits in 64 bits */
  if (elements > (length - offset) / 4) return 0;
  out->offset = offset;
  out->end = offset + 4 * elements;
  return 1;
}

static inline int overlaps(extent x, extent y) { return x.offset < y.end && y.offset < x.end; }

static inline int in_dimension_range(int64_t v) { return v >= 1 && v < ((int64_t)1 << 31); }

static inline int get_buffer(napi_env env, napi_value value, uint8_t **data, uint64_t *length) {
  void *raw = NULL;
  size_t bytes = 0;
  bool is_buffer = false;
  if (napi_is_arraybuffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_arraybuffer_info(env, value, &raw, &bytes) != napi_ok || raw == NULL) return 0;
  *data = (uint8_t *)raw;
  *length = bytes;
  return 1;
}

/* Reads a call's `expected` arguments into argv, the first an ArrayBuffer (its data and length in bytes); 0 (after
 * throwing a TypeError that shows `usage`) when there are not exactly `expected` or the first is not an ArrayBuffer. */
static inline int buffer_call(napi_env env, napi_callback_info info, size_t expected, napi_value *argv, uint8_t **data, uint64_t *length,
                              const char *usage) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "tsml native: Node-API call failed");
    return 0;
  }
  if (argc != expected || !get_buffer(env, argv[0], data, length)) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

/* Reads argv[first ...] as `count` non-negative integers into v; 0 (after throwing) when one is not. */
static inline int read_integers(napi_env env, napi_value *argv, size_t count, int64_t *v, const char *name) {
  for (size_t i = 0; i < count; i++) {
    if (!get_int64(env, argv[i], &v[i]) || v[i] < 0) {
      char message[160];
      snprintf(message, sizeof message, "%s: every argument after the buffer must be a non-negative integer", name);
      throw_range(env, message);
      return 0;
    }
  }
  return 1;
}

/* read_integers, except that the arguments whose bits are set in `optional` (operands' offsets: bit i for argument i)
 * may also be -1 for none; 0 (after throwing, naming them as `optional_names`) when one is not. */
static inline int read_integers_optional(napi_env env, napi_value *argv, size_t count, int64_t *v, const char *name, uint32_t optional,
                                         const char *optional_names) {
  for (size_t i = 0; i < count; i++) {
    if (!get_int64(env, argv[i], &v[i]) || (v[i] < 0 && !((optional >> i & 1u) && v[i] == -1))) {
      char message[200];
      snprintf(message, sizeof message, "%s: every argument after the buffer must be a non-negative integer (%s: -1 for none)", name,
               optional_names);
      throw_range(env, message);
      return 0;
    }
  }
  return 1;
}

/* The extent of `elements` floats at `offset`, or 0 when they number 2^31 or more or do not fit the buffer. */
static inline int float_extent(uint64_t offset, uint64_t elements, uint64_t length, extent *out) {
  return elements < ((uint64_t)1 << 31) && operand_extent(offset, 1, 0, 1, elements, length, out);
}

#endif
