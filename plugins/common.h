/* Helpers shared by the built-in initializer plugins, compiled into each
 * one (hidden): reading an initializer's own arguments with MMEngine's
 * defaults and Python's printing, and what every instance holds. */
#ifndef WI_PLUGINS_COMMON_H
#define WI_PLUGINS_COMMON_H

#include <stddef.h>

#include <weightinit/plugin.h>

/* Room for Python's str() of a number ("-4.59511985013459"). */
#define WI_REPR_SIZE 40

/* The arguments create() is reading, and where they are for errors. */
typedef struct wi_args {
    const wi_host_t *host;
    const wi_value_t *args;
    const char *type_name; /* the registered name: "Kaiming" */
    const char *source;
    const char *path;
    wi_error_t *err;
} wi_args_t;

/* A number argument and its Python str() for the info string. */
typedef struct wi_num {
    double value;
    char repr[WI_REPR_SIZE];
} wi_num_t;

/* 0, or WI_E* when args has a key outside `accepted` (NULL-ended); the
 * host's message lists the accepted names. */
int wi_args_check_keys(const wi_args_t *a, const char *const *accepted);
/* Reads number `key` (an int or a real; a bool is not a number).  Absent:
 * `def`, printed as `def_repr`; def_repr NULL makes the key required. */
int wi_args_number(const wi_args_t *a, const char *key, double def,
                   const char *def_repr, wi_num_t *out);
/* Reads string `key` (absent: `def`) into *out, a new copy the caller
 * frees with free(). */
int wi_args_string(const wi_args_t *a, const char *key, const char *def,
                   char **out);

/* The first member of every instance. */
typedef struct wi_init_self {
    char *info;  /* owned; MMEngine's _get_init_info() */
    double bias; /* BaseInit's bias (or bias_init_with_prob(bias_prob)) */
    /* Where the arguments were, for errors raised at init time. */
    char source[WI_ERROR_SOURCE_LENGTH];
    char path[WI_ERROR_PATH_LENGTH];
} wi_init_self_t;

/* A new zeroed instance of `size` bytes (>= sizeof(wi_init_self_t)) whose
 * info is the printf-formatted text; NULL with err on out of memory. */
void *wi_init_self_new(const wi_args_t *a, const wi_init_base_t *base,
                       size_t size, const char *info_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The type's info and destroy for instances that own nothing else. */
const char *wi_init_self_info(void *self);
void wi_init_self_free(void *self);

/* After a host function refused one of its arguments: the host names the
 * argument as torch does (err->path "a"); names lists pairs of such a
 * name and the config key it came from, NULL-ended ({"a", "a", NULL}),
 * and a listed one becomes the key's JSON path in this initializer's
 * config ("init_cfg[0].a").  Returns rc. */
int wi_init_locate_arg(const wi_init_self_t *self, int rc, wi_error_t *err,
                       const char *const *names);

/* MMEngine's `assert distribution in ['uniform', 'normal']`, which fires
 * when a module is initialised; the error names the config key. */
int wi_init_check_distribution(const wi_init_self_t *self,
                               const wi_host_t *host, const char *type_name,
                               const char *distribution, wi_error_t *err);

#endif
