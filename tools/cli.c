/* tools/cli.c: error lines and option value parsers shared by the
 * subcommands (see cli.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

static void vline(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputs(suffix, stderr);
    fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("synack: ", fmt, ap, "");
    va_end(ap);
    return CLI_EXIT_RUNTIME;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("synack: ", fmt, ap, "");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_usage_cmd(const char *cmd, const char *fmt, ...)
{
    char prefix[64], suffix[80];
    snprintf(prefix, sizeof(prefix), "synack %s: ", cmd);
    snprintf(suffix, sizeof(suffix), " (see synack %s --help)", cmd);
    va_list ap;
    va_start(ap, fmt);
    vline(prefix, fmt, ap, suffix);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, int argc, char **argv)
{
    extern int optind, optopt;
    /* getopt_long leaves optind past the offending word for long options;
     * for a short option inside a bundle (-vx), optopt names it. */
    const char *word = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";
    char name[64];
    if (optopt && !(word[0] == '-' && word[1] == '-')) {
        snprintf(name, sizeof(name), "-%c", optopt);
    } else {
        size_t n = strcspn(word, "=");
        snprintf(name, sizeof(name), "%.*s", (int)(n < 60 ? n : 60), word);
    }
    if (c == ':')
        return cli_usage_cmd(cmd, "option '%s' needs a value", name);
    return cli_usage_cmd(cmd, "unknown option '%s'", name);
}

int cli_parse_ip4(const char *s, uint32_t *addr)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) /* exactly four decimal parts */
        return -1;
    *addr = ntohl(a.s_addr);
    return 0;
}

int cli_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s >= CLI_IP4_LEN)
        return -1;
    char ip[CLI_IP4_LEN];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = 0;
    uint32_t a, p;
    if (cli_parse_ip4(ip, &a) < 0 || cli_parse_u32(slash + 1, 0, 32, &p) < 0)
        return -1;
    *addr = a;
    *prefix_len = (uint8_t)p;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cli_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        int hi = hexval((unsigned char)s[0]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
        if (lo < 0)
            return -1;
        m[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s++ != ':')
            return -1;
    }
    if (*s)
        return -1;
    memcpy(mac, m, 6);
    return 0;
}

int cli_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

const char *cli_strerror(int err, char buf[CLI_ERR_LEN])
{
    snprintf(buf, CLI_ERR_LEN, "%s", strerror(err < 0 ? -err : err));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

const char *cli_fmt_ip4(uint32_t addr, char buf[CLI_IP4_LEN])
{
    snprintf(buf, CLI_IP4_LEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
             addr & 255);
    return buf;
}

const char *cli_fmt_mac(const uint8_t mac[6], char buf[CLI_MAC_LEN])
{
    snprintf(buf, CLI_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
    return buf;
}

int cli_opt_value(const char *name, int argc, char **argv, int *i, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        *i += 1;
        return 1;
    }
    if (a[n] != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[*i + 1];
    *i += 2;
    return 1;
}
