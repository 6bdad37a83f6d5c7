/* tools/pktscript.h: `synack pktscript`, packetdrill scripts run against one
 * synack stack on a virtual clock. What the parser (pktscript_parse.c)
 * hands the runner (pktscript_run.c), the socket calls
 * (pktscript_sys.c) and the %{ }% evaluator (pktscript_code.c).
 *
 * The language is packetdrill's (google/packetdrill, parser.y): one event
 * per time stamp; inbound `<` and outbound `>` TCP segments, socket calls
 * with their expected results, `shell commands` and %{ python }% blocks. */
#ifndef SYNACK_TOOLS_PKTSCRIPT_H
#define SYNACK_TOOLS_PKTSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/synack.h"

/* ---- the parsed script ------------------------------------------------ */

enum ps_time_type {
    PS_T_ABS,       /* 1.5 */
    PS_T_REL,       /* +0.1 */
    PS_T_ANY,       /* * (outbound packets only) */
    PS_T_ABS_RANGE, /* 1.0~1.2 */
    PS_T_REL_RANGE, /* +1.0~+1.2 */
};

enum ps_ev_type { PS_EV_PACKET, PS_EV_SYSCALL, PS_EV_COMMAND, PS_EV_CODE };

#define PS_MAX_OPT_BYTES 40

/* A TCP segment as the script writes it: sequence numbers in script space
 * (see pktscript_run.c for the mapping), options as raw bytes in the order
 * written. */
struct ps_packet {
    bool inbound;
    uint8_t flags;       /* TCP_F_* */
    uint32_t seq, len;   /* seq:seq+len(len) */
    uint32_t ack;        /* 0 when no "ack N" */
    int32_t win;         /* -1: not given (only outbound: not checked) */
    uint16_t urg;
    bool opts_nocheck;   /* <...>: outbound options are not checked */
    uint8_t opts_len;
    uint8_t opts[PS_MAX_OPT_BYTES];
    uint16_t sport, dport; /* "N>N" port info; 0 = the runner's default */
};

enum ps_expr_type {
    PX_ELLIPSIS, /* ... */
    PX_INT,      /* 42, 0x2a, -1 */
    PX_WORD,     /* SOCK_STREAM */
    PX_STRING,   /* "text" */
    PX_LIST,     /* [a, b] */
    PX_BRACE,    /* {a=b, c=d} */
    PX_OR,       /* a | b */
    PX_ASSIGN,   /* name=value (inside braces) */
    PX_CALL,     /* htons(8080), inet_addr("192.0.2.1") */
};

struct ps_expr {
    enum ps_expr_type type;
    int64_t num;
    char *str;                /* WORD, STRING, ASSIGN's name, CALL's name */
    struct ps_expr *lhs, *rhs; /* OR; ASSIGN uses rhs */
    struct ps_expr **items;   /* LIST, BRACE, CALL arguments */
    int n_items;
};

struct ps_syscall {
    char *name;
    struct ps_expr **args;
    int n_args;
    struct ps_expr *result;
    char *errno_name; /* "EAGAIN", or NULL */
    int64_t end_us;   /* "...T" before the name: when a blocking call ends; -1 */
};

struct ps_event {
    int line;
    enum ps_time_type ttype;
    int64_t t_us, t_end_us; /* as written (relative ones are offsets) */
    enum ps_ev_type type;
    struct ps_packet pkt;   /* PS_EV_PACKET */
    struct ps_syscall sc;   /* PS_EV_SYSCALL */
    char *text;             /* PS_EV_COMMAND, PS_EV_CODE */
};

struct ps_script {
    char *path;
    struct ps_event *ev;
    int n_ev;
    /* Runner options from "// synack: ..." comments and packetdrill's
     * "--name=value" lines at the top, in order. */
    char **opts;
    int n_opts;
    int *opt_lines;
    bool *opt_native;  /* a packetdrill "--name=value" line, not "// synack:" */
    /* Shell commands outside events (init, cleanup). */
    int n_commands;
    /* Set when the script uses something synack cannot run. */
    int skip_line;
    char skip_reason[256];
};

/* How a script ended. */
enum ps_status { PS_PASS, PS_FAIL, PS_SKIP };

struct ps_result {
    enum ps_status status;
    int line;         /* the script line the verdict is about, or 0 */
    char msg[4096];   /* one line, then detail lines ("\n  ...") */
};

