/* libFuzzer harness: the safetensors reader on in-memory bytes; what it
 * hands out is then converted as --dtype does and written back
 * (fuzz_check.h; the input's last byte picks dtype and format).  See
 * README.md for the build and run commands. */
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/checkpoint_internal.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wi_error_t err;
    wi_priv_blob_t *blob = wi_priv_blob_copy(data, size, &err);
    if (!blob)
        return 0;
    wi_state_dict_t *sd = wi_priv_safetensors_read(blob, "fuzz", &err);
    fuzz_check_read(sd, data, size);
    wi_state_dict_free(sd);
    wi_priv_blob_unref(blob);
    return 0;
}
