/* One MT19937 step and the tempering, shared by every instruction set's
 * kernels (and their scalar ends); torch-rng.md §2. */
#ifndef WI_KERNELS_MT_WORD_H
#define WI_KERNELS_MT_WORD_H

#include <stdint.h>

#define WI_MT_UPPER 0x80000000u
#define WI_MT_LOWER 0x7fffffffu
#define WI_MT_MATRIX_A 0x9908b0dfu

/* The new word from st[k] (a), st[k+1] (b) and st[k+397] (c). */
static inline uint32_t wi_mt_word(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t mix = (a & WI_MT_UPPER) | (b & WI_MT_LOWER);
    return c ^ (mix >> 1) ^ ((b & 1u) ? WI_MT_MATRIX_A : 0u);
}

static inline uint32_t wi_mt_temper(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

#endif
