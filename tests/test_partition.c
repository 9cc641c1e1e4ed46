/* Dividing a write among processes (partition.h).  The division must
 * cover every element of every extent exactly once over all ranks, in
 * contiguous shares balanced by bytes with cuts at multiples of 16
 * elements; and the pieces computed by any number of "ranks" (here: in
 * turn, in one process) must give exactly the bytes of the eager write
 * (the path the torch golden suites check): into memory, and into a
 * safetensors file whose header alone was written first (headers-only),
 * equal to the file the ordinary single writer makes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <check.h>

#include <weightinit/weightinit.h>

#include "util.h"

static void free_data(void *data, void *ud)
{
    (void)ud;
    free(data);
}

/* Tensors of odd sizes, dtypes and 0 elements, in 3 "files". */
static wi_state_dict_t *layout_dict(void)
{
    static const int64_t sizes[] = {17, 0, 1, 4099 * 1021, 33, 16, 100003, 5};
    static const wi_dtype_t dtypes[] = {WI_DTYPE_F32, WI_DTYPE_F32, WI_DTYPE_I64,
                                        WI_DTYPE_F32, WI_DTYPE_BF16, WI_DTYPE_F64,
                                        WI_DTYPE_F32, WI_DTYPE_U8};
    wi_state_dict_t *sd = wi_state_dict_new();
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        wi_tensor_t *t = wi_tensor_new(dtypes[i], 1, &sizes[i], NULL);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(wi_state_dict_append_new(sd, name, t, NULL), 0);
    }
    return sd;
}

START_TEST(every_element_once)
{
    wi_state_dict_t *sd = layout_dict();
    size_t n = wi_state_dict_size(sd);
    /* Files: tensors 0-2, 3-5, 6-7, each from base 8 + 64k. */
    wi_extent_t *ext = NULL;
    size_t n_ext = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        wi_state_dict_t *one = wi_state_dict_new();
        ck_assert_int_eq(wi_state_dict_append(one, "x", wi_state_dict_tensor(sd, i), NULL), 0);
        ck_assert_int_eq(wi_extents_packed(one, i / 3, 8 + 64 * (i / 3) + total, &ext, &n_ext, NULL), 0);
        total += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
        wi_state_dict_free(one);
    }
    ck_assert_uint_eq(n_ext, n);
    for (int size = 1; size <= 7; size++) {
        int64_t *covered = calloc(n, sizeof *covered); /* elements, in order */
        for (int rank = 0; rank < size; rank++) {
            wi_piece_t *p;
            size_t np;
            ck_assert_int_eq(wi_partition(ext, n_ext, rank, size, &p, &np, NULL), 0);
            uint64_t bytes = 0;
            for (size_t k = 0; k < np; k++) {
                const wi_extent_t *x = &ext[p[k].extent];
                size_t es = wi_dtype_size(wi_tensor_dtype(x->tensor));
                /* contiguous: each piece starts where the last stopped */
                ck_assert_int_eq(p[k].begin, covered[p[k].extent]);
                ck_assert_int_gt(p[k].count, 0);
                ck_assert_int_le(p[k].count, (int64_t)1 << 24);
                ck_assert_uint_eq(p[k].file, x->file);
                ck_assert_uint_eq(p[k].offset, x->offset + (uint64_t)p[k].begin * es);
                ck_assert(p[k].begin % 16 == 0 || p[k].begin == 0);
                covered[p[k].extent] += p[k].count;
                bytes += (uint64_t)p[k].count * es;
            }
            /* balanced: within 16 elements of 8 bytes at each end */
            ck_assert_uint_le(bytes, total / (uint64_t)size + 2 * 16 * 8 + 8);
            ck_assert_uint_ge(bytes + 2 * 16 * 8 + 8, total / (uint64_t)size);
            free(p);
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(covered[i], wi_tensor_numel(ext[i].tensor));
        free(covered);
    }
    wi_piece_t *p = NULL;
    size_t np;
    wi_error_t err;
    ck_assert_int_eq(wi_partition(ext, n_ext, 3, 3, &p, &np, &err), WI_EINVAL);
    ck_assert_int_eq(wi_partition(ext, n_ext, -1, 3, &p, &np, NULL), WI_EINVAL);
    ck_assert_int_eq(wi_partition(ext, n_ext, 0, 0, &p, &np, NULL), WI_EINVAL);
    free(ext);
    wi_state_dict_free(sd);
}
END_TEST

