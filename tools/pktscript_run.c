/* tools/pktscript_run.c: runs a parsed packetdrill script against one synack
 * stack on a virtual clock.
 *
 * The stack speaks raw IPv4 (SN_LINK_IP) as 192.168.0.1; the script's peer
 * is 192.0.2.1, as in packetdrill. Script time 0 is stack time 0. Before an
 * inbound packet, a call or a %{ }% block, time moves to the event's time
 * one timer deadline at a time, so every segment the stack sends is stamped
 * with the deadline that produced it. An outbound event takes the oldest
 * unmatched segment (moving time on until one appears, up to the event's
 * time plus the tolerance) and compares flags, sequence numbers, length,
 * ack, window, urgent pointer, options, payload and time. A segment nobody
 * expected is a failure: when time must move past it by more than the
 * tolerance, or when the script ends with it unmatched.
 *
 * Sequence space (packetdrill's): inbound seq is injected as written;
 * outbound seq and inbound ack/SACK are shifted by the ISN the stack chose,
 * learned from each outbound SYN. Outbound TS val is not checked (unless
 * --tcp-ts-tick-usecs), TS ecr is; inbound TS ecr is mapped back to the TS
 * val the stack sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "tools/pktscript.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#define LOCAL_ADDR 0xc0a80001u  /* 192.168.0.1: packetdrill's --local_ip */
#define GATEWAY 0xc0a80002u     /* 192.168.0.2: the route to the remote side */
#define REMOTE_ADDR 0xc0000201u /* 192.0.2.1: packetdrill's --remote_ip */
#define REMOTE_PORT 40000       /* the script peer's port for passive opens */
#define LOCAL_PORT 8080         /* packetdrill's --bind_port */
#define MTU 1500
#define SEED 1                  /* deterministic ISNs and timestamps */
#define ANY_TIME_LIMIT ((sn_time_us)3600 * 1000000) /* how long * waits */
#define MAX_FRAME (65535 + 64)

/* ---- options ---------------------------------------------------------------- */

static bool name_is(const char *key, const char *name)
{
    /* --tolerance-usecs and packetdrill's --tolerance_usecs are the same. */
    for (; *key && *name; key++, name++)
        if (*key != *name && !((*key == '_' || *key == '-') && (*name == '_' || *name == '-')))
            return false;
    return *key == *name;
}

int ps_option_apply(struct ps_options *o, const char *name, const char *value, char *err,
                    size_t err_len)
{
    char key[64];
    int used = 2;
    const char *eq = strchr(name, '=');
    if (eq) {
        snprintf(key, sizeof(key), "%.*s", (int)(eq - name), name);
        value = eq + 1;
        used = 1;
    } else {
        snprintf(key, sizeof(key), "%s", name);
    }
    if (name_is(key, "-v") || name_is(key, "--verbose")) {
        o->verbose = true;
        return 1;
    }
    if (name_is(key, "--ignore-trailing")) {
        o->ignore_trailing = true;
        return 1;
    }
    bool known = name_is(key, "--profile") || name_is(key, "--set") ||
                 name_is(key, "--tolerance-usecs") || name_is(key, "--tcp-ts-tick-usecs");
    if (!known)
        return 0;
    if (!value) {
        snprintf(err, err_len, "option '%s' needs a value", key);
        return -1;
    }
    if (name_is(key, "--profile")) {
        if (sn_config_profile(&o->cfg, value) < 0) {
            snprintf(err, err_len, "unknown profile '%s' (known: linux, rfc)", value);
            return -1;
        }
    } else if (name_is(key, "--set")) {
        int e = sn_config_set(&o->cfg, value);
        if (e == -ERANGE) {
            snprintf(err, err_len, "--set %s: value out of range (see synack pktscript --help)",
                     value);
            return -1;
        }
        if (e < 0) {
            snprintf(err, err_len, "--set %s: expected NAME=NUMBER with a known NAME", value);
            return -1;
        }
    } else {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (*value == 0 || *end || errno || v < 0 || v > 100000000) {
            snprintf(err, err_len, "option '%s' needs a number of microseconds, got '%s'", key,
                     value);
            return -1;
        }
        if (name_is(key, "--tolerance-usecs"))
            o->tolerance_us = v;
        else
            o->ts_tick_us = v;
    }
    return used;
}

