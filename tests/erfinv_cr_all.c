/* Exhaustive check of the correctly rounded erfinv of the torch2.0-*
 * profiles (issue 17 item 3): wi_erfinv_f32 over every float32 in (-1, 1),
 * patterns 0..0x3f7fffff then 0x80000000..0xbf7fffff, hashed as float32
 * little-endian in that order, against the sha256 of the scipy + mpmath
 * reference (tests/data/torch2/erfinv_cr.json, written by
 * tests/refs/torch2/erfinv_scan.py --reference-out).  Not a suite test
 * (about 6 minutes on 2 cores); run by hand:
 *
 *   build/tests/erfinv_cr_all tests/data/torch2/erfinv_cr.json [THREADS]
 *
 * Prints the sha256, the time and the ns per value; exit 0 when the
 * sha256 matches, 1 when not, 2 on bad usage. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include <weightinit/init.h>
#include <weightinit/rng.h>

#define CHUNK ((uint32_t)1 << 22)
#define MAX_THREADS 16

typedef struct {
    uint32_t start, n;
    uint8_t *out;
} part_t;

static void *work(void *p)
{
    part_t *w = p;
    for (uint32_t i = 0; i < w->n; i++) {
        uint32_t x = w->start + i, b;
        float y, v;
        memcpy(&y, &x, 4);
        v = wi_erfinv_f32(y, WI_RNG_TORCH2_AVX2);
        memcpy(&b, &v, 4);
        for (int k = 0; k < 4; k++)
            w->out[4 * (size_t)i + (size_t)k] = (uint8_t)(b >> (8 * k));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: erfinv_cr_all erfinv_cr.json [THREADS]\n");
        return 2;
    }
    json_error_t jerr;
    json_t *ref = json_load_file(argv[1], 0, &jerr);
    const char *want = json_string_value(json_object_get(ref, "sha256_all"));
    int threads = argc == 3 ? atoi(argv[2]) : 2;
    if (!want || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "%s: sha256_all: expected a string, %s\n", argv[1],
                ref ? "not found" : jerr.text);
        return 2;
    }
    uint8_t *buf = malloc(4 * (size_t)CHUNK);
    if (!buf)
        return 2;
    struct sha256_ctx h;
    sha256_init(&h);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t total = 0;
    for (uint32_t sign = 0; sign <= 1; sign++) {
        for (uint32_t s = 0; s < 0x3f800000u; s += CHUNK) {
            uint32_t n = 0x3f800000u - s < CHUNK ? 0x3f800000u - s : CHUNK;
            pthread_t tid[MAX_THREADS];
            part_t part[MAX_THREADS];
            uint32_t per = n / (uint32_t)threads;
            for (int t = 0; t < threads; t++) {
                uint32_t b = per * (uint32_t)t;
                part[t] = (part_t){(sign << 31) | (s + b),
                                   t == threads - 1 ? n - b : per, buf + 4 * (size_t)b};
                pthread_create(&tid[t], NULL, work, &part[t]);
            }
            for (int t = 0; t < threads; t++)
                pthread_join(tid[t], NULL);
            sha256_update(&h, 4 * (size_t)n, buf);
            total += n;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint8_t d[SHA256_DIGEST_SIZE];
    char hex[65];
    sha256_digest(&h, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int ok = strcmp(hex, want) == 0;
    printf("%llu inputs, sha256 %s: %s the reference; %.0f s on %d threads "
           "(%.1f ns per value per thread)\n",
           (unsigned long long)total, hex, ok ? "equals" : "DIFFERS FROM", sec,
           threads, sec * 1e9 * threads / (double)total);
    free(buf);
    json_decref(ref);
    return ok ? 0 : 1;
}
