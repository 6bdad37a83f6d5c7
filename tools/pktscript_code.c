/* tools/pktscript_code.c: packetdrill's %{ ... }% blocks, which are Python
 * run against a TCP_INFO snapshot. synack evaluates the common subset
 * itself: "assert EXPR[, MESSAGE]" statements over integers, tcpi_* names
 * and Linux's TCP_* state constants, with Python's operators and chained
 * comparisons. Division is integer division. Any other statement, or a
 * tcpi_* field synack's info struct has no counterpart for, makes the
 * script skipped (ps_code_unsupported), never silently passed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tools/pktscript.h"

/* Linux's TCP states (include/net/tcp_states.h), as tcpi_state reports. */
enum {
    LX_ESTABLISHED = 1,
    LX_SYN_SENT,
    LX_SYN_RECV,
    LX_FIN_WAIT1,
    LX_FIN_WAIT2,
    LX_TIME_WAIT,
    LX_CLOSE,
    LX_CLOSE_WAIT,
    LX_LAST_ACK,
    LX_LISTEN,
    LX_CLOSING,
};

static const struct {
    const char *name;
    int64_t value;
} constants[] = {
    {"TCP_ESTABLISHED", LX_ESTABLISHED}, {"TCP_SYN_SENT", LX_SYN_SENT},
    {"TCP_SYN_RECV", LX_SYN_RECV},       {"TCP_FIN_WAIT1", LX_FIN_WAIT1},
    {"TCP_FIN_WAIT2", LX_FIN_WAIT2},     {"TCP_TIME_WAIT", LX_TIME_WAIT},
    {"TCP_CLOSE", LX_CLOSE},             {"TCP_CLOSE_WAIT", LX_CLOSE_WAIT},
    {"TCP_LAST_ACK", LX_LAST_ACK},       {"TCP_LISTEN", LX_LISTEN},
    {"TCP_CLOSING", LX_CLOSING},         {"True", 1},
    {"False", 0},
};

/* synack's states by the names RFC 9293 gives them (sn_tcp_state_name). */
static const struct {
    const char *rfc;
    int64_t linux_state;
} states[] = {
    {"CLOSED", LX_CLOSE},          {"LISTEN", LX_LISTEN},         {"SYN-SENT", LX_SYN_SENT},
    {"SYN-RECEIVED", LX_SYN_RECV}, {"ESTABLISHED", LX_ESTABLISHED}, {"CLOSE-WAIT", LX_CLOSE_WAIT},
    {"FIN-WAIT-1", LX_FIN_WAIT1},  {"CLOSING", LX_CLOSING},       {"LAST-ACK", LX_LAST_ACK},
    {"FIN-WAIT-2", LX_FIN_WAIT2},  {"TIME-WAIT", LX_TIME_WAIT},
};

static int64_t segs(uint64_t bytes, uint32_t mss)
{
    return mss ? (int64_t)((bytes + mss - 1) / mss) : 0;
}

/* Each supported tcpi_* field, in Linux's units. */
static int64_t f_state(const struct ps_tcpi *t)
{
    const char *name = sn_tcp_state_name(t->info.state);
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(states[i].rfc, name) == 0)
            return states[i].linux_state;
    return -1;
}
static int64_t f_rto(const struct ps_tcpi *t)
{
    /* Linux reports the backed-off RTO (icsk_rto), within the maximum. */
    int64_t rto = (int64_t)t->info.rto_us << (t->info.backoff < 16 ? t->info.backoff : 16);
    return rto > t->rto_max_us ? t->rto_max_us : rto;
}
static int64_t f_cwnd(const struct ps_tcpi *t)
{
    return t->info.snd_mss ? t->info.cwnd / t->info.snd_mss : 0;
}
static int64_t f_ssthresh(const struct ps_tcpi *t)
{
    if (t->info.ssthresh >= 0x7fffffff)
        return 0x7fffffff; /* Linux's TCP_INFINITE_SSTHRESH */
    return t->info.snd_mss ? t->info.ssthresh / t->info.snd_mss : 0;
}
static int64_t f_rtt(const struct ps_tcpi *t) { return t->info.srtt_us; }
static int64_t f_rttvar(const struct ps_tcpi *t) { return t->info.rttvar_us; }
static int64_t f_retransmits(const struct ps_tcpi *t) { return t->info.retransmits; }
static int64_t f_backoff(const struct ps_tcpi *t) { return t->info.backoff; }
static int64_t f_total_retrans(const struct ps_tcpi *t) { return t->info.total_retrans; }
static int64_t f_unacked(const struct ps_tcpi *t) { return segs(t->info.unacked, t->info.snd_mss); }
static int64_t f_snd_mss(const struct ps_tcpi *t) { return t->info.snd_mss; }
static int64_t f_rcv_mss(const struct ps_tcpi *t) { return t->info.rcv_mss; }
static int64_t f_snd_wscale(const struct ps_tcpi *t) { return t->info.snd_wscale; }
static int64_t f_rcv_wscale(const struct ps_tcpi *t) { return t->info.rcv_wscale; }
static int64_t f_bytes_acked(const struct ps_tcpi *t) { return (int64_t)t->info.bytes_acked; }
static int64_t f_bytes_received(const struct ps_tcpi *t) { return (int64_t)t->info.bytes_received; }
static int64_t f_snd_wnd(const struct ps_tcpi *t) { return t->info.snd_wnd; }
static int64_t f_rcv_wnd(const struct ps_tcpi *t) { return t->info.rcv_wnd; }

