/* Reads verify_all.py's stream (per chunk of 2^24 patterns: torch's
 * bf16 results, then its f16 results) and compares every one with
 * wi_priv_f32_to_bf16 / wi_priv_f32_to_f16.  Usage: verify_all avx2|default */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/convert.h"

#define CHUNK (1u << 24)

int main(int argc, char **argv)
{
    wi_rng_profile_t prof = argc > 1 && strcmp(argv[1], "default") == 0
                                ? WI_RNG_DEFAULT : WI_RNG_AVX2;
    uint16_t *bf = malloc(CHUNK * 2), *h = malloc(CHUNK * 2);
    uint64_t bad_bf = 0, bad_h = 0, done = 0;
    for (uint64_t start = 0; start < (1ull << 32); start += CHUNK) {
        if (fread(bf, 2, CHUNK, stdin) != CHUNK || fread(h, 2, CHUNK, stdin) != CHUNK) {
            fprintf(stderr, "short input at 0x%llx\n", (unsigned long long)start);
            return 2;
        }
        for (uint32_t i = 0; i < CHUNK; i++) {
            uint32_t u = (uint32_t)start + i;
            if (wi_priv_f32_to_bf16(u, prof) != bf[i] && bad_bf++ < 5)
                fprintf(stderr, "bf16 0x%08x: ours 0x%04x torch 0x%04x\n", u,
                        wi_priv_f32_to_bf16(u, prof), bf[i]);
            if (wi_priv_f32_to_f16(u, prof) != h[i] && bad_h++ < 5)
                fprintf(stderr, "f16 0x%08x: ours 0x%04x torch 0x%04x\n", u,
                        wi_priv_f32_to_f16(u, prof), h[i]);
        }
        done += CHUNK;
    }
    printf("%s: %llu patterns; bf16 mismatches %llu, f16 mismatches %llu\n",
           prof == WI_RNG_DEFAULT ? "default" : "avx2", (unsigned long long)done,
           (unsigned long long)bad_bf, (unsigned long long)bad_h);
    return bad_bf || bad_h;
}
