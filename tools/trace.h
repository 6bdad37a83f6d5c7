/* tools/trace.h: `synack trace`, shared by its parts:
 *
 *   trace_read.c     pcap/pcapng through libpcap: link layers, IPv4, TCP,
 *                    segments grouped into connections
 *   trace_analyze.c  each side's TCP state inferred per RFC 9293; marks
 *                    (retransmission, duplicate ACK, ...); the summary;
 *                    arrow labels and folding, shared by the renderers
 *   trace_states.c   the JSON-lines state trace of `synack serve --trace`:
 *                    writing it, reading it, putting it on a ladder
 *   trace_text.c     the ladder in a terminal
 *   trace_svg.c      the ladder as SVG, and a self-contained HTML page
 *   trace.c          the command line
 *
 * A connection is drawn as a ladder: side 0 (the client, which sent the
 * first SYN) on the left, side 1 (the server) on the right, one row per
 * segment, each side's state written beside its line when it changes. */
#ifndef SYNACK_TOOLS_TRACE_H
#define SYNACK_TOOLS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/trace.h"
#include "wire/tcp.h"

#define TR_NO_STATE (-1)

/* What the analysis says about a segment (as Wireshark's TCP analysis). */
enum tr_mark {
    TRM_RETRANS = 1 << 0,    /* these sequence numbers were seen before */
    TRM_OOO = 1 << 1,        /* fills a gap soon after later data: reordered */
    TRM_LOST = 1 << 2,       /* starts beyond the data seen: some went uncaptured */
    TRM_DUPACK = 1 << 3,     /* same ACK and window, data outstanding */
    TRM_ZEROWIN = 1 << 4,    /* advertises a zero window */
    TRM_WINPROBE = 1 << 5,   /* probes the peer's zero window */
    TRM_WINUPDATE = 1 << 6,  /* only opens the window */
    TRM_KEEPALIVE = 1 << 7,  /* one below the next sequence number, window open */
    TRM_RST = 1 << 8,        /* resets the connection */
    TRM_ACK_UNSEEN = 1 << 9, /* acknowledges data the capture did not see */
    TRM_FAST = 1 << 10,      /* a retransmission the peer's duplicate ACKs asked for */
};

struct tr_seg {
    uint8_t dir; /* the sender: 0 client, 1 server */
    uint8_t flags;
    uint16_t wnd; /* as on the wire */
    uint32_t seq, ack, len;
    struct tcp_opts opt;
    uint32_t frame; /* 1-based, in its file */
};

/* One line of a --states file: a state change the stack made. */
struct tr_event {
    int64_t t_us; /* wall clock, µs since the epoch */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    int from, to;
    char cause[128];
    uint32_t iss, irs, snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
    uint32_t cwnd, ssthresh, srtt_us, rto_us;
    bool placed;
};

/* A row of the ladder: a segment, or only a state change (from --states:
 * a timer or the application moved the stack while nothing was sent). */
struct tr_row {
    int64_t t_us; /* capture time, µs since the epoch */
    bool has_seg;
    struct tr_seg seg;
    uint32_t marks;               /* enum tr_mark */
    uint32_t dupack;              /* the how-many-th duplicate ACK (TRM_DUPACK) */
    int8_t state[2];              /* the side's state after this row, or TR_NO_STATE */
    const struct tr_event *ev[2]; /* --states: the stack's change, or NULL */
};

enum tr_close {
    TRC_OPEN,      /* still open at the end of the capture */
    TRC_FIN_BOTH,  /* FIN both ways */
    TRC_FIN_HALF,  /* FIN one way only: half-closed */
    TRC_RST,       /* reset */
    TRC_REFUSED,   /* the SYN was answered with RST */
    TRC_NO_ANSWER, /* SYNs without an answer */
};

struct tr_summary {
    int64_t first_us, last_us;
    int64_t syn_us, synack_us, ack_us; /* handshake times, -1 unseen */
    uint64_t bytes[2];                 /* payload, each byte once */
    uint32_t segs[2], retrans[2];
    enum tr_close close;
    int closer;         /* who sent the first FIN, or the RST; -1 */
    bool simopen;       /* both sides sent a SYN: simultaneous open */
    int64_t simopen_us; /* first SYN to the last SYN,ACK */
};

struct tr_conn {
    int id; /* 1-based, in the order connections start in the files */
    const char *file;
    uint32_t addr[2]; /* [0] client, [1] server; host order */
    uint16_t port[2];
    struct tr_row *rows;
    size_t n_rows, cap_rows;
    int8_t init_state[2];
    bool from_stack[2]; /* --states gave this side's states */
    bool mid_stream;    /* no SYN in the capture: it began before */
    uint32_t base[2];   /* each direction's ISN, for relative numbers */
    bool have_base[2];
    uint8_t wscale[2]; /* window scale each SYN announced */
    bool ws[2];
    struct tr_summary sum;
    /* Grouping (trace_read.c). */
    bool finished; /* FIN both ways or an RST: a new SYN is a new connection */
    bool fin_seen[2];
    struct tr_conn *hnext;
};

#define TR_HASH 4096

