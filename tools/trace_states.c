/* tools/trace_states.c: the stack's own state trace, as JSON lines.
 *
 * `synack serve --trace FILE` writes one object per state change:
 *
 *   {"t":1700000000.123456,"local":"192.0.2.2:80","remote":"192.0.2.1:40000",
 *    "from":"LISTEN","to":"SYN-RECEIVED","cause":"segment S seq=1 ack=0 len=0",
 *    "iss":..,"irs":..,"snd_una":..,"snd_nxt":..,"snd_wnd":..,"rcv_nxt":..,
 *    "rcv_wnd":..,"cwnd":..,"ssthresh":..,"srtt_us":..,"rto_us":..}
 *
 * "t" is wall-clock time (seconds since the epoch, microseconds), the same
 * clock as the stack's --pcap and tcpdump's captures, so the two line up.
 * `synack trace --states FILE` reads it back and puts each change on the
 * row of the segment that caused it (by sequence numbers and flags), or for
 * a timer or an application call, on the segment the stack sent then, or on
 * a row of its own at its time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/time.h"
#include "synack/synack.h"
#include "tcp/tcp.h"
#include "tools/cli.h"
#include "tools/trace.h"
#include "wire/ip4.h"

/* ---- writing ------------------------------------------------------------- */

struct trace_writer {
    FILE *f;
    int64_t wall_offset; /* wall clock - the stack's clock, µs */
};

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void write_event(const struct sn_state_event *e, void *user)
{
    struct trace_writer *w = user;
    FILE *f = w->f;
    int64_t t = e->now + w->wall_offset;
    char l[16], r[16];
    fprintf(f, "{\"t\":%lld.%06lld,\"local\":\"%s:%u\",\"remote\":\"%s:%u\",\"from\":",
            (long long)(t / 1000000), (long long)(t % 1000000), ip4_fmt(e->local_addr, l),
            e->local_port, ip4_fmt(e->remote_addr, r), e->remote_port);
    json_str(f, sn_tcp_state_name(e->from));
    fputs(",\"to\":", f);
    json_str(f, sn_tcp_state_name(e->to));
    fputs(",\"cause\":", f);
    json_str(f, e->cause);
    fprintf(f,
            ",\"iss\":%u,\"irs\":%u,\"snd_una\":%u,\"snd_nxt\":%u,\"snd_wnd\":%u,\"rcv_nxt\":%u,"
            "\"rcv_wnd\":%u,\"cwnd\":%u,\"ssthresh\":%u,\"srtt_us\":%u,\"rto_us\":%u}\n",
            e->iss, e->irs, e->snd_una, e->snd_nxt, e->snd_wnd, e->rcv_nxt, e->rcv_wnd, e->cwnd,
            e->ssthresh, e->srtt_us, e->rto_us);
}

int trace_writer_start(struct sn_stack *s, const char *path, struct trace_writer **out)
{
    struct trace_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->f = fopen(path, "we");
    if (!w->f) {
        int err = -errno;
        free(w);
        return err;
    }
    /* A line per change, whole, so the file can be read while the stack
     * runs and survives a kill. */
    setvbuf(w->f, NULL, _IOLBF, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w->wall_offset = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - clock_mono_now(NULL);
    sn_stack_set_state_trace(s, write_event, w);
    *out = w;
    return 0;
}

void trace_writer_stop(struct sn_stack *s, struct trace_writer *w)
{
    if (s)
        sn_stack_set_state_trace(s, NULL, NULL);
    if (!w)
        return;
    fclose(w->f);
    free(w);
}

/* ---- reading: just enough JSON for flat objects --------------------------- */

struct jfield {
    char key[24];
    char val[128]; /* strings unescaped; numbers, true, false, null as written */
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* A JSON string at @p into @out (truncated to @len); NULL on bad syntax.
 * Control characters become '?': the text goes to terminals and XML. */
static const char *jstring(const char *p, char *out, size_t len)
{
    if (*p++ != '"')
        return NULL;
    size_t n = 0;
    while (*p && *p != '"') {
        char ch = *p++;
        if (ch == '\\') {
            ch = *p++;
            switch (ch) {
            case 'n':
                ch = '\n';
                break;
            case 't':
                ch = '\t';
                break;
            case 'r':
                ch = '\r';
                break;
            case 'b':
                ch = '\b';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9')
                        v |= (unsigned)(h - '0');
                    else if ((h | 32) >= 'a' && (h | 32) <= 'f')
                        v |= (unsigned)((h | 32) - 'a' + 10);
                    else
                        return NULL;
                }
                ch = v < 0x80 ? (char)v : '?';
                break;
            }
            case '"':
            case '\\':
            case '/':
                break;
            default:
                return NULL;
            }
        }
        if (n + 1 < len)
            out[n++] = (unsigned char)ch < 0x20 || ch == 0x7f ? '?' : ch;
    }
    if (*p != '"')
        return NULL;
    out[n] = 0;
    return p + 1;
}

