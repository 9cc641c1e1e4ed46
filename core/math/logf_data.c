/* logf's tables, apart from logf.c so that the -mfma build of logf.c
 * (core/meson.build) shares them instead of defining them twice. */
#include "math/logf_data.h"

/* {1/c, log(c)} for the 16 subintervals of [0x3f330000, 2 * that): glibc's
 * chosen points (e_logf_data.c); the values are the specification. */
const uint64_t wi_logf_tab[16][2] = {
    {0x3ff661ec79f8f3be, 0xbfd57bf7808caade},
    {0x3ff571ed4aaf883d, 0xbfd2bef0a7c06ddb},
    {0x3ff49539f0f010b0, 0xbfd01eae7f513a67},
    {0x3ff3c995b0b80385, 0xbfcb31d8a68224e9},
    {0x3ff30d190c8864a5, 0xbfc6574f0ac07758},
    {0x3ff25e227b0b8ea0, 0xbfc1aa2bc79c8100},
    {0x3ff1bb4a4a1a343f, 0xbfba4e76ce8c0e5e},
    {0x3ff12358f08ae5ba, 0xbfb1973c5a611ccc},
    {0x3ff0953f419900a7, 0xbfa252f438e10c1e},
    {0x3ff0000000000000, 0x0000000000000000},
    {0x3fee608cfd9a47ac, 0x3faaa5aa5df25984},
    {0x3feca4b31f026aa0, 0x3fbc5e53aa362eb4},
    {0x3feb2036576afce6, 0x3fc526e57720db08},
    {0x3fe9c2d163a1aa2d, 0x3fcbc2860d224770},
    {0x3fe886e6037841ed, 0x3fd1058bc8a07ee1},
    {0x3fe767dcf5534862, 0x3fd4043057b6ee09},
};
const double wi_logf_poly[3] = {
    -0x1.00ea348b88334p-2, 0x1.5575b0be00b6ap-2, -0x1.ffffef20a4123p-2};