struct tr_capture {
    struct tr_conn **conns;
    size_t n_conns, cap_conns;
    struct tr_conn *hash[TR_HASH];
    /* Per file read: */
    uint64_t frames, tcp_segs, not_tcp, malformed, fragments;
    int linktype;
    char stopped[320]; /* why the file was read only in part, or "" */
};

/* ---- trace_read.c ---- */
/* Reads @path (pcap or pcapng) and adds its TCP segments to @cap, new
 * connections numbered after the ones already there. Returns 0, or -1
 * with a message (no "synack: " prefix) in @err. A capture cut off
 * mid-frame is read up to there: 0, with the message in cap->stopped. */
int trace_read(struct tr_capture *cap, const char *path, char *err, size_t err_len);
void trace_capture_free(struct tr_capture *cap);
/* The hash chain (through hnext, newest first) holding every connection
 * between a1:p1 and a2:p2, in either direction, among others. */
struct tr_conn *trace_conn_chain(const struct tr_capture *cap, uint32_t a1, uint16_t p1,
                                 uint32_t a2, uint16_t p2);
/* Appends a row; returns it (zeroed, states TR_NO_STATE) or NULL. */
struct tr_row *trace_row_add(struct tr_conn *c);
/* Inserts a row before index @at; returns it or NULL. */
struct tr_row *trace_row_insert(struct tr_conn *c, size_t at);

/* ---- trace_analyze.c ---- */
/* Infers both sides' states (RFC 9293 3.3.2, as the capture point sees the
 * segments), sets each row's marks, fills the summary. */
void trace_analyze(struct tr_conn *c);

struct tr_view {
    bool absolute; /* raw sequence numbers (default: relative to the ISN) */
    bool no_time;  /* leave out times (comparing captures taken apart) */
    bool verbose;  /* timestamp values, frame numbers */
    bool color;    /* ANSI colours (text only) */
    uint32_t max;  /* data-phase rows to show, the rest folded; 0: all */
};

/* Rows [a, b) are folded (a == b: none): the data phase between the
 * handshake and the close beyond view->max rows. */
struct tr_fold {
    size_t a, b;
    uint32_t segs[2];
    uint64_t bytes[2];
    uint32_t retrans;
};
void trace_fold(const struct tr_conn *c, const struct tr_view *v, struct tr_fold *f);

/* "SYN,ACK", "PSH,ACK", ... */
char *trace_flags(uint8_t flags, char *buf, size_t len);
/* The arrow's label: "SYN,ACK seq=0 ack=1 len=0 win=65535". */
char *trace_label(const struct tr_conn *c, const struct tr_row *r, const struct tr_view *v,
                  char *buf, size_t len);
/* Its options: "<mss 1460,sackOK,ts,ws 7>", or "" for none. */
char *trace_options(const struct tr_conn *c, const struct tr_row *r, const struct tr_view *v,
                    char *buf, size_t len);
/* Its marks: "retransmission, dup ACK #2", or "" for none. */
char *trace_marks(const struct tr_row *r, char *buf, size_t len);
/* "A.B.C.D:P" */
char *trace_endpoint(const struct tr_conn *c, int side, char *buf, size_t len);
/* Seconds since the connection's first row: "0.000123". */
char *trace_reltime(const struct tr_conn *c, int64_t t_us, char *buf, size_t len);
/* Microseconds as "0.123 ms" / "1.234 s". */
char *trace_duration(int64_t us, char *buf, size_t len);
/* The summary as lines (each without newline) through @line. */
void trace_summary_lines(const struct tr_conn *c, const struct tr_view *v,
                         void (*line)(const char *text, void *arg), void *arg);
/* What a stack event says beside its state: "cwnd=14600 ssthresh=inf ...". */
char *trace_event_vars(const struct tr_event *e, const struct tr_view *v, char *buf, size_t len);
const char *trace_state_name(int s);

/* ---- trace_states.c ---- */
struct tr_states {
    struct tr_event *ev;
    size_t n, cap;
};
/* Reads a JSON-lines state trace. Returns 0, or -1 with a message. */
int trace_states_read(struct tr_states *st, const char *path, char *err, size_t err_len);
void trace_states_free(struct tr_states *st);
/* Puts the stack's state changes on the connections they belong to; the
 * side the stack played then shows them instead of inferred states. */
void trace_states_apply(struct tr_capture *cap, struct tr_states *st);

/* The writer `synack serve --trace FILE` uses. */
struct trace_writer;
/* Opens @path (truncated) and sets @s's state trace to write to it.
 * Returns 0 or a negative errno. */
int trace_writer_start(struct sn_stack *s, const char *path, struct trace_writer **out);
/* Clears the stack's trace (when @s is given) and closes the file. NULL is
 * a no-op. */
void trace_writer_stop(struct sn_stack *s, struct trace_writer *w);

/* ---- trace_text.c ---- */
void trace_text(FILE *out, const struct tr_conn *c, const struct tr_view *v);

/* ---- trace_svg.c ---- */
/* One SVG holding @n ladders side by side, labelled @labels[i] (or NULL). */
void trace_svg(FILE *out, struct tr_conn *const *conns, const char *const *labels, size_t n,
               const struct tr_view *v);
/* A self-contained HTML page: the ladders side by side, with summaries. */
void trace_html(FILE *out, struct tr_conn *const *conns, const char *const *labels, size_t n,
                const struct tr_view *v, const char *title);

#endif
