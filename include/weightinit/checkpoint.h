/* Checkpoint files: safetensors (read and write) and PyTorch torch.save
 * files (read: the zip format and the legacy stream), read safely:
 * a hostile file gets an error, never a crash, never code execution. */
#ifndef WEIGHTINIT_CHECKPOINT_H
#define WEIGHTINIT_CHECKPOINT_H

#include <jansson.h>

#include <weightinit/error.h>
#include <weightinit/state_dict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes sd as safetensors to path: tensors in sd's order with their own
 * dtypes, metadata (a JSON object of string values, borrowed, may be
 * NULL) as "__metadata__".  Written to a temporary file in the same folder
 * and renamed, so on failure nothing (not even a partial file) is left at
 * path. */
int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const json_t *metadata, wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
