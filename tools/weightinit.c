/* weightinit: the command line front end (docs/cli.md).  Thin: it parses
 * argv, calls the library, prints, and chooses the exit status. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: weightinit <command> [options]\n"
    "\n"
    "commands:\n"
    "  init MODEL.json [options]   build the model, run init_weights, write a checkpoint\n"
    "  plan MODEL.json [--json]    what init would write, computing nothing\n"
    "  list                        registered initializer and module types\n"
    "  inspect FILE... [--json]    structure and tensors of checkpoints\n"
    "  convert IN OUT [--key K]    re-write a checkpoint's state dict (.safetensors, .pth)\n"
    "\n"
    "  weightinit init --help      options of init\n"
    "  weightinit --version        print the version\n";

int main(int argc, char **argv)
{
    cli_start_clock();
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_BAD_INPUT;
    }
    cli_catch_signals();
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("weightinit %s\n", wi_version());
        return 0;
    }
    /* Under mpirun every rank runs main: an init built without MPI would
     * run whole on every rank, each writing the whole output. */
    int refused = strcmp(cmd, "init") == 0 && !WI_HAVE_MPI
                      ? cli_refuse_ranks(cmd, "this weightinit was built without MPI")
                      : 0;
    if (refused != 0)
        return refused;
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0)
        return cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "convert") == 0)
        return cmd_convert(argc - 1, argv + 1);
    cli_errorf("unknown command '%s' (commands: init, plan, list, inspect, convert; "
               "see weightinit --help)", cmd);
    return EXIT_BAD_INPUT;
}