/* The model the value tests use: every kind of write, sizes off the
 * 16-blocks, one tensor over several 2^24-element pieces.  eager: the
 * tensors get storage first (written as they go). */
static wi_state_dict_t *model(int eager, wi_rng_profile_t profile)
{
    static const int64_t sizes[] = {4099 * 4099 + 5, 1031, 17, 100000, 3};
    wi_generator_t *g = wi_generator_new(42, profile);
    wi_state_dict_t *sd = wi_state_dict_new();
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        wi_tensor_t *t;
        if (eager)
            t = wi_tensor_wrap(WI_DTYPE_F32, 1, &sizes[i],
                               calloc((size_t)sizes[i], 4), free_data, NULL, NULL);
        else
            t = wi_tensor_new(WI_DTYPE_F32, 1, &sizes[i], NULL);
        ck_assert_ptr_nonnull(t);
        int rc = i % 3 == 0 ? wi_normal_(t, g, 0.5, 0.02, NULL)
                 : i % 3 == 1 ? wi_uniform_(t, g, -1, 1, NULL)
                              : wi_trunc_normal_(t, g, 0, 1, -0.5, 1.5, NULL);
        ck_assert_int_eq(rc, 0);
        char name[16];
        snprintf(name, sizeof name, "w%zu", i);
        ck_assert_int_eq(wi_state_dict_append_new(sd, name, t, NULL), 0);
    }
    wi_generator_free(g);
    return sd;
}

static int memory_sink(void *ud, size_t file, uint64_t offset,
                       const void *data, size_t len)
{
    ck_assert_uint_eq(file, 0);
    memcpy((char *)ud + offset, data, len);
    return 0;
}

START_TEST(ranks_compute_eager_bytes)
{
    wi_rng_profile_t profile = (wi_rng_profile_t)_i;
    wi_state_dict_t *eager = model(1, profile), *plan = model(0, profile);
    wi_extent_t *ext = NULL;
    size_t n_ext = 0;
    ck_assert_int_eq(wi_extents_packed(plan, 0, 0, &ext, &n_ext, NULL), 0);
    uint64_t total = 0;
    for (size_t i = 0; i < n_ext; i++)
        total += wi_tensor_nbytes(ext[i].tensor);
    char *want = malloc(total), *got = malloc(total);
    uint64_t at = 0;
    for (size_t i = 0; i < wi_state_dict_size(eager); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(eager, i);
        memcpy(want + at, wi_tensor_const_data(t), wi_tensor_nbytes(t));
        at += wi_tensor_nbytes(t);
    }
    for (int size = 1; size <= 5; size += 2) {
        memset(got, 0xa5, total);
        for (int rank = 0; rank < size; rank++) {
            wi_piece_t *p;
            size_t np;
            ck_assert_int_eq(wi_partition(ext, n_ext, rank, size, &p, &np, NULL), 0);
            ck_assert_int_eq(wi_pieces_write(ext, p, np, 1 + rank % 3, memory_sink, got, NULL), 0);
            free(p);
        }
        ck_assert_msg(memcmp(want, got, total) == 0, "%d ranks: other bytes", size);
    }
    for (size_t i = 0; i < n_ext; i++)
        ck_assert(wi_tensor_is_deferred(ext[i].tensor)); /* computed, not kept */
    free(want);
    free(got);
    free(ext);
    wi_state_dict_free(eager);
    wi_state_dict_free(plan);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    char *buf = malloc(*len + 1);
    ck_assert_uint_eq(fread(buf, 1, *len, fp), *len);
    fclose(fp);
    return buf;
}

/* Headers-only, then three "ranks" fill the file through pwrite: the
 * same file as the ordinary writer's; a header that does not fit the
 * state dict is refused. */
