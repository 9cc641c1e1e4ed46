/* Shared by the fuzz harnesses: the read-back check (what a writer wrote,
 * the reader must give back: names, order, dtypes, shapes, bytes) and,
 * for the checkpoint harnesses, the write-back of a loaded state dict
 * through --dtype's conversion and either writer.  A difference is a bug
 * that no sanitizer sees, so it aborts, naming the tensor.  Header-only:
 * each harness is one program (tests/fuzz/build.sh). */
#ifndef WI_FUZZ_CHECK_H
#define WI_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/weightinit.h>

/* Compares want (what was written) with got (what was read back), in
 * order, or by name when by_name (an index lists the tensors in its
 * weight_map's order, which Hugging Face sorts).  Returns 0 when equal, 1
 * when a tensor of want has no data (a deferred tensor whose storage
 * could not be allocated: the caller decides whether that is allowed),
 * and aborts on a difference. */
static int fuzz_same_state_dict(const wi_state_dict_t *want, const wi_state_dict_t *got,
                                int by_name, const char *what)
{
    if (wi_state_dict_size(want) != wi_state_dict_size(got)) {
        fprintf(stderr, "%s: wrote %zu tensors, read back %zu\n", what,
                wi_state_dict_size(want), wi_state_dict_size(got));
        abort();
    }
    for (size_t i = 0; i < wi_state_dict_size(want); i++) {
        const char *name = wi_state_dict_name(want, i);
        const wi_tensor_t *a = wi_state_dict_tensor(want, i);
        size_t j = i;
        if (by_name && wi_state_dict_index(got, name, &j) < 0) {
            fprintf(stderr, "%s: '%s' was written, not read back\n", what, name);
            abort();
        }
        const wi_tensor_t *b = wi_state_dict_tensor(got, j);
        if (strcmp(name, wi_state_dict_name(got, j)) != 0 ||
            wi_tensor_dtype(a) != wi_tensor_dtype(b) || !wi_tensor_same_shape(a, b)) {
            fprintf(stderr, "%s: tensor %zu: wrote '%s' %s, read back '%s' %s\n", what,
                    i, name, wi_dtype_name(wi_tensor_dtype(a)), wi_state_dict_name(got, j),
                    wi_dtype_name(wi_tensor_dtype(b)));
            abort();
        }
        size_t n = (size_t)wi_tensor_nbytes(a);
        const void *pa = wi_tensor_const_data(a), *pb = wi_tensor_const_data(b);
        if (n && !pa)
            return 1;
        if (n && (!pb || memcmp(pa, pb, n) != 0)) {
            fprintf(stderr, "%s: the bytes of '%s' differ\n", what, name);
            abort();
        }
    }
    return 0;
}

#ifdef WI_CHECKPOINT_INTERNAL_H
/* State dicts up to this many tensor bytes are written back: the stride-0
 * views a reader expands may hand out up to 64 MiB from a tiny input. */
#define FUZZ_WRITE_BACK_LIMIT ((uint64_t)4 << 20)

/* What `init --dtype` and `convert` do with tensors, on tensors from a
 * hostile file: choice picks the dtype (f32, bf16, f16), the format
 * (safetensors with save_model's one-name-per-shared-tensor rule, or
 * .pth) and the bf16 NaN profile.  The file goes to memory (the stream
 * path of the writers) and is read back. */
static void fuzz_write_back(const wi_state_dict_t *sd, unsigned choice)
{
    static const wi_dtype_t dtypes[3] = {WI_DTYPE_F32, WI_DTYPE_BF16, WI_DTYPE_F16};
    wi_dtype_t dtype = dtypes[choice % 3];
    int pth = (choice / 3) % 2;
    wi_rng_profile_t profile = (choice / 6) % 2 ? WI_RNG_DEFAULT : WI_RNG_AVX2;
    uint64_t total = 0;
    for (size_t i = 0; i < wi_state_dict_size(sd); i++)
        total += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
    if (total > FUZZ_WRITE_BACK_LIMIT)
        return;
    wi_error_t err;
    wi_state_dict_t *conv = NULL, *once = NULL;
    if (dtype != WI_DTYPE_F32 && !(conv = wi_state_dict_to_dtype(sd, dtype, profile, &err)))
        return;
    const wi_state_dict_t *out = conv ? conv : sd;
    json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "dtype",
                             dtype == WI_DTYPE_F32 ? "float32"
                             : dtype == WI_DTYPE_BF16 ? "bfloat16" : "float16");
    if (meta && !pth && (once = wi_state_dict_remove_duplicates(out, (wi_value_t *)meta, &err)))
        out = once;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = meta && (pth || once) ? open_memstream(&buf, &len) : NULL;
    int rc = fp ? wi_checkpoint_write(fp, "fuzz-out",
                                      pth ? WI_CHECKPOINT_PTH : WI_CHECKPOINT_SAFETENSORS,
                                      out, (const wi_value_t *)meta, &err)
                : -1;
    if (fp && fclose(fp) != 0)
        abort();
    /* A few MiB: out of memory would be a message that lies. */
    if (fp && rc < 0 && err.code == WI_ENOMEM) {
        fprintf(stderr, "write-back: the %s writer says out of memory: %s\n",
                pth ? "pth" : "safetensors", err.text);
        abort();
    }
    wi_priv_blob_t *blob = rc == 0 ? wi_priv_blob_copy(buf, len, &err) : NULL;
    if (blob) {
        /* The top level: a tensor named "state_dict" is not MMEngine's
         * wrapper here. */
        wi_priv_select_t top = {WI_SEL_KEY, "", NULL, NULL};
        wi_state_dict_t *back = wi_priv_checkpoint_select(blob, "fuzz-out", &top, &err);
        free(top.chosen);
        json_decref(top.info);
        if (!back && err.code != WI_ENOMEM) {
            fprintf(stderr, "write-back: the reader refuses what the %s writer wrote: %s\n",
                    pth ? "pth" : "safetensors", err.text);
            abort();
        }
        if (back)
            fuzz_same_state_dict(out, back, 0, pth ? "write-back pth" : "write-back safetensors");
        wi_state_dict_free(back);
        wi_priv_blob_unref(blob);
    }
    free(buf);
    json_decref(meta);
    wi_state_dict_free(once);
    wi_state_dict_free(conv);
}
#endif

/* What every reader harness does with what it read: touch every byte
 * handed out (reads past the input are caught), then write it back in
 * the format and dtype the input's last byte picks. */
static void fuzz_check_read(const wi_state_dict_t *sd, const uint8_t *data, size_t size)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; sd && i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        const uint8_t *p = wi_tensor_const_data(t);
        for (uint64_t j = 0; j < wi_tensor_nbytes(t); j++)
            sink ^= p[j];
    }
    (void)sink;
    if (sd && size)
        fuzz_write_back(sd, data[size - 1]);
}

#endif
