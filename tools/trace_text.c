/* tools/trace_text.c: a connection's ladder in a terminal.
 *
 *                  192.0.2.1:40000 |                                      | 192.0.2.2:80
 *                           client |                                      | server
 *                           CLOSED |                                      | LISTEN
 *   0.000000              SYN-SENT |-- SYN seq=0 len=0 win=64240 <...> -->| SYN-RECEIVED
 *   0.000051                       |<- SYN,ACK seq=0 ack=1 len=0 ... -----| ...
 *
 * Time (seconds since the connection's first segment), each side's state
 * where it changes, arrows labelled with the segment, marks at the end of
 * the line. Colour only when asked (stdout is a terminal). */
#include <string.h>

#include "tcp/tcp.h"
#include "tools/trace.h"

#define ARROW_MIN 40
#define ARROW_MAX 110
#define STATE_W 12 /* "SYN-RECEIVED" */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE "\033[34m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"

struct layout {
    const struct tr_view *v;
    int time_w;  /* 0 with no_time */
    int left_w;  /* right-aligned text left of the client's line */
    int arrow_w; /* between the two lines */
};

static const char *col(const struct layout *l, const char *c) { return l->v->color ? c : ""; }

static void pad(FILE *out, int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', out);
}

/* Time column, left state, the client's line. */
static void left_part(FILE *out, const struct layout *l, const char *time, const char *left,
                      const char *left_color)
{
    if (l->time_w) {
        fprintf(out, "%*s ", l->time_w, time ? time : "");
    }
    int n = (int)strlen(left);
    pad(out, l->left_w - n);
    fprintf(out, "%s%s%s |", left_color && *left ? col(l, left_color) : "", left,
            left_color && *left ? col(l, C_RESET) : "");
}

/* The server's line, right state, extra text. */
static void right_part(FILE *out, const struct layout *l, const char *right,
                       const char *right_color, const char *extra, const char *extra_color)
{
    fputc('|', out);
    if (*right || (extra && *extra))
        fputc(' ', out);
    if (*right)
        fprintf(out, "%s%s%s", right_color ? col(l, right_color) : "", right,
                right_color ? col(l, C_RESET) : "");
    if (extra && *extra) {
        pad(out, STATE_W - (int)strlen(right) + 2);
        fprintf(out, "%s%s%s", extra_color ? col(l, extra_color) : "", extra,
                extra_color ? col(l, C_RESET) : "");
    }
    fputc('\n', out);
}

/* A line with only the two vertical lines and text beside them. */
static void plain_row(FILE *out, const struct layout *l, const char *time, const char *left,
                      const char *right, const char *extra)
{
    left_part(out, l, time, left, C_BOLD C_CYAN);
    pad(out, l->arrow_w);
    right_part(out, l, right, C_BOLD C_CYAN, extra, C_DIM);
}

static const char *seg_color(const struct tr_row *r)
{
    uint8_t f = r->seg.flags;
    if (f & TCP_F_RST)
        return C_RED;
    if (f & TCP_F_SYN)
        return C_GREEN;
    if (f & TCP_F_FIN)
        return C_BLUE;
    if (r->marks & (TRM_RETRANS | TRM_OOO | TRM_LOST))
        return C_YELLOW;
    if (r->seg.len == 0)
        return C_DIM;
    return NULL;
}

/* The arrow: label centred on a shaft of '-', head toward the receiver. */
static void arrow(FILE *out, const struct layout *l, const struct tr_row *r, const char *label)
{
    int w = l->arrow_w, n = (int)strlen(label);
    if (n > w - 6)
        n = w - 6;
    int shaft = w - n - 2; /* two spaces around the label */
    int before = shaft / 2, after = shaft - before;
    const char *c = seg_color(r);
    if (c)
        fputs(col(l, c), out);
    if (r->seg.dir == 1) {
        fputc('<', out);
        for (int i = 1; i < before; i++)
            fputc('-', out);
    } else {
        for (int i = 0; i < before; i++)
            fputc('-', out);
    }
    fprintf(out, " %.*s ", n, label);
    if (r->seg.dir == 0) {
        for (int i = 1; i < after; i++)
            fputc('-', out);
        fputc('>', out);
    } else {
        for (int i = 0; i < after; i++)
            fputc('-', out);
    }
    if (c)
        fputs(col(l, C_RESET), out);
}

static void full_label(const struct tr_conn *c, const struct tr_row *r, const struct tr_view *v,
                       char *buf, size_t len)
{
    char lab[128], opt[160];
    trace_label(c, r, v, lab, sizeof(lab));
    trace_options(c, r, v, opt, sizeof(opt));
    snprintf(buf, len, "%s%s%s", lab, opt[0] ? " " : "", opt);
}

static void summary_line(const char *text, void *arg) { fprintf(arg, "  %s\n", text); }

static void event_line(FILE *out, const struct layout *l, const struct tr_conn *c, int side,
                       const struct tr_event *e)
{
    char vars[256], extra[300];
    trace_event_vars(e, l->v, vars, sizeof(vars));
    snprintf(extra, sizeof(extra), "^ %s (stack): %s", side ? "server" : "client", vars);
    (void)c;
    left_part(out, l, NULL, "", NULL);
    pad(out, l->arrow_w);
    fputc('|', out);
    fprintf(out, " %s%s%s\n", col(l, C_DIM), extra, col(l, C_RESET));
}