static const struct {
    const char *name;
    int64_t (*get)(const struct ps_tcpi *);
} fields[] = {
    {"tcpi_state", f_state},
    {"tcpi_rto", f_rto},
    {"tcpi_snd_cwnd", f_cwnd},
    {"tcpi_snd_ssthresh", f_ssthresh},
    {"tcpi_rtt", f_rtt},
    {"tcpi_rttvar", f_rttvar},
    {"tcpi_retransmits", f_retransmits},
    {"tcpi_backoff", f_backoff},
    {"tcpi_total_retrans", f_total_retrans},
    {"tcpi_unacked", f_unacked},
    {"tcpi_snd_mss", f_snd_mss},
    {"tcpi_rcv_mss", f_rcv_mss},
    {"tcpi_snd_wscale", f_snd_wscale},
    {"tcpi_rcv_wscale", f_rcv_wscale},
    {"tcpi_bytes_acked", f_bytes_acked},
    {"tcpi_bytes_received", f_bytes_received},
    {"tcpi_snd_wnd", f_snd_wnd},
    {"tcpi_rcv_wnd", f_rcv_wnd},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* ---- a tiny expression evaluator --------------------------------------- */

struct ev {
    const char *p, *end;
    const struct ps_tcpi *ti; /* NULL: only check names (dry run) */
    char *err;                /* first problem, or NULL */
    char errbuf[200];
    char used[400];           /* "tcpi_rto=200000, ..." for messages */
    size_t used_len;
};

static void ev_error(struct ev *e, const char *fmt, const char *arg)
{
    if (e->err)
        return;
    snprintf(e->errbuf, sizeof(e->errbuf), fmt, arg);
    e->err = e->errbuf;
}

static void skip_ws(struct ev *e)
{
    while (e->p < e->end && (*e->p == ' ' || *e->p == '\t' || *e->p == '\r'))
        e->p++;
}

static bool eat(struct ev *e, const char *s)
{
    skip_ws(e);
    size_t n = strlen(s);
    if ((size_t)(e->end - e->p) < n || memcmp(e->p, s, n) != 0)
        return false;
    /* keywords must not run into a name: "and" is not "andx" */
    if (isalpha((unsigned char)s[0]) && e->p + n < e->end &&
        (isalnum((unsigned char)e->p[n]) || e->p[n] == '_'))
        return false;
    e->p += n;
    return true;
}

static int64_t lookup(struct ev *e, const char *name)
{
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
        if (strcmp(constants[i].name, name) == 0)
            return constants[i].value;
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (strcmp(fields[i].name, name) != 0)
            continue;
        if (!e->ti)
            return 0;
        if (!e->ti->valid) {
            ev_error(e, "%s: no connection to take TCP_INFO from", name);
            return 0;
        }
        int64_t v = fields[i].get(e->ti);
        if (e->used_len < sizeof(e->used) - 1 && !strstr(e->used, name)) {
            int w = snprintf(e->used + e->used_len, sizeof(e->used) - e->used_len, "%s%s=%lld",
                             e->used_len ? ", " : "", name, (long long)v);
            if (w > 0)
                e->used_len += (size_t)w;
        }
        return v;
    }
    if (strncmp(name, "tcpi_", 5) == 0)
        ev_error(e, "%s is a TCP_INFO field synack's info struct does not have", name);
    else
        ev_error(e, "name '%s' is not supported in %%{ }%% blocks", name);
    return 0;
}

static int64_t or_expr(struct ev *e);

static int64_t primary(struct ev *e)
{
    skip_ws(e);
    if (e->p >= e->end) {
        ev_error(e, "%s", "expression ends too early");
        return 0;
    }
    if (eat(e, "(")) {
        int64_t v = or_expr(e);
        if (!eat(e, ")"))
            ev_error(e, "%s", "missing ')'");
        return v;
    }
    if (isdigit((unsigned char)*e->p)) {
        char *endp;
        int64_t v = strtoll(e->p, &endp, 0);
        e->p = endp;
        return v;
    }
    if (isalpha((unsigned char)*e->p) || *e->p == '_') {
        const char *s = e->p;
        while (e->p < e->end && (isalnum((unsigned char)*e->p) || *e->p == '_'))
            e->p++;
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(e->p - s), s);
        return lookup(e, name);
    }
    char c[2] = {*e->p, 0};
    ev_error(e, "unexpected '%s' in expression", c);
    return 0;
}

static int64_t unary(struct ev *e)
{
    if (eat(e, "-"))
        return -unary(e);
    if (eat(e, "+"))
        return unary(e);
    if (eat(e, "~"))
        return ~unary(e);
    return primary(e);
}

