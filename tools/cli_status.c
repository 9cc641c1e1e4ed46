/* The exit status of every failure, decided in one place from the
 * library's WI_E* code and the stage of the run it arose in (docs/cli.md,
 * "Errors and exit status"): 2 when an input file or the command line is
 * wrong, 1 when the work itself failed (I/O, download, memory, a plugin
 * at run time). */
#include "cli.h"

int cli_status(int code, cli_stage_t stage)
{
    if (code == WI_ENOMEM)
        return EXIT_INIT_FAILED;
    /* Configs are checked while they run, as MMEngine does: a value, a
     * name or a file that is wrong is still the input's fault. */
    int input_fault = code == WI_EINVAL || code == WI_ENOTFOUND || code == WI_EFILE ||
                      code == WI_EFORMAT || code == WI_EUNSUPPORTED;
    switch (stage) {
    case CLI_STAGE_ARGS:
    case CLI_STAGE_INPUT: /* missing, unreadable or malformed input, bad plugin */
        /* ...but a file that fails or changes while it is being read is
         * a failure of the work: the same input may work again. */
        return code == WI_EIO ? EXIT_INIT_FAILED : EXIT_BAD_INPUT;
    case CLI_STAGE_WORK:
        return input_fault ? EXIT_BAD_INPUT : EXIT_INIT_FAILED;
    case CLI_STAGE_OUTPUT: /* an output the command line cannot mean */
        return code == WI_EINVAL || code == WI_EUNSUPPORTED ? EXIT_BAD_INPUT
                                                              : EXIT_INIT_FAILED;
    }
    return EXIT_INIT_FAILED;
}

int cli_fail(const wi_error_t *err, cli_stage_t stage)
{
    cli_error(err);
    return cli_status(err->code, stage);
}