/* Parses one object of scalar values. Returns the number of fields, or -1. */
static int jobject(const char *p, struct jfield *f, int max)
{
    int n = 0;
    p = skip_ws(p);
    if (*p++ != '{')
        return -1;
    p = skip_ws(p);
    if (*p == '}')
        return 0;
    for (;;) {
        struct jfield tmp, *cur = n < max ? &f[n] : &tmp;
        p = jstring(skip_ws(p), cur->key, sizeof(cur->key));
        if (!p)
            return -1;
        p = skip_ws(p);
        if (*p++ != ':')
            return -1;
        p = skip_ws(p);
        if (*p == '"') {
            p = jstring(p, cur->val, sizeof(cur->val));
            if (!p)
                return -1;
        } else {
            size_t k = strcspn(p, ",} \t\r\n");
            if (k == 0 || k >= sizeof(cur->val))
                return -1;
            memcpy(cur->val, p, k);
            cur->val[k] = 0;
            p += k;
        }
        if (n < max)
            n++;
        p = skip_ws(p);
        if (*p == '}')
            return *skip_ws(p + 1) ? -1 : n;
        if (*p++ != ',')
            return -1;
    }
}

static const char *jget(const struct jfield *f, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].key, key) == 0)
            return f[i].val;
    return NULL;
}

static int parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > UINT32_MAX || s[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "1700000000.123456" -> µs, without a double's rounding. Seconds since
 * the epoch: not negative, and few enough that the µs fit in 64 bits. */
static int parse_time(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long sec = strtoll(s, &end, 10);
    if (errno || end == s || sec < 0 || sec > INT64_MAX / 1000000 - 1)
        return -1;
    int64_t us = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 6)
                us = us * 10 + (*end - '0');
        while (digits < 6) {
            us *= 10;
            digits++;
        }
    }
    if (*end)
        return -1;
    *out = (int64_t)sec * 1000000 + us;
    return 0;
}

static int parse_ep(const char *s, uint32_t *addr, uint16_t *port)
{
    char ip[24];
    const char *colon = s ? strrchr(s, ':') : NULL;
    uint32_t p;
    if (!colon || (size_t)(colon - s) >= sizeof(ip) || parse_u32(colon + 1, &p) < 0 || p > 65535)
        return -1;
    memcpy(ip, s, (size_t)(colon - s));
    ip[colon - s] = 0;
    if (ip4_parse_addr(ip, addr) < 0)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

static int parse_state(const char *s)
{
    for (int i = TCPS_CLOSED; s && i <= TCPS_TIME_WAIT; i++)
        if (strcmp(s, sn_tcp_state_name(i)) == 0)
            return i;
    return -1;
}

static int parse_event(const char *line, struct tr_event *e, const char **why)
{
    struct jfield f[32];
    int n = jobject(line, f, 32);
    if (n < 0) {
        *why = "not a JSON object";
        return -1;
    }
    memset(e, 0, sizeof(e[0]));
    if (parse_time(jget(f, n, "t"), &e->t_us) < 0) {
        *why = "no time \"t\" (seconds since the epoch)";
        return -1;
    }
    if (parse_ep(jget(f, n, "local"), &e->laddr, &e->lport) < 0 ||
        parse_ep(jget(f, n, "remote"), &e->raddr, &e->rport) < 0) {
        *why = "no \"local\" or \"remote\" address:port";
        return -1;
    }
    e->from = parse_state(jget(f, n, "from"));
    e->to = parse_state(jget(f, n, "to"));
    if (e->from < 0 || e->to < 0) {
        *why = "no TCP state in \"from\" or \"to\"";
        return -1;
    }
    const char *cause = jget(f, n, "cause");
    snprintf(e->cause, sizeof(e->cause), "%s", cause ? cause : "?");
    static const struct {
        const char *key;
        size_t off;
    } nums[] = {
        {"iss", offsetof(struct tr_event, iss)},
        {"irs", offsetof(struct tr_event, irs)},
        {"snd_una", offsetof(struct tr_event, snd_una)},
        {"snd_nxt", offsetof(struct tr_event, snd_nxt)},
        {"snd_wnd", offsetof(struct tr_event, snd_wnd)},
        {"rcv_nxt", offsetof(struct tr_event, rcv_nxt)},
        {"rcv_wnd", offsetof(struct tr_event, rcv_wnd)},
        {"cwnd", offsetof(struct tr_event, cwnd)},
        {"ssthresh", offsetof(struct tr_event, ssthresh)},
        {"srtt_us", offsetof(struct tr_event, srtt_us)},
        {"rto_us", offsetof(struct tr_event, rto_us)},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        const char *v = jget(f, n, nums[i].key);
        if (v && parse_u32(v, (uint32_t *)((char *)e + nums[i].off)) < 0) {
            *why = "a variable is not a 32-bit unsigned number";
            return -1;
        }
    }
    return 0;
}

int trace_states_read(struct tr_states *st, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        char eb[CLI_ERR_LEN];
        snprintf(err, err_len, "--states: cannot read '%s': %s", path, cli_strerror(-errno, eb));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        const char *p = skip_ws(line);
        if (!*p || *p == '#')
            continue;
        if (st->n == st->cap) {
            size_t n = st->cap ? st->cap * 2 : 64;
            struct tr_event *v = realloc(st->ev, n * sizeof(*v));
            if (!v) {
                snprintf(err, err_len, "--states: out of memory reading '%s'", path);
                rc = -1;
                break;
            }
            st->ev = v;
            st->cap = n;
        }
        const char *why;
        if (parse_event(p, &st->ev[st->n], &why) < 0) {
            snprintf(err, err_len, "--states: %s:%lu: not a synack state-trace line: %s", path,
                     lineno, why);
            rc = -1;
            break;
        }
        st->n++;
    }
    free(line);
    fclose(f);
    return rc;
}

