/* core/config.c: the configuration table's defaults, parser and help. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "synack/config.h"

struct field {
    const char *name;
    size_t offset;
    uint32_t def, min, max;
    const char *help;
};

static const struct field fields[] = {
#define SN_CONFIG_ROW(name, def, min, max, help) \
    {#name, offsetof(struct sn_config, name), def, min, max, help},
    SN_CONFIG_FIELDS(SN_CONFIG_ROW)
#undef SN_CONFIG_ROW
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static uint32_t *slot(struct sn_config *cfg, const struct field *f)
{
    return (uint32_t *)((char *)cfg + f->offset);
}

void sn_config_defaults(struct sn_config *cfg)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        *slot(cfg, &fields[i]) = fields[i].def;
}

int sn_config_set(struct sn_config *cfg, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return -EINVAL;
    size_t n = (size_t)(eq - assignment);
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (strlen(fields[i].name) != n || strncmp(fields[i].name, assignment, n) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(eq + 1, &end, 0);
        if (end == eq + 1 || *end || errno)
            return -EINVAL;
        if (v < fields[i].min || v > fields[i].max)
            return -ERANGE;
        *slot(cfg, &fields[i]) = (uint32_t)v;
        return 0;
    }
    return -EINVAL;
}

int sn_config_profile(struct sn_config *cfg, const char *name)
{
    if (strcmp(name, "linux") == 0) {
        cfg->tcp_init_cwnd_segs = 10;
        cfg->tcp_rto_init_ms = 1000;
        cfg->tcp_rto_min_ms = 200;
        cfg->tcp_delack_ms = 40;
        cfg->tcp_quickack_segs = 16;
        cfg->tcp_wscale = 8;
        return 0;
    }
    if (strcmp(name, "rfc") == 0) {
        sn_config_defaults(cfg);
        return 0;
    }
    return -EINVAL;
}

void sn_config_help(FILE *out)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        fprintf(out, "  %-24s default %-8u [%u..%u]  %s\n", fields[i].name, fields[i].def,
                fields[i].min, fields[i].max, fields[i].help);
}
