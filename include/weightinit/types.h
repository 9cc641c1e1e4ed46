/* The types the library's API and the plugin ABI share, and nothing
 * else: error codes and the caller-owned error struct, the log levels,
 * the dtypes, the RNG profiles, and the opaque handles.  No function is declared here, so
 * weightinit/plugin.h can include it without handing a plugin the
 * library's prototypes (a plugin calls weightinit only through the host
 * table).  Every other public header includes it. */
#ifndef WEIGHTINIT_TYPES_H
#define WEIGHTINIT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    WI_OK = 0,
    WI_EINVAL = -1,       /* a value or argument is invalid (config, model, call) */
    WI_ENOMEM = -2,       /* out of memory, or a size that cannot be allocated */
    WI_EIO = -3,          /* reading or writing a file or URL failed */
    WI_EFORMAT = -4,      /* a file is malformed, truncated or hostile */
    WI_ENOTFOUND = -5,    /* an unknown name: type, child, parameter, key */
    WI_EUNSUPPORTED = -6, /* valid but not supported by this version */
    WI_EPLUGIN = -7,      /* a plugin could not be loaded or registered */
    WI_ESTATE = -8,       /* the call is not valid in the object's state */
    WI_EFILE = -9         /* an input file is missing, unreadable or not a
                             regular file (a directory, FIFO, device) */
};

/* Which PyTorch build's CPU kernels the primitives reproduce bit for bit
 * (docs/torch-versions.md). */
typedef enum wi_rng_profile {
    /* Debian's torch 1.13 on an x86 CPU with AVX2+FMA (the command's
     * default before 0.2.0). */
    WI_RNG_AVX2 = 0,
    /* Debian's torch 1.13 with ATEN_CPU_CAPABILITY=default. */
    WI_RNG_DEFAULT = 1,
    /* PyPI torch 2.0-2.11 on an AVX2+FMA CPU: WI_RNG_AVX2's arithmetic
     * except trunc_normal_'s erfinv (correctly rounded: MKL's vmsErfInv
     * but for its 1-ulp misses on 120,954 of the 2^31 float inputs) and
     * the float16 NaN payload. */
    WI_RNG_TORCH2_AVX2 = 2,
    /* The same with ATEN_CPU_CAPABILITY=default: WI_RNG_DEFAULT's
     * arithmetic with those two differences. */
    WI_RNG_TORCH2_DEFAULT = 3,
    /* PyPI torch 2.12 and later on an AVX2+FMA CPU (what `pip install
     * torch` gives today; the default of the command line):
     * WI_RNG_TORCH2_AVX2, except that torch.nn.init.trunc_normal_
     * (wi_trunc_normal_) is torch's rejection sampler, whose draw count
     * depends on the values.  MMEngine's trunc_normal_init keeps the
     * correctly rounded erfinv. */
    WI_RNG_TORCH212_AVX2 = 4,
    /* PyPI torch 2.12 with ATEN_CPU_CAPABILITY=default: WI_RNG_TORCH2_DEFAULT
     * with the rejection sampler. */
    WI_RNG_TORCH212_DEFAULT = 5,
    /* PyPI torch 2.13 and later with ATEN_CPU_CAPABILITY=default:
     * WI_RNG_TORCH212_DEFAULT, except that normal_'s fill path ends in one
     * fused multiply-add (std::fma(radius * cos, std, mean)). */
    WI_RNG_TORCH213_DEFAULT = 6
} wi_rng_profile_t;

/* A JSON value: a configuration, a model node, a file's metadata.  The
 * library keeps JSON as jansson's value type, and wi_value_t is that type
 * under the library's own name, so no public header needs jansson.h.
 * weightinit/value.h parses, prints and frees one; a program that uses
 * jansson itself may cast its value pointers to wi_value_t * and back.
 * Plugins read one through the host table's value_* functions. */
typedef struct wi_value wi_value_t;

#define WI_ERROR_SOURCE_LENGTH 256
#define WI_ERROR_PATH_LENGTH 256
#define WI_ERROR_TEXT_LENGTH 512

/* Owned by the caller, usually on the stack.  All strings are
 * NUL-terminated and may be empty. */
typedef struct wi_error {
    int code;   /* 0 or a WI_E* code */
    int line;   /* 1-based line in a parsed text file, 0 when unknown */
    int column; /* 1-based column, 0 when unknown */
    char source[WI_ERROR_SOURCE_LENGTH]; /* file, URL or plugin at fault */
    char path[WI_ERROR_PATH_LENGTH];     /* JSON path or tensor name at fault */
    char text[WI_ERROR_TEXT_LENGTH];     /* what was expected, what was found */
} wi_error_t;

typedef enum wi_log_level {
    WI_LOG_DEBUG = 10,
    WI_LOG_INFO = 20,
    WI_LOG_WARNING = 30,
    WI_LOG_ERROR = 40
} wi_log_level_t;

#define WI_MAX_DIMS 8

/* safetensors dtype names; the numbering is part of the ABI. */
typedef enum wi_dtype {
    WI_DTYPE_F32 = 0,
    WI_DTYPE_F64 = 1,
    WI_DTYPE_F16 = 2,
    WI_DTYPE_BF16 = 3,
    WI_DTYPE_I64 = 4,
    WI_DTYPE_I32 = 5,
    WI_DTYPE_I16 = 6,
    WI_DTYPE_I8 = 7,
    WI_DTYPE_U8 = 8,
    WI_DTYPE_BOOL = 9
} wi_dtype_t;

/* Opaque handles (context.h, registry.h, module.h, tensor.h, rng.h). */
typedef struct wi_context wi_context_t;
typedef struct wi_registry wi_registry_t;
typedef struct wi_module wi_module_t;
typedef struct wi_tensor wi_tensor_t;
typedef struct wi_generator wi_generator_t;

/* A module type's init_weights (module.h, plugin.h): 0, or a WI_E* code
 * with err filled. */
typedef int (*wi_init_weights_fn)(wi_module_t *m, wi_context_t *ctx,
                                  wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