START_TEST(headers_then_pieces)
{
    char dir[] = "/tmp/wi-partition-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char whole[64], parts[64];
    snprintf(whole, sizeof whole, "%s/whole.safetensors", dir);
    snprintf(parts, sizeof parts, "%s/parts.safetensors", dir);
    wi_state_dict_t *sd = model(0, WI_RNG_AVX2);
    json_t *meta = json_pack("{s:s}", "format", "pt");
    ck_assert_int_eq(wi_safetensors_save(whole, sd, (const wi_value_t *)meta, NULL), 0);

    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_headers_only(ctx, 1);
    FILE *fp = fopen(parts, "wb");
    ck_assert_int_eq(wi_checkpoint_write_progress(fp, parts, WI_CHECKPOINT_SAFETENSORS,
                                                  sd, (const wi_value_t *)meta, ctx, NULL), 0);
    ck_assert_int_eq(fclose(fp), 0);
    wi_error_t err;
    fp = fopen(parts, "wb");
    ck_assert_int_eq(wi_checkpoint_write_progress(fp, parts, WI_CHECKPOINT_PTH, sd,
                                                  (const wi_value_t *)meta, ctx, &err), WI_EUNSUPPORTED);
    fclose(fp);
    fp = fopen(parts, "wb");
    ck_assert_int_eq(wi_checkpoint_write_progress(fp, parts, WI_CHECKPOINT_SAFETENSORS,
                                                  sd, (const wi_value_t *)meta, ctx, NULL), 0);
    ck_assert_int_eq(fclose(fp), 0);
    struct stat a, b;
    ck_assert_int_eq(stat(whole, &a), 0);
    ck_assert_int_eq(stat(parts, &b), 0);
    ck_assert_int_eq(a.st_size, b.st_size); /* full size, data a hole */

    int fd = open(parts, O_RDWR);
    ck_assert_int_ge(fd, 0);
    for (int rank = 0; rank < 3; rank++) {
        wi_extent_t *ext = NULL;
        wi_piece_t *p;
        size_t n_ext = 0, np;
        ck_assert_int_eq(wi_extents_from_safetensors(fd, parts, sd, 0, &ext, &n_ext, NULL), 0);
        ck_assert_uint_eq(n_ext, wi_state_dict_size(sd));
        ck_assert_int_eq(wi_partition(ext, n_ext, rank, 3, &p, &np, NULL), 0);
        ck_assert_int_eq(wi_pieces_pwrite(ext, p, np, 2, &fd, 1, NULL), 0);
        free(p);
        free(ext);
    }
    close(fd);
    size_t la, lb;
    char *ba = slurp(whole, &la), *bb = slurp(parts, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(ba, bb, la) == 0);
    free(ba);
    free(bb);

    /* A header naming a tensor the dict lacks, and a truncated file. */
    wi_state_dict_t *other = wi_state_dict_new();
    int64_t one = 1;
    wi_state_dict_append_new(other, "w0", wi_tensor_new(WI_DTYPE_F32, 1, &one, NULL), NULL);
    fd = open(parts, O_RDONLY);
    wi_extent_t *ext = NULL;
    size_t n_ext = 0;
    ck_assert_int_eq(wi_extents_from_safetensors(fd, parts, other, 0, &ext, &n_ext, &err),
                     WI_EFORMAT);
    ck_assert_str_eq(err.path, "w0"); /* its size differs */
    wi_state_dict_t *none = wi_state_dict_new();
    ck_assert_int_eq(wi_extents_from_safetensors(fd, parts, none, 0, &ext, &n_ext, NULL),
                     WI_EFORMAT);
    wi_state_dict_free(none);
    close(fd);
    fd = open(parts, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, "\x10\0\0\0\0\0\0\0{}", 10), 10);
    close(fd);
    fd = open(parts, O_RDONLY);
    ck_assert_int_eq(wi_extents_from_safetensors(fd, parts, sd, 0, &ext, &n_ext, &err),
                     WI_EFORMAT);
    ck_assert_str_eq(err.source, parts);
    close(fd);
    free(ext);

    wi_state_dict_free(other);
    wi_context_free(ctx);
    wi_generator_free(g);
    json_decref(meta);
    wi_state_dict_free(sd);
    unlink(whole);
    unlink(parts);
    rmdir(dir);
}
END_TEST

/* A small deferred plan: normal_, uniform_, trunc_normal_ from seed,
 * the first with std, the generator on `threads` threads. */
static wi_state_dict_t *small_plan(uint64_t seed, wi_rng_profile_t profile,
                                   int threads, double std)
{
    static const int64_t sizes[] = {1031, 17, 100};
    wi_generator_t *g = wi_generator_new(seed, profile);
    wi_generator_set_threads(g, threads);
    wi_state_dict_t *sd = wi_state_dict_new();
    for (size_t i = 0; i < 3; i++) {
        wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 1, &sizes[i], NULL);
        int rc = i == 0 ? wi_normal_(t, g, 0, std, NULL)
                 : i == 1 ? wi_uniform_(t, g, -1, 1, NULL)
                          : wi_trunc_normal_(t, g, 0, 1, -0.5, 1.5, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert(wi_tensor_is_deferred(t));
        char name[16];
        snprintf(name, sizeof name, "w%zu", i);
        ck_assert_int_eq(wi_state_dict_append_new(sd, name, t, NULL), 0);
    }
    wi_generator_free(g);
    return sd;
}