/* Sets @r to FAIL or SKIP with a formatted message (first verdict wins). */
void ps_fail(struct ps_result *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ps_skip(struct ps_result *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a detail line to an existing verdict. */
void ps_detail(struct ps_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- pktscript_parse.c -------------------------------------------------- */

/* Parses @path. Returns 0 and fills @sc, or -1 with a FAIL (parse error,
 * unreadable file) in @r. A construct synack cannot run is not an error:
 * sc->skip_line/skip_reason say what it was. */
int ps_parse_file(const char *path, struct ps_script *sc, struct ps_result *r);
void ps_script_free(struct ps_script *sc);

/* ---- pktscript_run.c ---------------------------------------------------- */

struct ps_options {
    struct sn_config cfg;
    int64_t tolerance_us;     /* packetdrill's --tolerance_usecs (4 ms) */
    int64_t ts_tick_us;       /* > 0: check outbound TS val advances (µs per tick) */
    bool ignore_trailing;     /* segments sent after the last event pass (packetdrill) */
    bool verbose;
};

/* Applies one runner option ("--profile", "linux"; "--set", "a=b";
 * "--tolerance-usecs", "N"; or the "--name=value" forms). Returns how many
 * words it used (1 or 2), 0 when @name is not a runner option, or -1 (bad
 * value; @err says why). */
int ps_option_apply(struct ps_options *o, const char *name, const char *value, char *err,
                    size_t err_len);

/* Runs a parsed script. @base holds the command line's options; the
 * script's own options apply first, then @cli_args again on top. */
void ps_run(const struct ps_script *sc, const struct ps_options *base, char **cli_args,
            int n_cli_args, struct ps_result *r);

/* ---- the runner's state (pktscript_run.c, pktscript_sys.c) ------------ */

#define PS_MAX_FDS 64
#define PS_MAX_PENDING 8
#define PS_TS_MAP 64

enum ps_fd_kind { PS_FD_SOCKET, PS_FD_LISTEN, PS_FD_CONN };

/* A script file descriptor: what socket() returned in the script. */
struct ps_fd {
    bool used;
    enum ps_fd_kind kind;
    struct sn_sock *so;
    bool nonblock;
    uint16_t port;       /* from bind(), 0 = none */
    bool nodelay, keepalive, quickack, linger0;
    bool connecting;     /* connect() started, not yet reported done */
};

/* A segment the stack sent, and when. */
struct ps_out {
    uint8_t *buf;
    size_t len;
    sn_time_us t;
};

/* A blocking call waiting for the stack (packetdrill's fds block unless
 * O_NONBLOCK is set). */
struct ps_pending {
    const struct ps_event *ev;
    sn_time_us start, end;  /* end: when the script says it returns, or -1 */
    int64_t done;           /* bytes a blocking write has queued so far */
    int attempts;           /* 0 on the first try */
};

struct ps_run {
    const struct ps_script *sc;
    struct ps_options opt;
    struct ps_result *r;
    struct sn_stack *st;
    sn_time_us now;
    struct ps_fd fds[PS_MAX_FDS];
    int cur_fd;                 /* the connection under test, or -1 */
    /* The connection's 4-tuple; inbound packets use it unless they name
     * ports. */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    bool lport_known;
    /* Script <-> live sequence space: outbound seq and inbound ack/SACK are
     * offset by live_isn - script_isn, learned from each outbound SYN.
     * Inbound sequence numbers are used as written (packetdrill injects
     * the script's ISN unchanged). */
    bool isn_known;
    uint32_t live_isn, script_isn;
    /* Script <-> live TS val, so inbound TS ecr can be mapped. */
    bool ts_known;
    uint32_t ts_first_script, ts_first_live;
    uint32_t ts_map_script[PS_TS_MAP], ts_map_live[PS_TS_MAP];
    int n_ts_map;
    uint16_t ip_id;
    /* Output not yet matched by the script, oldest first. */
    struct ps_out *q;
    int q_len, q_cap;
    struct ps_pending pend[PS_MAX_PENDING];
    int n_pend;
};

/* Collects every segment the stack has to send, stamped with ru->now. */
void ps_run_drain(struct ps_run *ru);

/* ---- pktscript_sys.c: socket calls ------------------------------------ */

enum ps_call { PS_CALL_DONE, PS_CALL_BLOCKED };

/* Runs @ev's call at ru->now (a retry when pend->attempts > 0). When it
 * completes, its result is checked against the script: a mismatch is a
 * FAIL in ru->r. A call that would block on a blocking fd returns
 * PS_CALL_BLOCKED and is retried as time moves. */
enum ps_call ps_syscall_exec(struct ps_run *ru, const struct ps_event *ev, struct ps_pending *pend);

/* A symbolic constant (SOCK_STREAM, O_NONBLOCK, EAGAIN, ...). Returns 0 and
 * *v, or -1 when unknown. */
int ps_symbol(const char *name, int64_t *v);
/* The errno name for a positive errno value ("EAGAIN"), or NULL. */
const char *ps_errno_name(int err);
/* Checks at parse time that a call is one the runner implements; returns
 * NULL or why not (for SKIP). */
const char *ps_syscall_unsupported(const struct ps_syscall *sc);

/* ---- pktscript_code.c: %{ }% blocks ---------------------------------- */

/* The tcpi_* view of a connection, in Linux's units. */
struct ps_tcpi {
    bool valid;
    struct sn_tcp_info info;
    int64_t rto_max_us; /* the stack's RTO ceiling (tcpi_rto is backed off) */
};

/* Checks that every statement of @code is one the evaluator supports and
 * every name one it knows. Returns NULL or why not (for SKIP). */
const char *ps_code_unsupported(const char *code, char *buf, size_t len);

/* Evaluates @code's assertions against @ti. Returns 0, or -1 with the
 * failing assertion described in @msg. */
int ps_code_eval(const char *code, const struct ps_tcpi *ti, char *msg, size_t len);

/* ---- formatting --------------------------------------------------------- */

/* "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>" into @buf. */
void ps_packet_str(const struct ps_packet *p, char *buf, size_t len);

#endif
