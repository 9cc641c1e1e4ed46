/* A tensor's digest from its plan (partition.h): what decides its
 * values, hashed without computing any of them, so that processes about
 * to write one file together can check that they hold the same plan
 * before anything is written (docs/mpi.md). */
#include <string.h>

#include <nettle/sha2.h>

#include <weightinit/partition.h>

#include "plan/record.h"
#include "tensor/tensor_internal.h"

static void put_u64(struct sha256_ctx *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(h, sizeof b, b);
}

/* A tag says which of the three sources follows, so that no bytes of
 * one can be mistaken for another's. */
static void put_values(struct sha256_ctx *h, const wi_tensor_t *t)
{
    wi_rng_profile_t profile;
    const wi_tensor_t *src = wi_priv_tensor_view_source(t, &profile);
    const struct wi_priv_rec *r = wi_priv_tensor_rec(t);
    if (src) { /* converted as read: the source's values, the rounding */
        sha256_update(h, 5, (const uint8_t *)"view");
        put_u64(h, (uint64_t)profile);
        put_u64(h, (uint64_t)wi_tensor_dtype(src));
        put_values(h, src);
    } else if (r) {
        sha256_update(h, 7, (const uint8_t *)"record");
        wi_priv_rec_digest(r, h);
    } else if (wi_tensor_is_deferred(t)) {
        sha256_update(h, 6, (const uint8_t *)"zeros");
    } else {
        sha256_update(h, 7, (const uint8_t *)"memory");
        if (wi_tensor_nbytes(t) > 0)
            sha256_update(h, wi_tensor_nbytes(t), wi_tensor_const_data(t));
    }
}

void wi_tensor_digest(const wi_tensor_t *t, unsigned char out[32])
{
    struct sha256_ctx h;
    sha256_init(&h);
    put_u64(&h, (uint64_t)wi_tensor_dtype(t));
    put_u64(&h, (uint64_t)wi_tensor_ndim(t));
    for (int i = 0; i < wi_tensor_ndim(t); i++)
        put_u64(&h, (uint64_t)wi_tensor_shape(t)[i]);
    put_values(&h, t);
    sha256_digest(&h, 32, out);
}