/* Applies a list of words ("--set", "a=b", "--profile=linux", ...). */
static int apply_words(struct ps_options *o, char **w, int n, char *err, size_t err_len)
{
    for (int i = 0; i < n;) {
        int used = ps_option_apply(o, w[i], i + 1 < n ? w[i + 1] : NULL, err, err_len);
        if (used < 0)
            return -1;
        if (used == 0) {
            snprintf(err, err_len, "unknown option '%s'", w[i]);
            return -1;
        }
        i += used;
    }
    return 0;
}

/* The script's options: "// synack: ..." comments (words, as on the
 * command line) and packetdrill "--name=value" lines. packetdrill options
 * synack has no use for are noted and ignored. */
static int apply_script_options(struct ps_run *ru, struct ps_options *o)
{
    const struct ps_script *sc = ru->sc;
    for (int i = 0; i < sc->n_opts; i++) {
        char *copy = strdup(sc->opts[i]), *words[32], *save = NULL;
        if (!copy)
            return -1;
        int n = 0;
        for (char *w = strtok_r(copy, " \t", &save); w && n < 32; w = strtok_r(NULL, " \t", &save))
            words[n++] = w;
        char err[256];
        int rc = 0;
        if (sc->opt_native[i]) {
            int used = n == 1 ? ps_option_apply(o, words[0], NULL, err, sizeof(err)) : 0;
            if (used < 0) {
                ps_fail(ru->r, sc->opt_lines[i], "%s", err);
                rc = -1;
            } else if (used == 0) {
                if (strcmp(sc->opts[i], "--ip_version=ipv6") == 0 ||
                    strcmp(sc->opts[i], "--ip_version=ipv4-mapped-ipv6") == 0) {
                    ps_skip(ru->r, sc->opt_lines[i], "IPv6 is not supported by synack pktscript");
                    rc = -1;
                } else if (strncmp(sc->opts[i], "--ip_version=", 13) != 0) {
                    fprintf(stderr, "%s:%d: note: packetdrill option %s ignored\n", sc->path,
                            sc->opt_lines[i], sc->opts[i]);
                }
            }
        } else if (apply_words(o, words, n, err, sizeof(err)) < 0) {
            ps_fail(ru->r, sc->opt_lines[i], "// synack: %s", err);
            rc = -1;
        }
        free(copy);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- output collection and time --------------------------------------------- */

void ps_run_drain(struct ps_run *ru)
{
    static uint8_t buf[MAX_FRAME];
    int n;
    while ((n = sn_stack_output_bytes(ru->st, buf, sizeof(buf))) != 0) {
        if (n < 0)
            continue; /* larger than any IPv4 datagram: cannot happen */
        if (ru->q_len == ru->q_cap) {
            int cap = ru->q_cap ? ru->q_cap * 2 : 16;
            struct ps_out *q = realloc(ru->q, (size_t)cap * sizeof(*q));
            if (!q) {
                perror("synack pktscript");
                exit(1);
            }
            ru->q = q;
            ru->q_cap = cap;
        }
        uint8_t *copy = malloc((size_t)n);
        if (!copy) {
            perror("synack pktscript");
            exit(1);
        }
        memcpy(copy, buf, (size_t)n);
        ru->q[ru->q_len++] = (struct ps_out){copy, (size_t)n, ru->now};
    }
}

static void retry_pending(struct ps_run *ru)
{
    for (int i = 0; i < ru->n_pend;) {
        struct ps_pending *p = &ru->pend[i];
        enum ps_call c = ps_syscall_exec(ru, p->ev, p);
        p->attempts++;
        ps_run_drain(ru);
        if (c == PS_CALL_DONE) {
            memmove(p, p + 1, (size_t)(ru->n_pend - i - 1) * sizeof(*p));
            ru->n_pend--;
        } else {
            i++;
        }
    }
}

/* After input or a user call: let the stack deliver events, then see what
 * it sent and whether a blocked call can complete. */
static void settle(struct ps_run *ru)
{
    sn_stack_advance(ru->st, ru->now);
    ps_run_drain(ru);
    retry_pending(ru);
}

/* Moves time to @t one timer deadline at a time. With @stop_on_output,
 * stops at the first deadline after which a segment is queued. */
static void step_to(struct ps_run *ru, sn_time_us t, bool stop_on_output)
{
    for (long guard = 0; guard < 10000000; guard++) {
        if (stop_on_output && ru->q_len)
            return;
        sn_time_us d = sn_stack_next_deadline(ru->st);
        if (d > t)
            break;
        if (d > ru->now)
            ru->now = d;
        settle(ru);
    }
    if (stop_on_output && ru->q_len)
        return;
    if (t > ru->now)
        ru->now = t;
    settle(ru);
}

/* ---- decoding what the stack sent ------------------------------------------ */

/* Finds the TS option in raw options: its offset, or -1. */
static int find_ts(const uint8_t *o, unsigned len)
{
    for (unsigned i = 0; i < len;) {
        if (o[i] == TCPOPT_EOL)
            return -1;
        if (o[i] == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2)
            return -1;
        if (o[i] == TCPOPT_TS && o[i + 1] == 10 && i + 10 <= len)
            return (int)i;
        i += o[i + 1];
    }
    return -1;
}

/* Offsets SACK blocks in raw options by @delta. */
static void shift_sack(uint8_t *o, unsigned len, uint32_t delta)
{
    for (unsigned i = 0; i < len;) {
        if (o[i] == TCPOPT_EOL)
            return;
        if (o[i] == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
            return;
        if (o[i] == TCPOPT_SACK)
            for (unsigned b = i + 2; b + 4 <= i + o[i + 1]; b += 4)
                wr32(o + b, rd32(o + b) + delta);
        i += o[i + 1];
    }
}

struct decoded {
    struct ps_packet p;    /* in script space */
    uint32_t live_seq;
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t ts_val_live;
    int ts_off;            /* in p.opts, or -1 */
    const uint8_t *payload;
};

static uint32_t out_seq_offset(const struct ps_run *ru)
{
    return ru->isn_known ? ru->script_isn - ru->live_isn : 0;
}

/* Parses an outbound datagram and maps it into script space. Returns 0, or
 * -1 with why in @err. */
static int decode(const struct ps_run *ru, const struct ps_out *o, struct decoded *d, char *err,
                  size_t err_len)
{
    memset(d, 0, sizeof(*d));
    struct ip4_hdr ip;
    if (ip4_parse(&ip, o->buf, o->len) != 0) {
        snprintf(err, err_len, "a malformed IPv4 packet of %zu bytes", o->len);
        return -1;
    }
    if (!ip4_csum_ok(o->buf, ip.hdr_len)) {
        snprintf(err, err_len, "bad outbound IP checksum");
        return -1;
    }
    if (ip.proto != IP4_PROTO_TCP) {
        snprintf(err, err_len, "a non-TCP packet (IP protocol %u)", ip.proto);
        return -1;
    }
    const uint8_t *tb = o->buf + ip.hdr_len;
    size_t tlen = ip.total_len - ip.hdr_len;
    struct tcp_seg sg;
    if (tcp_seg_parse(&sg, tb, tlen) != 0) {
        snprintf(err, err_len, "a malformed TCP segment");
        return -1;
    }
    if (!tcp_csum_ok(ip.src, ip.dst, tb, tlen)) {
        snprintf(err, err_len, "bad outbound TCP checksum");
        return -1;
    }
    unsigned hdr = (unsigned)(tb[12] >> 4) * 4;
    d->saddr = ip.src;
    d->daddr = ip.dst;
    d->sport = sg.sport;
    d->dport = sg.dport;
    d->live_seq = sg.seq;
    d->payload = sg.data;
    struct ps_packet *p = &d->p;
    p->inbound = false;
    p->flags = sg.flags;
    p->seq = sg.seq + out_seq_offset(ru);
    p->len = sg.len;
    p->ack = sg.ack;
    p->win = sg.wnd;
    p->urg = sg.urp;
    p->opts_len = (uint8_t)(hdr - TCP_HDR_LEN);
    memcpy(p->opts, tb + TCP_HDR_LEN, p->opts_len);
    d->ts_off = find_ts(p->opts, p->opts_len);
    if (d->ts_off >= 0) {
        d->ts_val_live = rd32(p->opts + d->ts_off + 2);
        if (ru->ts_known) /* shown in script space */
            wr32(p->opts + d->ts_off + 2, d->ts_val_live - ru->ts_first_live + ru->ts_first_script);
    }
    return 0;
}

/* ---- outbound events ---------------------------------------------------------- */

static void describe(struct ps_run *ru, const struct ps_packet *exp, sn_time_us exp_t,
                     const struct decoded *got, sn_time_us got_t)
{
    char buf[512];
    if (exp) {
        ps_packet_str(exp, buf, sizeof(buf));
        ps_detail(ru->r, "script: %9.6f %s", (double)exp_t / 1e6, buf);
    }
    if (got) {
        ps_packet_str(&got->p, buf, sizeof(buf));
        ps_detail(ru->r, "actual: %9.6f %s", (double)got_t / 1e6, buf);
    }
}

/* Compares options kind by kind, in order (packetdrill's rule): TS ecr
 * must match, TS val only with --tcp-ts-tick-usecs; others byte for byte. */
static const char *opts_mismatch(const struct ps_run *ru, const struct ps_packet *s,
                                 const struct ps_packet *a, char *buf, size_t len)
{
    unsigned i = 0, j = 0;
    while (i < s->opts_len || j < a->opts_len) {
        if (i >= s->opts_len || j >= a->opts_len || s->opts[i] != a->opts[j])
            return "options differ";
        uint8_t kind = s->opts[i];
        if (kind == TCPOPT_NOP || kind == TCPOPT_EOL) {
            i++, j++;
            continue;
        }
        uint8_t sl = s->opts[i + 1], al = j + 1 < a->opts_len ? a->opts[j + 1] : 0;
        if (sl != al || j + al > a->opts_len)
            return "options differ";
        if (kind == TCPOPT_TS) {
            uint32_t sv = rd32(s->opts + i + 2), av = rd32(a->opts + j + 2);
            uint32_t se = rd32(s->opts + i + 6), ae = rd32(a->opts + j + 6);
            if (se != ae) {
                snprintf(buf, len, "TS ecr: expected %u, got %u", se, ae);
                return buf;
            }
            int64_t dv = (int32_t)(av - sv);
            if (ru->opt.ts_tick_us &&
                (dv < 0 ? -dv : dv) * ru->opt.ts_tick_us > ru->opt.tolerance_us) {
                snprintf(buf, len, "TS val: expected %u, got %u (tolerance %lld us)", sv, av,
                         (long long)ru->opt.tolerance_us);
                return buf;
            }
        } else if (memcmp(s->opts + i + 2, a->opts + j + 2, (size_t)sl - 2) != 0) {
            return "options differ";
        }
        i += sl;
        j += al;
    }
    return NULL;
}

static void remember_ts(struct ps_run *ru, const struct ps_packet *s, const struct decoded *d)
{
    int sts = find_ts(s->opts, s->opts_len);
    if (sts < 0 || d->ts_off < 0)
        return;
    uint32_t sv = rd32(s->opts + sts + 2);
    if (!ru->ts_known) {
        ru->ts_known = true;
        ru->ts_first_script = sv;
        ru->ts_first_live = d->ts_val_live;
    }
    int k = 0;
    while (k < ru->n_ts_map && ru->ts_map_script[k] != sv)
        k++;
    if (k == ru->n_ts_map) {
        if (k == PS_TS_MAP)
            k = PS_TS_MAP - 1; /* full: overwrite the newest slot */
        else
            ru->n_ts_map++;
    }
    ru->ts_map_script[k] = sv;
    ru->ts_map_live[k] = d->ts_val_live;
}

static void conn_info(struct ps_run *ru, struct ps_tcpi *ti);

static bool zeros(const uint8_t *p, uint32_t len, uint32_t *at)
{
    for (uint32_t k = 0; k < len; k++)
        if (p[k]) {
            *at = k;
            return false;
        }
    return true;
}

/* TSO/GSO, as packetdrill: segments sent back to back may together match
 * one larger script segment. Each but the last must be exactly one MSS
 * (so a script cannot be satisfied by segments Nagle should have
 * coalesced); sequence numbers must run on, ACK and flags must agree, PSH
 * and FIN only on the last. Returns false when a piece's payload is not
 * the zeros written (*bad_at: where). */
static bool aggregate(struct ps_run *ru, const struct ps_packet *s, struct decoded *d,
                      uint32_t *bad_at)
{
    struct ps_tcpi ti;
    conn_info(ru, &ti);
    uint32_t mss = ti.valid ? ti.info.snd_mss : 0;
    uint32_t last_piece = d->p.len;
    const uint8_t end_flags = TCP_F_PSH | TCP_F_FIN;
    while (d->p.len < s->len && mss && last_piece == mss && !(d->p.flags & end_flags) &&
           ru->q_len) {
        struct decoded n;
        char err[200];
        if (decode(ru, &ru->q[0], &n, err, sizeof(err)) < 0)
            break;
        if (n.sport != d->sport || n.dport != d->dport || n.p.seq != d->p.seq + d->p.len ||
            n.p.ack != d->p.ack || (n.p.flags & ~end_flags) != (d->p.flags & ~end_flags) ||
            n.p.len == 0 || n.p.len > mss || d->p.len + n.p.len > s->len)
            break;
        uint32_t at;
        bool ok = zeros(n.payload, n.p.len, &at);
        if (!ok)
            *bad_at = d->p.len + at;
        d->p.len += n.p.len;
        d->p.flags |= n.p.flags & end_flags;
        last_piece = n.p.len;
        free(ru->q[0].buf);
        memmove(ru->q, ru->q + 1, (size_t)(ru->q_len - 1) * sizeof(*ru->q));
        ru->q_len--;
        if (!ok)
            return false;
    }
    return true;
}

static void expect_outbound(struct ps_run *ru, const struct ps_event *ev, sn_time_us t,
                            sn_time_us t_end)
{
    const struct ps_packet *s = &ev->pkt;
    int64_t tol = ru->opt.tolerance_us;
    sn_time_us lo = t - tol, hi = t + tol;
    if (ev->ttype == PS_T_ANY) {
        lo = INT64_MIN;
        hi = ru->now + ANY_TIME_LIMIT;
    } else if (ev->ttype == PS_T_ABS_RANGE || ev->ttype == PS_T_REL_RANGE) {
        hi = t_end + tol;
    }
    if (!ru->q_len)
        step_to(ru, hi, true);
    if (!ru->q_len) {
        ps_fail(ru->r, ev->line,
                "expected an outbound packet at %.6f sec, but none was sent by %.6f sec",
                (double)t / 1e6, (double)hi / 1e6);
        describe(ru, s, t, NULL, 0);
        return;
    }
    struct ps_out o = ru->q[0];
    memmove(ru->q, ru->q + 1, (size_t)(ru->q_len - 1) * sizeof(*ru->q));
    ru->q_len--;
    char err[200];
    struct decoded d;
    /* An outbound SYN sets the script <-> live ISN mapping (its own seq
     * matches by definition), as packetdrill learns the ISN. */
    if (decode(ru, &o, &d, err, sizeof(err)) == 0 && (s->flags & TCP_F_SYN) &&
        (d.p.flags & TCP_F_SYN)) {
        ru->isn_known = true;
        ru->live_isn = d.live_seq;
        ru->script_isn = s->seq;
        if (!ru->lport_known) {
            ru->lport = d.sport;
            ru->lport_known = true;
        }
    }
    if (decode(ru, &o, &d, err, sizeof(err)) < 0) {
        ps_fail(ru->r, ev->line, "outbound packet: got %s", err);
        describe(ru, s, t, NULL, 0);
        free(o.buf);
        return;
    }
    remember_ts(ru, s, &d);
    decode(ru, &o, &d, err, sizeof(err)); /* again, with TS val in script space */
    if (ru->opt.verbose) {
        char buf[512];
        ps_packet_str(&d.p, buf, sizeof(buf));
        printf("%9.6f %s\n", (double)o.t / 1e6, buf);
    }
    uint32_t bad_at = 0;
    bool payload_ok = zeros(d.payload, d.p.len, &bad_at);
    if (payload_ok && s->len > d.p.len && d.p.seq == s->seq)
        payload_ok = aggregate(ru, s, &d, &bad_at);
    const struct ps_packet *a = &d.p;
    uint16_t want_sport = s->sport ? s->sport : ru->lport,
             want_dport = s->dport ? s->dport : ru->rport;
    char what[200] = "";
    if (d.saddr != ru->laddr || d.daddr != ru->raddr || d.sport != want_sport ||
        d.dport != want_dport)
        snprintf(what, sizeof(what), "ports: expected %u>%u, got %u>%u (another connection?)",
                 want_sport, want_dport, d.sport, d.dport);
    else if (a->flags != s->flags) {
        char fs[9], fa[9];
        snprintf(what, sizeof(what), "flags: expected %s, got %s", tcp_flags_str(s->flags, fs),
                 tcp_flags_str(a->flags, fa));
    }
    else if (a->seq != s->seq)
        snprintf(what, sizeof(what), "seq: expected %u, got %u", s->seq, a->seq);
    else if (a->len != s->len)
        snprintf(what, sizeof(what), "payload length: expected %u, got %u", s->len, a->len);
    else if (a->ack != s->ack)
        snprintf(what, sizeof(what), "ack: expected %u, got %u", s->ack, a->ack);
    else if (s->win >= 0 && a->win != s->win)
        snprintf(what, sizeof(what), "window: expected %d, got %d", s->win, a->win);
    else if (a->urg != s->urg)
        snprintf(what, sizeof(what), "urgent pointer: expected %u, got %u", s->urg, a->urg);
    else if (!s->opts_nocheck) {
        const char *m = opts_mismatch(ru, s, a, err, sizeof(err));
        if (m)
            snprintf(what, sizeof(what), "%s", m);
    }
    if (!what[0] && !payload_ok)
        snprintf(what, sizeof(what), "payload: byte %u is not zero, expected the zeros written",
                 bad_at);
    if (what[0]) {
        ps_fail(ru->r, ev->line, "outbound packet: %s", what);
        describe(ru, s, t, &d, o.t);
    } else if (o.t < lo || o.t > hi) {
        if (ev->ttype == PS_T_ABS_RANGE || ev->ttype == PS_T_REL_RANGE)
            ps_fail(ru->r, ev->line,
                    "timing error: expected outbound packet in time range %.6f~%.6f sec but it "
                    "was sent at %.6f sec; tolerance %.6f sec",
                    (double)t / 1e6, (double)t_end / 1e6, (double)o.t / 1e6, (double)tol / 1e6);
        else
            ps_fail(ru->r, ev->line,
                    "timing error: expected outbound packet at %.6f sec but it was sent at %.6f "
                    "sec; tolerance %.6f sec",
                    (double)t / 1e6, (double)o.t / 1e6, (double)tol / 1e6);
        describe(ru, s, t, &d, o.t);
    }
    free(o.buf);
}

/* A segment nobody expected: the script moved on without listing it. */
static void unexpected(struct ps_run *ru, int line, const char *when)
{
    struct decoded d;
    char err[200];
    const struct ps_out *o = &ru->q[0];
    ps_fail(ru->r, line, "unexpected outbound packet at %.6f sec %s", (double)o->t / 1e6, when);
    if (decode(ru, o, &d, err, sizeof(err)) == 0)
        describe(ru, NULL, 0, &d, o->t);
    else
        ps_detail(ru->r, "actual: %s", err);
}

/* ---- inbound events ------------------------------------------------------------ */

static uint32_t map_ecr(const struct ps_run *ru, uint32_t ecr)
{
    for (int k = 0; k < ru->n_ts_map; k++)
        if (ru->ts_map_script[k] == ecr)
            return ru->ts_map_live[k];
    if (ru->ts_known)
        return ecr - ru->ts_first_script + ru->ts_first_live;
    return ecr;
}

static void inject(struct ps_run *ru, const struct ps_event *ev)
{
    static uint8_t buf[MAX_FRAME];
    const struct ps_packet *p = &ev->pkt;
    if (!p->dport && !ru->lport_known) {
        ps_fail(ru->r, ev->line, "inbound packet before the stack's port is known (no bind, "
                "listen or outbound SYN yet)");
        return;
    }
    uint16_t sport = p->sport ? p->sport : ru->rport, dport = p->dport ? p->dport : ru->lport;
    uint32_t ack_off = ru->isn_known ? ru->live_isn - ru->script_isn : 0;
    uint8_t *tb = buf + IP4_HDR_LEN;
    uint32_t hdr = TCP_HDR_LEN + p->opts_len, tlen = hdr + p->len;
    wr16(tb, sport);
    wr16(tb + 2, dport);
    wr32(tb + 4, p->seq);
    wr32(tb + 8, (p->flags & TCP_F_ACK) ? p->ack + ack_off : p->ack);
    tb[12] = (uint8_t)(hdr / 4 << 4);
    tb[13] = p->flags;
    wr16(tb + 14, (uint16_t)p->win);
    wr16(tb + 16, 0);
    wr16(tb + 18, p->urg);
    uint8_t *o = tb + TCP_HDR_LEN;
    memcpy(o, p->opts, p->opts_len);
    shift_sack(o, p->opts_len, ack_off);
    int ts = find_ts(o, p->opts_len);
    if (ts >= 0 && (p->flags & TCP_F_ACK))
        wr32(o + ts + 6, map_ecr(ru, rd32(o + ts + 6)));
    memset(tb + hdr, 0, p->len);
    uint32_t sum = csum_pseudo4(ru->raddr, ru->laddr, IP4_PROTO_TCP, (uint16_t)tlen);
    wr16(tb + 16, csum_fold(csum_add(sum, tb, tlen)));
    struct ip4_hdr ip = {
        .total_len = (uint16_t)(IP4_HDR_LEN + tlen),
        .id = ru->ip_id++,
        .frag = IP4_FLAG_DF,
        .ttl = 64,
        .proto = IP4_PROTO_TCP,
        .src = ru->raddr,
        .dst = ru->laddr,
    };
    if (ru->opt.verbose) {
        char s[512];
        ps_packet_str(p, s, sizeof(s));
        printf("%9.6f %s\n", (double)ru->now / 1e6, s);
    }
    /* A datagram larger than the link MTU (a script written for a TSO/GRO
     * receiver) arrives as IPv4 fragments, which the stack reassembles. */
    uint32_t chunk = IP4_HDR_LEN + tlen <= MTU ? tlen : (MTU - IP4_HDR_LEN) & ~7u;
    for (uint32_t off = 0; off < tlen; off += chunk) {
        static uint8_t frag[MAX_FRAME];
        uint32_t n = tlen - off < chunk ? tlen - off : chunk;
        struct ip4_hdr fh = ip;
        fh.total_len = (uint16_t)(IP4_HDR_LEN + n);
        if (chunk < tlen)
            fh.frag = (uint16_t)(off / 8 | (off + n < tlen ? IP4_FLAG_MF : 0));
        ip4_build(frag, &fh);
        memcpy(frag + IP4_HDR_LEN, tb + off, n);
        int err = sn_stack_input_bytes(ru->st, frag, IP4_HDR_LEN + n, ru->now);
        if (err < 0) {
            ps_fail(ru->r, ev->line, "the stack refused the inbound packet: %s", sn_strerror(err));
            return;
        }
    }
    settle(ru);
}

/* ---- %{ }% blocks -------------------------------------------------------------- */

struct find_ctx {
    const struct ps_run *ru;
    struct ps_tcpi *ti;
};

static void find_conn(const struct sn_tcp_info *i, void *arg)
{
    struct find_ctx *f = arg;
    if (strcmp(sn_tcp_state_name(i->state), "LISTEN") != 0 && i->local_port == f->ru->lport &&
        i->remote_port == f->ru->rport && i->remote_addr == f->ru->raddr) {
        f->ti->valid = true;
        f->ti->info = *i;
    }
}

/* TCP_INFO of the connection under test: the fd accept() or connect()
 * gave, else the connection with the script's 4-tuple (not yet accepted,
 * or closed by the script but still in the stack). */
static void conn_info(struct ps_run *ru, struct ps_tcpi *ti)
{
    memset(ti, 0, sizeof(*ti));
    ti->rto_max_us = (int64_t)ru->opt.cfg.tcp_rto_max_ms * 1000;
    if (ru->cur_fd >= 0 && ru->fds[ru->cur_fd].so) {
        ti->valid = true;
        sn_sock_info(ru->fds[ru->cur_fd].so, &ti->info);
        return;
    }
    struct find_ctx f = {ru, ti};
    sn_stack_foreach_sock(ru->st, find_conn, &f);
}

/* ---- the script ------------------------------------------------------------------ */

static bool anchored(const struct ps_event *ev)
{
    return ev->type == PS_EV_PACKET && ev->pkt.inbound;
}

static void run_event(struct ps_run *ru, const struct ps_event *ev, sn_time_us offset)
{
    switch (ev->type) {
    case PS_EV_PACKET:
        inject(ru, ev);
        break;
    case PS_EV_SYSCALL: {
        if (ru->n_pend == PS_MAX_PENDING) {
            ps_fail(ru->r, ev->line, "too many blocking calls waiting at once");
            break;
        }
        struct ps_pending *p = &ru->pend[ru->n_pend];
        memset(p, 0, sizeof(*p));
        p->ev = ev;
        p->start = ru->now;
        p->end = ev->sc.end_us < 0 ? -1
                 : ev->ttype == PS_T_REL ? offset + ev->sc.end_us
                                         : ev->sc.end_us;
        enum ps_call c = ps_syscall_exec(ru, ev, p);
        p->attempts++;
        if (c == PS_CALL_BLOCKED) {
            ru->n_pend++;
            if (ru->opt.verbose)
                printf("%9.6f %s() blocks\n", (double)ru->now / 1e6, ev->sc.name);
        }
        settle(ru);
        break;
    }
    case PS_EV_COMMAND:
        fprintf(stderr, "%s:%d: note: shell command not run (synack ignores them): `%s`\n",
                ru->sc->path, ev->line, ev->text);
        break;
    case PS_EV_CODE: {
        struct ps_tcpi ti;
        char msg[600];
        conn_info(ru, &ti);
        if (ps_code_eval(ev->text, &ti, msg, sizeof(msg)) < 0)
            ps_fail(ru->r, ev->line, "%s", msg);
        break;
    }
    }
}

void ps_run(const struct ps_script *sc, const struct ps_options *base, char **cli_args,
            int n_cli_args, struct ps_result *r)
{
    struct ps_run *ru = calloc(1, sizeof(*ru));
    if (!ru) {
        perror("synack pktscript");
        exit(1);
    }
    ru->sc = sc;
    ru->r = r;
    ru->opt = *base;
    ru->cur_fd = -1;
    ru->laddr = LOCAL_ADDR;
    ru->raddr = REMOTE_ADDR;
    ru->lport = LOCAL_PORT;
    ru->lport_known = true;
    ru->rport = REMOTE_PORT;
    char err[256];
    if (apply_script_options(ru, &ru->opt) < 0)
        goto out;
    if (apply_words(&ru->opt, cli_args, n_cli_args, err, sizeof(err)) < 0) {
        ps_fail(r, 0, "%s", err);
        goto out;
    }
    struct sn_stack_opts so = {
        .cfg = ru->opt.cfg,
        .link = SN_LINK_IP,
        .addr = LOCAL_ADDR,
        .prefix_len = 24,
        .gateway = GATEWAY,
        .mtu = MTU,
        .seed = SEED,
    };
    int e = sn_stack_new(&so, 0, &ru->st);
    if (e < 0) {
        ps_fail(r, 0, "cannot create a stack: %s", sn_strerror(e));
        goto out;
    }
    int64_t tol = ru->opt.tolerance_us;
    const struct ps_event *last = NULL;
    sn_time_us last_t = 0;
    for (int i = 0; i < sc->n_ev && r->status == PS_PASS; i++) {
        const struct ps_event *ev = &sc->ev[i];
        /* packetdrill: relative times count from when the previous event
         * happened, or from its script time between inbound packets. */
        sn_time_us offset = last && anchored(last) && anchored(ev) ? last_t : ru->now;
        bool abs = ev->ttype == PS_T_ABS || ev->ttype == PS_T_ABS_RANGE;
        sn_time_us t = abs ? ev->t_us : offset + ev->t_us;
        sn_time_us t_end = abs ? ev->t_end_us : offset + ev->t_end_us;
        if (ev->type == PS_EV_PACKET && !ev->pkt.inbound) {
            expect_outbound(ru, ev, t, t_end);
        } else {
            if (t < ru->now - tol) {
                ps_fail(r, ev->line,
                        "timing error: the event is at %.6f sec but the script already reached "
                        "%.6f sec",
                        (double)t / 1e6, (double)ru->now / 1e6);
                break;
            }
            step_to(ru, t, false);
            if (ru->q_len && ru->q[0].t < ru->now - tol) {
                char when[80];
                snprintf(when, sizeof(when), "(before the event at line %d)", ev->line);
                unexpected(ru, ev->line, when);
                break;
            }
            run_event(ru, ev, offset);
        }
        last = ev;
        last_t = t;
    }
    if (r->status == PS_PASS && ru->q_len && !ru->opt.ignore_trailing)
        unexpected(ru, sc->ev[sc->n_ev - 1].line, "(after the last event)");
    if (r->status == PS_PASS && ru->n_pend)
        ps_fail(r, ru->pend[0].ev->line, "%s() was still blocked when the script ended",
                ru->pend[0].ev->sc.name);
out:
    for (int i = 0; i < ru->q_len; i++)
        free(ru->q[i].buf);
    free(ru->q);
    sn_stack_free(ru->st);
    free(ru);
}