void trace_text(FILE *out, const struct tr_conn *c, const struct tr_view *v)
{
    char ep[2][32], buf[320], tb[32];
    trace_endpoint(c, 0, ep[0], sizeof(ep[0]));
    trace_endpoint(c, 1, ep[1], sizeof(ep[1]));
    struct tr_fold fold;
    trace_fold(c, v, &fold);

    struct layout l = {.v = v, .time_w = v->no_time ? 0 : 10};
    l.left_w = (int)strlen(ep[0]) > STATE_W ? (int)strlen(ep[0]) : STATE_W;
    int widest = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        if (!c->rows[i].has_seg || (i >= fold.a && i < fold.b))
            continue;
        full_label(c, &c->rows[i], v, buf, sizeof(buf));
        if ((int)strlen(buf) > widest)
            widest = (int)strlen(buf);
    }
    if (fold.b > fold.a)
        widest = widest > 56 ? widest : 56; /* room for the fold's line */
    l.arrow_w = widest + 8;
    if (l.arrow_w < ARROW_MIN)
        l.arrow_w = ARROW_MIN;
    if (l.arrow_w > ARROW_MAX)
        l.arrow_w = ARROW_MAX;

    size_t n_segs = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        n_segs += c->rows[i].has_seg;
    fprintf(out, "%sConnection %d: %s -> %s%s  (%s, %zu segments)\n", col(&l, C_BOLD), c->id, ep[0],
            ep[1], col(&l, C_RESET), c->file, n_segs);
    if (c->from_stack[0] || c->from_stack[1])
        fprintf(out, "  states: %s from the stack's trace, %s inferred from the segments\n",
                c->from_stack[0] ? "client" : "server", c->from_stack[0] ? "server" : "client");
    if (c->mid_stream)
        fprintf(out, "  (the capture starts mid-connection: states before it are assumed)\n");
    fputc('\n', out);

    /* Heading: endpoints, roles, initial states. */
    if (l.time_w)
        fprintf(out, "%*s ", l.time_w, "time");
    pad(out, l.left_w - (int)strlen(ep[0]));
    fprintf(out, "%s |", ep[0]);
    pad(out, l.arrow_w);
    fprintf(out, "| %s\n", ep[1]);
    left_part(out, &l, NULL, "client", NULL);
    pad(out, l.arrow_w);
    right_part(out, &l, "server", NULL, NULL, NULL);
    int st[2] = {c->init_state[0], c->init_state[1]};
    plain_row(out, &l, NULL, trace_state_name(st[0]), trace_state_name(st[1]), NULL);

    for (size_t i = 0; i < c->n_rows; i++) {
        if (i == fold.a && fold.b > fold.a) {
            snprintf(buf, sizeof(buf), "~ %zu rows folded: %u + %u segments, %llu + %llu bytes%s ~",
                     fold.b - fold.a, fold.segs[0], fold.segs[1], (unsigned long long)fold.bytes[0],
                     (unsigned long long)fold.bytes[1], fold.retrans ? ", retransmissions" : "");
            left_part(&*out, &l, NULL, "", NULL);
            int n = (int)strlen(buf);
            int before = (l.arrow_w - n) / 2;
            if (before < 0)
                before = 0;
            pad(out, before);
            fprintf(out, "%s%s%s", col(&l, C_DIM), buf, col(&l, C_RESET));
            pad(out, l.arrow_w - before - n);
            right_part(out, &l, "", NULL, NULL, NULL);
            /* The states the folded rows reached. */
            for (size_t k = fold.a; k < fold.b; k++)
                for (int s = 0; s < 2; s++)
                    if (c->rows[k].state[s] != TR_NO_STATE)
                        st[s] = c->rows[k].state[s];
            i = fold.b - 1;
            continue;
        }
        const struct tr_row *r = &c->rows[i];
        const char *left = "", *right = "";
        if (r->state[0] != TR_NO_STATE)
            left = trace_state_name(st[0] = r->state[0]);
        if (r->state[1] != TR_NO_STATE)
            right = trace_state_name(st[1] = r->state[1]);
        const char *time = v->no_time ? NULL : trace_reltime(c, r->t_us, tb, sizeof(tb));
        char marks[160] = "";
        if (r->has_seg) {
            trace_marks(r, marks, sizeof(marks));
            if (v->verbose) {
                size_t m = strlen(marks);
                snprintf(marks + m, sizeof(marks) - m, "%s#%u", m ? " " : "", r->seg.frame);
            }
            full_label(c, r, v, buf, sizeof(buf));
            left_part(out, &l, time, left, C_BOLD C_CYAN);
            arrow(out, &l, r, buf);
            char extra[200] = "";
            if (marks[0])
                snprintf(extra, sizeof(extra), "[%s]", marks);
            right_part(out, &l, right, C_BOLD C_CYAN, extra,
                       r->marks & ~(TRM_WINUPDATE | TRM_KEEPALIVE) ? C_RED : C_YELLOW);
        } else {
            plain_row(out, &l, time, left, right, NULL);
        }
        for (int s = 0; s < 2; s++)
            if (r->ev[s])
                event_line(out, &l, c, s, r->ev[s]);
    }
    plain_row(out, &l, v->no_time ? NULL : "end", trace_state_name(st[0]), trace_state_name(st[1]),
              NULL);
    fputc('\n', out);
    trace_summary_lines(c, v, summary_line, out);
}
