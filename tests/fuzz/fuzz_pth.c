/* libFuzzer harness: the torch.save readers (zip format when the input
 * starts with "PK", else the legacy stream) on in-memory bytes, with
 * MMEngine's selection, the automatic one (convert) and every tensor at
 * any depth (inspect), chosen by the input's length; what it hands out
 * is then converted as --dtype does and written back (fuzz_check.h; the
 * input's last byte picks dtype and format).  See README.md for the
 * build and run commands. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "checkpoint/checkpoint_internal.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wi_error_t err;
    wi_priv_blob_t *blob = wi_priv_blob_copy(data, size, &err);
    if (!blob)
        return 0;
    wi_priv_select_t sel = {size % 3 == 1 ? WI_SEL_AUTO : WI_SEL_ALL, NULL, NULL, NULL};
    wi_priv_select_t *s = size % 3 ? &sel : NULL;
    wi_state_dict_t *sd = size >= 2 && data[0] == 'P' && data[1] == 'K'
                              ? wi_priv_pth_zip_select(blob, "fuzz", s, &err)
                              : wi_priv_pth_legacy_select(blob, "fuzz", s, &err);
    free(sel.chosen);
    json_decref(sel.info);
    fuzz_check_read(sd, data, size);
    wi_state_dict_free(sd);
    wi_priv_blob_unref(blob);
    return 0;
}
