/* weightinit list [--plugin PATH]...: every registered type and the file
 * that registered it, the built-in layer types ("built-in"), and the
 * plugins that failed to load. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_load_plugins(const char *const *paths, int n, wi_error_t *err)
{
    wi_registry_t *reg = wi_registry_default();
    wi_registry_load_builtin(reg);
    for (int i = 0; i < n; i++)
        if (wi_registry_load_plugin(reg, paths[i], err) < 0)
            return -1;
    return 0;
}

void cli_load_plugin_path(void)
{
    wi_registry_t *reg = wi_registry_default();
    wi_registry_load_path(reg, getenv("WEIGHTINIT_PLUGIN_PATH"));
    for (size_t i = 0; i < wi_registry_failure_count(reg); i++)
        cli_log(WI_LOG_WARNING, wi_registry_failure_message(reg, i), NULL);
}

int cmd_list(int argc, char **argv)
{
    const char *plugins[64];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc && n < 64) {
            if (cli_check_path("--plugin", argv[i + 1]) != 0)
                return EXIT_BAD_INPUT;
            plugins[n++] = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: weightinit list [--plugin PATH]...");
            return 0;
        } else {
            cli_errorf("list: unexpected argument '%s' (usage: weightinit list "
                       "[--plugin PATH]...)", argv[i]);
            return EXIT_BAD_INPUT;
        }
    }
    wi_error_t err;
    if (cli_load_plugins(plugins, n, &err) < 0)
        return cli_fail(&err, CLI_STAGE_INPUT);
    cli_load_plugin_path();
    wi_registry_t *reg = wi_registry_default();
    size_t size = wi_registry_size(reg); /* initializers first, then modules */
    for (size_t i = 0; i < size; i++)
        if (wi_registry_kind(reg, i) == WI_REGISTRY_INITIALIZER)
            cli_printf(stdout, "%-12s %-20s %s\n", "initializer", wi_registry_name(reg, i),
                       wi_registry_origin(reg, i));
    for (size_t i = 0; i < wi_layer_builtin_count(); i++)
        printf("%-12s %-20s %s\n", "module", wi_layer_builtin_name(i), "built-in");
    for (size_t i = 0; i < size; i++)
        if (wi_registry_kind(reg, i) == WI_REGISTRY_MODULE_TYPE)
            cli_printf(stdout, "%-12s %-20s %s\n", "module", wi_registry_name(reg, i),
                       wi_registry_origin(reg, i));
    for (size_t i = 0; i < wi_registry_failure_count(reg); i++)
        cli_printf(stdout, "%-12s %-20s %s\n", "broken", "-",
                   wi_registry_failure_message(reg, i));
    return 0;
}