static int64_t term(struct ev *e)
{
    int64_t v = unary(e);
    for (;;) {
        int op;
        if (eat(e, "//"))
            op = '/';
        else if (eat(e, "*"))
            op = '*';
        else if (eat(e, "/"))
            op = '/';
        else if (eat(e, "%"))
            op = '%';
        else
            return v;
        int64_t r = unary(e);
        if (op == '*') {
            v *= r;
        } else if (r == 0) {
            if (e->ti)
                ev_error(e, "%s", "division by zero");
            v = 0;
        } else {
            /* Python floors toward minus infinity. */
            int64_t q = v / r, m = v % r;
            if (m != 0 && ((m < 0) != (r < 0)))
                q--, m += r;
            v = op == '/' ? q : m;
        }
    }
}

static int64_t arith(struct ev *e)
{
    int64_t v = term(e);
    for (;;) {
        if (eat(e, "+"))
            v += term(e);
        else if (eat(e, "-"))
            v -= term(e);
        else
            return v;
    }
}

static int64_t bit_and(struct ev *e)
{
    int64_t v = arith(e);
    while (eat(e, "&"))
        v &= arith(e);
    return v;
}

static int64_t bit_or(struct ev *e)
{
    int64_t v = bit_and(e);
    for (;;) {
        if (eat(e, "|"))
            v |= bit_and(e);
        else if (eat(e, "^"))
            v ^= bit_and(e);
        else
            return v;
    }
}

/* Python chains comparisons: a < b <= c is a < b and b <= c. */
static int64_t comparison(struct ev *e)
{
    int64_t left = bit_or(e);
    bool all = true, any = false;
    for (;;) {
        int op;
        if (eat(e, "=="))
            op = 'e';
        else if (eat(e, "!="))
            op = 'n';
        else if (eat(e, "<="))
            op = 'l';
        else if (eat(e, ">="))
            op = 'g';
        else if (eat(e, "<"))
            op = '<';
        else if (eat(e, ">"))
            op = '>';
        else
            break;
        any = true;
        int64_t right = bit_or(e);
        bool ok = op == 'e'   ? left == right
                  : op == 'n' ? left != right
                  : op == 'l' ? left <= right
                  : op == 'g' ? left >= right
                  : op == '<' ? left < right
                              : left > right;
        all = all && ok;
        left = right;
    }
    return any ? all : left;
}

static int64_t not_expr(struct ev *e)
{
    if (eat(e, "not"))
        return !not_expr(e);
    return comparison(e);
}

static int64_t and_expr(struct ev *e)
{
    int64_t v = not_expr(e);
    while (eat(e, "and")) {
        int64_t r = not_expr(e);
        v = v && r;
    }
    return v;
}

static int64_t or_expr(struct ev *e)
{
    int64_t v = and_expr(e);
    while (eat(e, "or")) {
        int64_t r = and_expr(e);
        v = v || r;
    }
    return v;
}

/* Runs every statement; stops at the first failure. Returns 0 or -1. */
static int run_code(const char *code, const struct ps_tcpi *ti, char *msg, size_t len)
{
    const char *p = code;
    while (*p) {
        const char *eol = p;
        while (*eol && *eol != '\n' && *eol != ';')
            eol++;
        /* Strip a trailing comment and blanks. */
        const char *end = p;
        while (end < eol && *end != '#')
            end++;
        while (end > p && isspace((unsigned char)end[-1]))
            end--;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p < end) {
            struct ev e = {.p = p, .end = end, .ti = ti};
            if (!eat(&e, "assert")) {
                snprintf(msg, len, "statement '%.*s' is not supported in %%{ }%% blocks "
                         "(only assert)", (int)(end - p), p);
                return -1;
            }
            const char *expr_start = e.p;
            int64_t v = or_expr(&e);
            const char *expr_end = e.p;
            if (!e.err && eat(&e, ","))
                (void)or_expr(&e); /* the message: names must still be known */
            skip_ws(&e);
            if (!e.err && e.p != e.end)
                ev_error(&e, "cannot parse '%s'", e.p);
            while (expr_start < expr_end && isspace((unsigned char)*expr_start))
                expr_start++;
            if (e.err) {
                snprintf(msg, len, "%s", e.err);
                return -1;
            }
            if (ti && !v) {
                snprintf(msg, len, "assertion failed: %.*s (%s)", (int)(expr_end - expr_start),
                         expr_start, e.used_len ? e.used : "no tcpi_ fields");
                return -1;
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    return 0;
}

const char *ps_code_unsupported(const char *code, char *buf, size_t len)
{
    char msg[300];
    if (run_code(code, NULL, msg, sizeof(msg)) == 0)
        return NULL;
    snprintf(buf, len, "%%{ }%% block: %s", msg);
    return buf;
}

int ps_code_eval(const char *code, const struct ps_tcpi *ti, char *msg, size_t len)
{
    return run_code(code, ti, msg, len);
}