void trace_states_free(struct tr_states *st)
{
    free(st->ev);
    memset(st, 0, sizeof(*st));
}

/* ---- putting the stack's states on the ladder -------------------------------- */

#define PLACE_TOL_US 2000 /* clocks of trace and capture may differ this much */

struct cursor {
    bool started[2];
    size_t at[2]; /* the row the side's last change went on */
};

/* The segment-arrival cause "segment FLAGS seq=N ack=N len=N". */
static bool seg_cause(const char *cause, char *flags, uint32_t *seq, uint32_t *ack)
{
    return sscanf(cause, "segment %8s seq=%u ack=%u", flags, seq, ack) == 3;
}

/* Which flag the stack's own segment carries when the change sends one. */
static uint8_t flag_sent_with(const struct tr_event *e)
{
    if (strncmp(e->cause, "user", 4) != 0)
        return 0;
    if (e->to == TCPS_SYN_SENT)
        return TCP_F_SYN;
    if (e->to == TCPS_FIN_WAIT_1 || e->to == TCPS_LAST_ACK)
        return TCP_F_FIN;
    if (e->to == TCPS_CLOSED)
        return TCP_F_RST;
    return 0;
}

static size_t find_row(const struct tr_conn *c, const struct tr_event *e, int side, size_t from)
{
    char want[9], have[9];
    uint32_t seq, ack;
    if (seg_cause(e->cause, want, &seq, &ack)) {
        for (size_t i = from; i < c->n_rows; i++) {
            const struct tr_row *r = &c->rows[i];
            if (!r->has_seg || r->seg.dir != 1 - side || r->seg.seq != seq ||
                strcmp(tcp_flags_str(r->seg.flags, have), want) != 0)
                continue;
            if ((r->seg.flags & TCP_F_ACK) && r->seg.ack != ack)
                continue;
            return i;
        }
    }
    uint8_t flag = flag_sent_with(e);
    for (size_t i = from; flag && i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        if (r->t_us > e->t_us + PLACE_TOL_US)
            break;
        if (r->has_seg && r->seg.dir == side && (r->seg.flags & flag) &&
            r->t_us >= e->t_us - PLACE_TOL_US)
            return i;
    }
    return c->n_rows;
}

static void place(struct tr_conn *c, struct cursor *cur, int side, const struct tr_event *e)
{
    size_t from = cur->at[side];
    size_t i = find_row(c, e, side, from);
    if (i < c->n_rows && c->rows[i].ev[side]) {
        /* A second change from the same segment: a row of its own after. */
        struct tr_row *r = trace_row_insert(c, i + 1);
        if (!r)
            return;
        r->t_us = c->rows[i].t_us;
        i++;
    } else if (i == c->n_rows) {
        /* A timer or a call that sent nothing: a row at its time. */
        i = from;
        while (i < c->n_rows && c->rows[i].t_us <= e->t_us)
            i++;
        struct tr_row *r = trace_row_insert(c, i);
        if (!r)
            return;
        r->t_us = e->t_us;
    }
    c->rows[i].state[side] = (int8_t)e->to;
    c->rows[i].ev[side] = e;
    cur->at[side] = i;
}