/* 1 when tensor i of a and b have the same digest. */
static int same_digest(const wi_state_dict_t *a, const wi_state_dict_t *b, size_t i)
{
    unsigned char da[32], db[32];
    wi_tensor_digest(wi_state_dict_tensor(a, i), da);
    wi_tensor_digest(wi_state_dict_tensor(b, i), db);
    return memcmp(da, db, sizeof da) == 0;
}

/* wi_tensor_digest: what decides the values, nothing else.  The same
 * plan gives the same digests whatever the thread count; another seed,
 * profile or parameter changes the tensors it reaches and no other (the
 * uniform after a normal of another std starts at the same draw); a
 * tensor in memory is its bytes; a dtype view is its source and dtype. */
START_TEST(digests_tell_plans_apart)
{
    wi_state_dict_t *a = small_plan(7, WI_RNG_AVX2, 1, 0.02);
    wi_state_dict_t *threads = small_plan(7, WI_RNG_AVX2, 3, 0.02);
    wi_state_dict_t *seed = small_plan(8, WI_RNG_AVX2, 1, 0.02);
    wi_state_dict_t *profile = small_plan(7, WI_RNG_DEFAULT, 1, 0.02);
    wi_state_dict_t *std = small_plan(7, WI_RNG_AVX2, 1, 0.03);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_msg(same_digest(a, threads, i), "w%zu: threads change the digest", i);
        ck_assert_msg(!same_digest(a, seed, i), "w%zu: the seed is not in the digest", i);
        ck_assert_msg(!same_digest(a, profile, i), "w%zu: the profile is not in it", i);
    }
    ck_assert(!same_digest(a, std, 0));
    ck_assert(same_digest(a, std, 1) && same_digest(a, std, 2));
    /* In memory: the bytes.  Equal values give equal digests, one bit
     * another. */
    wi_state_dict_t *mem = small_plan(7, WI_RNG_AVX2, 1, 0.02);
    wi_state_dict_t *mem2 = small_plan(7, WI_RNG_AVX2, 1, 0.02);
    ck_assert_ptr_nonnull(wi_tensor_data(wi_state_dict_tensor(mem, 1)));
    ck_assert_ptr_nonnull(wi_tensor_data(wi_state_dict_tensor(mem2, 1)));
    ck_assert(same_digest(mem, mem2, 1));
    ck_assert(!same_digest(a, mem, 1)); /* a record is not its values */
    ((uint32_t *)wi_tensor_data(wi_state_dict_tensor(mem2, 1)))[16] ^= 1;
    ck_assert(!same_digest(mem, mem2, 1));
    /* Views: bf16 of equal plans agree, bf16 and f16 do not. */
    wi_state_dict_t *bf = wi_state_dict_to_dtype(a, WI_DTYPE_BF16, WI_RNG_AVX2, NULL);
    wi_state_dict_t *bf2 = wi_state_dict_to_dtype(threads, WI_DTYPE_BF16, WI_RNG_AVX2, NULL);
    wi_state_dict_t *f16 = wi_state_dict_to_dtype(a, WI_DTYPE_F16, WI_RNG_AVX2, NULL);
    ck_assert(wi_tensor_is_deferred(wi_state_dict_tensor(bf, 0)));
    ck_assert(same_digest(bf, bf2, 0) && !same_digest(bf, f16, 0) && !same_digest(bf, a, 0));
    wi_state_dict_t *all[] = {bf, bf2, f16, a, threads, seed, profile, std, mem, mem2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        wi_state_dict_free(all[i]);
}
END_TEST

static Suite *partition_suite(void)
{
    Suite *s = suite_create("partition");
    TCase *tc = tcase_create("partition");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_element_once);
    tcase_add_loop_test(tc, ranks_compute_eager_bytes, 0, 2);
    tcase_add_test(tc, headers_then_pieces);
    tcase_add_test(tc, digests_tell_plans_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return wi_test_run_suite(partition_suite());
}
