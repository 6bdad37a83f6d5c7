/* tools/main.c: the `synack` command: global options and the dispatch to
 * one subcommand per file (the table is CLI_COMMANDS in cli.h). */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

struct command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
    void (*help)(FILE *out);
};

static const struct command commands[] = {
#define CLI_ROW(name, summary) {#name, summary, cmd_##name##_main, cmd_##name##_help},
    CLI_COMMANDS(CLI_ROW)
#undef CLI_ROW
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: synack [--help] [--version] COMMAND [OPTIONS...]\n"
                 "\n"
                 "synack is a TCP/IP stack in user space. Each command runs or inspects one.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "'synack COMMAND --help' (or 'synack help COMMAND') shows a command's options.\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
        printf("synack %s\n", SYNACK_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        const struct command *c = find(argv[2]);
        if (!c)
            return cli_usage("unknown command '%s' (see synack --help)", argv[2]);
        c->help(stdout);
        return CLI_EXIT_OK;
    }
    if (arg[0] == '-')
        return cli_usage("unknown option '%s' (see synack --help)", arg);
    const struct command *c = find(arg);
    if (!c)
        return cli_usage("unknown command '%s' (see synack --help)", arg);
    return c->main(argc - 1, argv + 1);
}