/* Whether @c has the segment @e's cause names, arriving at @side. */
static bool has_cause_seg(const struct tr_conn *c, const struct tr_event *e, int side)
{
    char want[9], have[9];
    uint32_t seq, ack;
    if (!seg_cause(e->cause, want, &seq, &ack))
        return false;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct tr_row *r = &c->rows[i];
        if (r->has_seg && r->seg.dir == 1 - side && r->seg.seq == seq &&
            (!(r->seg.flags & TCP_F_ACK) || r->seg.ack == ack) &&
            strcmp(tcp_flags_str(r->seg.flags, have), want) == 0)
            return true;
    }
    return false;
}

/* A connection of the stack seen in the trace and not yet CLOSED: all its
 * events go to the one connection of the capture chosen at its first. */
struct open_tcb {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    struct tr_conn *c;
    int side;
};

/* The connection of the capture a new TCB's first event @e belongs to: of
 * those between its addresses not yet given to another TCB, the one with
 * the segment that caused it, else the one starting nearest in time. */
static struct tr_conn *conn_for_tcb(struct tr_capture *cap, const struct cursor *cur,
                                    const struct tr_event *e, int *side)
{
    struct tr_conn *best = NULL;
    int64_t best_dt = INT64_MAX;
    for (struct tr_conn *c = trace_conn_chain(cap, e->laddr, e->lport, e->raddr, e->rport); c;
         c = c->hnext) {
        for (int k = 0; k < 2; k++) {
            if (c->addr[k] != e->laddr || c->port[k] != e->lport || c->addr[1 - k] != e->raddr ||
                c->port[1 - k] != e->rport || cur[c->id - 1].started[k])
                continue;
            if (has_cause_seg(c, e, k)) {
                *side = k;
                return c;
            }
            int64_t dt = c->sum.first_us - e->t_us;
            if (dt < 0)
                dt = -dt;
            if (dt <= best_dt) { /* the chain is newest first: ties go to the oldest */
                best = c;
                best_dt = dt;
                *side = k;
            }
        }
    }
    return best;
}

void trace_states_apply(struct tr_capture *cap, struct tr_states *st)
{
    struct cursor *cur = calloc(cap->n_conns ? cap->n_conns : 1, sizeof(*cur));
    struct open_tcb *open = NULL;
    size_t n_open = 0, cap_open = 0;
    if (!cur)
        return;
    for (size_t n = 0; n < st->n; n++) {
        struct tr_event *e = &st->ev[n];
        if (!e->raddr && !e->rport)
            continue; /* a listener: not a connection of the capture */
        size_t o = 0;
        while (o < n_open && !(open[o].laddr == e->laddr && open[o].lport == e->lport &&
                               open[o].raddr == e->raddr && open[o].rport == e->rport))
            o++;
        int side = 0;
        struct tr_conn *c = NULL;
        if (o < n_open) {
            c = open[o].c;
            side = open[o].side;
        } else {
            c = conn_for_tcb(cap, cur, e, &side);
            if (!c)
                continue; /* not in the capture */
            if (n_open == cap_open) {
                size_t nc = cap_open ? cap_open * 2 : 16;
                struct open_tcb *v = realloc(open, nc * sizeof(*v));
                if (!v)
                    break;
                open = v;
                cap_open = nc;
            }
            open[n_open++] = (struct open_tcb){e->laddr, e->raddr, e->lport, e->rport, c, side};
        }
        struct cursor *k = &cur[c->id - 1];
        if (!k->started[side]) {
            /* From now on this side shows the stack's states only. */
            k->started[side] = true;
            c->from_stack[side] = true;
            c->init_state[side] = (int8_t)e->from;
            for (size_t i = 0; i < c->n_rows; i++)
                c->rows[i].state[side] = TR_NO_STATE;
        }
        place(c, k, side, e);
        e->placed = true;
        if (e->to == TCPS_CLOSED) {
            for (o = 0; o < n_open; o++)
                if (open[o].c == c && open[o].side == side)
                    open[o] = open[--n_open];
        }
    }
    free(open);
    free(cur);
}
