/* Output files of one run, committed together or not at all, and never
 * onto a file the run reads.  What git does for its index and refs,
 * applied to every file weightinit writes:
 *
 * - A regular file (or a path that does not exist yet) is written to a
 *   hidden temporary beside its final place, created with O_EXCL under an
 *   unpredictable name, `.NAME.wi-tmp-HOST-PID-RANDOM` (HOST: 8 hex digits
 *   naming this host and PID namespace), and renamed onto NAME only by
 *   wi_output_group_commit.  An existing file's permission bits (and, for
 *   root, owner) are kept; a new one gets 0666 less the umask.
 * - A symbolic link is followed: its final target is replaced (or created,
 *   for a dangling link), the link itself stays a link.
 * - A FIFO or a character device (/dev/null, a terminal) is written to
 *   directly, without a temporary: its bytes cannot be taken back.
 * - A directory, a socket or a block device is refused (WI_EINVAL).
 * - An output that resolves to the same file as an input, or as another
 *   output of the group (through `./`, `..`, symbolic or hard links, also
 *   for paths that do not exist yet), is refused (WI_EINVAL) with one
 *   message naming both.
 *
 * Litter: every live temporary is in a process-wide registry that
 * wi_output_remove_temps empties from a signal handler.  A temporary that
 * a killed process (SIGKILL, power loss) left behind is removed by the
 * next wi_output_group_open into the same folder when its HOST is this
 * host and PID namespace and no process with its PID is running. */
#ifndef WEIGHTINIT_OUTPUT_H
#define WEIGHTINIT_OUTPUT_H

#include <stdio.h>

#include <weightinit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wi_output_group wi_output_group_t;

/* A new, empty group (NULL when out of memory).  Free with
 * wi_output_group_free. */
wi_output_group_t *wi_output_group_new(void);

/* Registers a file the run reads: no output of the group may resolve to
 * it.  Paths that do not exist or are not regular files are ignored (0).
 * May be called after outputs are open (a checkpoint found while
 * running): then WI_EINVAL when an open output is that file. */
int wi_output_group_add_input(wi_output_group_t *g, const char *path,
                              wi_error_t *err);

/* Opens an output (see the rules above) and returns the stream to write
 * it through, owned by the group (do not fclose it).  path is copied and
 * names the output in messages.  NULL with err set: WI_EINVAL for a path
 * that may not be written (same file as an input or another output, a
 * directory, socket or block device, an empty path), WI_EIO when the
 * system refuses (strerror in the message; also an existing file of
 * another user in a sticky folder, which rename could not replace),
 * WI_ENOMEM. */
FILE *wi_output_group_open(wi_output_group_t *g, const char *path,
                           wi_error_t *err);

/* Adds a caller-owned, already open stream (standard output) as a direct
 * output named name in messages: checked against the inputs and outputs
 * like a path, flushed (never closed) by commit. */
int wi_output_group_add_stream(wi_output_group_t *g, FILE *fp,
                               const char *name, wi_error_t *err);

/* The outputs opened so far, in the order they were opened; for output
 * i (< wi_output_group_size): the path it was opened as, and the
 * temporary it is being written to (NULL for a direct output: a FIFO, a
 * device, a stream).  Borrowed strings, valid until the group is
 * committed or freed.  For other processes that write parts of the same
 * files (partition.h, docs/mpi.md). */
size_t wi_output_group_size(const wi_output_group_t *g);
const char *wi_output_group_name(const wi_output_group_t *g, size_t i);
const char *wi_output_group_temp(const wi_output_group_t *g, size_t i);

/* Flushes and fsyncs every output and checks for write errors (the
 * message carries strerror: "No space left on device"), then checks that
 * every temporary can be renamed (still in place, its target not a
 * directory, its folder writable); only when all succeeded renames
 * every temporary onto its place, then fsyncs each folder.  A failure
 * before the first rename removes every temporary and leaves every
 * existing file untouched.  WI_ESTATE when called twice. */
int wi_output_group_commit(wi_output_group_t *g, wi_error_t *err);

/* sync 0: commit without fsync (the data and the folders are left to the
 * kernel's writeback, as torch.save and most tools leave them): faster,
 * and the renames stay atomic for every reader, but after a power loss
 * or system crash a committed file may be empty or partial.  The default
 * (1) syncs. */
void wi_output_group_set_sync(wi_output_group_t *g, int sync);

/* Closes the streams, removes every uncommitted temporary, frees g.
 * NULL is accepted. */
void wi_output_group_free(wi_output_group_t *g);

/* Unlinks every temporary of every live group in the process.  Async-
 * signal-safe (unlink on preallocated strings only): for a SIGINT/SIGTERM
 * handler that then ends the process.  The library installs no handler. */
void wi_output_remove_temps(void);

#ifdef __cplusplus
}
#endif
#endif
