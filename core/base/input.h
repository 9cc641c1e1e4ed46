/* Opening input files (model JSON, init_cfg JSON, checkpoints) so that an
 * odd path is an error, never a hang: a FIFO, a directory, a device or a
 * socket is refused with what it is.  Internal; not exported. */
#ifndef WI_INPUT_H
#define WI_INPUT_H

#include <stddef.h>
#include <sys/stat.h>

#include "base/internal.h"

#include <jansson.h>
#include <weightinit/error.h>

/* Model and init_cfg files larger than this are refused (64 MiB: a JSON
 * description of millions of modules; bounds what a growing file costs). */
#define WI_JSON_FILE_MAX ((size_t)64 << 20)

/* Opens path read-only for a regular file: the open cannot block (a FIFO
 * without a writer), anything else is refused.  what names the expected
 * content in messages ("a checkpoint file", "a model file").  Returns the fd
 * (close-on-exec, blocking again) with *st filled, or WI_EFILE with err:
 * "PATH can not be found." (MMEngine's words) only for a missing file,
 * strerror for every other failure. */
WI_INTERNAL int wi_priv_open_input(const char *path, const char *what,
                                   struct stat *st, wi_error_t *err);

/* Reads all len bytes of fd from offset 0 into buf.  A file that ends
 * early or changes size or time meanwhile is an error (WI_EIO, "changed
 * while being read"); read errors carry strerror. */
WI_INTERNAL int wi_priv_read_input(int fd, const char *path,
                                   const struct stat *st, void *buf,
                                   size_t len, wi_error_t *err);

/* A JSON file (at most WI_JSON_FILE_MAX bytes) through wi_priv_open_input,
 * parsed with jansson's flags.  Syntax errors are WI_EINVAL with line and
 * column.  New reference, or NULL with err set. */
WI_INTERNAL json_t *wi_priv_load_json_input(const char *path, const char *what,
                                            size_t flags, wi_error_t *err);

#endif
