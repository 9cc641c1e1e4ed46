/* Chooses the kernel table once per process: the best instruction set the
 * CPU has, or the one WEIGHTINIT_ISA forces (dispatch.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/kernels.h>

#include "kernels/dispatch.h"

static const wi_kernels_t *chosen;
static char forced[32]; /* WEIGHTINIT_ISA when it cannot be honoured */
static int forced_bad;  /* 1 unknown name, 2 not on this CPU */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cpu_has(const wi_kernels_t *k)
{
    __builtin_cpu_init();
    if (k == &wi_kernels_avx512)
        return __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (k == &wi_kernels_avx2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return 1;
}

static const wi_kernels_t *const tables[] = {&wi_kernels_avx512,
                                             &wi_kernels_avx2,
                                             &wi_kernels_scalar};

static void choose(void)
{
    const char *env = getenv("WEIGHTINIT_ISA");
    if (env && *env) {
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
            if (strcmp(env, tables[i]->isa) == 0) {
                if (cpu_has(tables[i]))
                    chosen = tables[i];
                else
                    forced_bad = 2;
                break;
            }
        }
        if (!chosen && !forced_bad)
            forced_bad = 1;
        if (forced_bad)
            snprintf(forced, sizeof forced, "%.31s", env);
        return;
    }
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (cpu_has(tables[i])) {
            chosen = tables[i];
            return;
        }
    }
}

int wi_kernels(const wi_kernels_t **k, wi_error_t *err)
{
    pthread_once(&once, choose);
    *k = chosen;
    if (chosen)
        return 0;
    if (forced_bad == 1)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                     "WEIGHTINIT_ISA=%s: unknown instruction set; expected "
                     "scalar, avx2 or avx512",
                     forced);
    return wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL,
                     "WEIGHTINIT_ISA=%s: this CPU lacks the instructions "
                     "(%s); use scalar%s or unset WEIGHTINIT_ISA",
                     forced,
                     strcmp(forced, "avx2") == 0
                         ? "AVX2 and FMA"
                         : "AVX-512 F/BW/DQ/VL with AVX2 and FMA",
                     cpu_has(&wi_kernels_avx2) ? ", avx2" : "");
}

const char *wi_kernel_isa(wi_error_t *err)
{
    const wi_kernels_t *k;
    return wi_kernels(&k, err) == 0 ? k->isa : NULL;
}
