/* core/stats.c: counter names and printing. */
#include <string.h>

#include "core/stats.h"

static const char *const counter_layer[] = {
#define X(layer, name, desc) #layer,
    SN_COUNTERS(X)
#undef X
};
static const char *const counter_name[] = {
#define X(layer, name, desc) #name,
    SN_COUNTERS(X)
#undef X
};
static const char *const counter_desc[] = {
#define X(layer, name, desc) desc,
    SN_COUNTERS(X)
#undef X
};
static const char *const drop_name[] = {
#define X(name, desc) #name,
    SN_DROP_REASONS(X)
#undef X
};
static const char *const drop_desc[] = {
#define X(name, desc) desc,
    SN_DROP_REASONS(X)
#undef X
};

void pkt_drop(struct sn_stats *st, struct pkt *p, enum sn_drop reason)
{
    st->drop[reason]++;
    pkt_free(p);
}

const char *sn_counter_layer(enum sn_counter c) { return counter_layer[c]; }
const char *sn_counter_name(enum sn_counter c) { return counter_name[c]; }
const char *sn_counter_desc(enum sn_counter c) { return counter_desc[c]; }
const char *sn_drop_name(enum sn_drop d) { return drop_name[d]; }
const char *sn_drop_desc(enum sn_drop d) { return drop_desc[d]; }

void sn_stats_print(const struct sn_stats *st, FILE *out, int all)
{
    const char *layer = NULL;
    for (int i = 0; i < SN_C_COUNT; i++) {
        if (!all && st->c[i] == 0)
            continue;
        if (!layer || strcmp(layer, counter_layer[i]) != 0) {
            layer = counter_layer[i];
            fprintf(out, "%s:\n", layer);
        }
        fprintf(out, "    %llu %s\n", (unsigned long long)st->c[i], counter_desc[i]);
    }
    int header = 0;
    for (int i = 0; i < SN_DROP_COUNT; i++) {
        if (!all && st->drop[i] == 0)
            continue;
        if (!header++)
            fprintf(out, "drops:\n");
        fprintf(out, "    %llu %s (%s)\n", (unsigned long long)st->drop[i], drop_desc[i],
                drop_name[i]);
    }
}

void sn_stats_print_prometheus(const struct sn_stats *st, FILE *out)
{
    for (int i = 0; i < SN_C_COUNT; i++) {
        fprintf(out, "# HELP synack_%s_%s %s\n# TYPE synack_%s_%s counter\n", counter_layer[i],
                counter_name[i], counter_desc[i], counter_layer[i], counter_name[i]);
        fprintf(out, "synack_%s_%s %llu\n", counter_layer[i], counter_name[i],
                (unsigned long long)st->c[i]);
    }
    fprintf(out, "# HELP synack_drops_total packets dropped, by reason\n"
                 "# TYPE synack_drops_total counter\n");
    for (int i = 0; i < SN_DROP_COUNT; i++)
        fprintf(out, "synack_drops_total{reason=\"%s\"} %llu\n", drop_name[i],
                (unsigned long long)st->drop[i]);
}
