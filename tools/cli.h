/* tools/cli.h: what every `synack` subcommand shares: the command table,
 * exit statuses, one-line error messages and option value parsers.
 *
 * Adding a command: write tools/NAME.c with cmd_NAME_main() and
 * cmd_NAME_help(), and add one X(NAME, "summary") line to CLI_COMMANDS. */
#ifndef SYNACK_TOOLS_CLI_H
#define SYNACK_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>


/* X(name, one-line summary), in the order `synack --help` lists them. */
#define CLI_COMMANDS(X) \
    X(serve, "run a stack on a TAP or TUN device; it answers ARP and ping")                       \
    X(connect, "netcat over synack: stdin/stdout over a TCP connection to HOST:PORT")          \
    X(get, "fetch URLs over synack's TCP with HTTP/1.0, 1.1 or 2; count the handshakes")     \
    X(sim, "deterministic simulations: two stacks, seeded impairments, virtual time")          \
    X(wire, "bridge two TAP devices through the impairment layer (netem in user space)")     \
    X(pktscript, "run packetdrill scripts against one stack on a virtual clock")             \
    X(trace, "draw the TCP connections in a capture (pcap/pcapng) as ladder diagrams")       \
    X(ss, "list a running stack's connections, like ss -ti")                                  \
    X(netstat, "print a running stack's counters, like netstat -s")

/* main: argv[0] is the command's name; returns the exit status.
 * help: the full `synack NAME --help` text. */
#define CLI_DECLARE(name, summary)                  \
    int cmd_##name##_main(int argc, char **argv); \
    void cmd_##name##_help(FILE *out);
CLI_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE

/* Exit statuses of every command. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_RUNTIME = 1, /* the command ran and failed (device, file, ...) */
    CLI_EXIT_USAGE = 2,   /* bad command line: nothing was done */
};

/* Prints "synack: MESSAGE" on stderr and returns CLI_EXIT_RUNTIME. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "synack: MESSAGE" on stderr and returns CLI_EXIT_USAGE: a bad
 * option value, where the message itself says what is expected. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "synack CMD: MESSAGE (see synack CMD --help)" on stderr and returns
 * CLI_EXIT_USAGE: unknown options, missing or conflicting ones. */
int cli_usage_cmd(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Turns getopt_long's '?' (unknown option) or ':' (missing value; the
 * optstring must start with ':') into one line; returns CLI_EXIT_USAGE.
 * Call right after getopt_long returned @c, with its @argc and @argv. */
int cli_getopt_error(const char *cmd, int c, int argc, char **argv);

/* For commands whose options pass through to another parser: matches
 * "--name VALUE" or "--name=VALUE" at argv[*i]. Returns 1 (and *val, with
 * *i moved past what it used), 0 (another option), or -1 (the value is
 * missing). */
int cli_opt_value(const char *name, int argc, char **argv, int *i, const char **val);

/* Parsers: return 0 and store the value, or -1 (nothing stored). Addresses
 * come back in host order. */
int cli_parse_ip4(const char *s, uint32_t *addr);
int cli_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len); /* A.B.C.D/NN */
int cli_parse_mac(const char *s, uint8_t mac[6]);                        /* xx:xx:xx:xx:xx:xx */
int cli_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out); /* decimal */

/* strerror(-err) starting lower case, to sit inside a message. */
#define CLI_ERR_LEN 128
const char *cli_strerror(int err, char buf[CLI_ERR_LEN]);

/* Formatters into caller buffers; return the buffer. */
#define CLI_IP4_LEN 16
#define CLI_MAC_LEN 18
const char *cli_fmt_ip4(uint32_t addr, char buf[CLI_IP4_LEN]);
const char *cli_fmt_mac(const uint8_t mac[6], char buf[CLI_MAC_LEN]);

#endif
