/* tools/trace_svg.c: ladders as SVG, and a self-contained HTML page of
 * them side by side (inline CSS and SVG; nothing fetched).
 *
 * Each ladder: the client's line on the left, the server's on the right,
 * one sloping arrow per segment (time runs down), its label above and its
 * options and marks below, each side's state in a box beside its line
 * where it changes, and the summary underneath. */
#include <string.h>

#include "tcp/tcp.h"
#include "tools/trace.h"

#define LADDER_W 780 /* one ladder's width */
#define GAP_W 40     /* between ladders side by side */
#define X_TIME 64    /* right edge of the time column */
#define X_LEFT 210   /* the client's line */
#define X_RIGHT 590  /* the server's line */
#define HEAD_H 96    /* title, endpoints, initial states */
#define ROW_H 46
#define SLOPE 12 /* how far an arrow drops on its way across */
#define SUM_LINE_H 16
#define CHAR_W 6.6 /* 11px monospace, for fitting labels */

#define FONT "font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\""

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static const char *seg_color(const struct tr_row *r)
{
    uint8_t f = r->seg.flags;
    if (f & TCP_F_RST)
        return "#c62828";
    if (f & TCP_F_SYN)
        return "#2e7d32";
    if (f & TCP_F_FIN)
        return "#1565c0";
    if (r->marks & (TRM_RETRANS | TRM_OOO | TRM_LOST))
        return "#e65100";
    if (r->seg.len == 0)
        return "#757575";
    return "#212121";
}

struct sum_count {
    int n;
};

static void count_line(const char *text, void *arg)
{
    (void)text;
    ((struct sum_count *)arg)->n++;
}

/* Rows drawn (a fold counts as one). */
static size_t rows_drawn(const struct tr_conn *c, const struct tr_fold *f)
{
    return c->n_rows - (f->b - f->a) + (f->b > f->a);
}

static int ladder_height(const struct tr_conn *c, const struct tr_view *v, bool summary)
{
    struct tr_fold f;
    trace_fold(c, v, &f);
    struct sum_count n = {0};
    if (summary)
        trace_summary_lines(c, v, count_line, &n);
    return HEAD_H + (int)rows_drawn(c, &f) * ROW_H + ROW_H + 8 + (summary ? 16 : 0) +
           n.n * SUM_LINE_H;
}

/* Text at (x, y); @anchor start|middle|end; squeezed to @max_w px if wider. */
static void text(FILE *out, double x, double y, const char *anchor, double size, const char *fill,
                 const char *weight, double max_w, const char *s)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%.1f\" fill=\"%s\"", x,
            y, anchor, size, fill);
    if (weight)
        fprintf(out, " font-weight=\"%s\"", weight);
    double est = (double)strlen(s) * CHAR_W * size / 11.0;
    if (max_w > 0 && est > max_w)
        fprintf(out, " textLength=\"%.0f\" lengthAdjust=\"spacingAndGlyphs\"", max_w);
    fputs(">", out);
    xml_text(out, s);
    fputs("</text>\n", out);
}

/* A state in a rounded box beside a line: left of the client's, right of
 * the server's. */
static void state_box(FILE *out, int side, double y, const char *name, bool from_stack)
{
    double w = (double)strlen(name) * 7.0 + 12, h = 18;
    double x = side == 0 ? X_LEFT - 8 - w : X_RIGHT + 8;
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"4\" fill=\"%s\" "
            "stroke=\"#00838f\"/>\n",
            x, y - 13, w, h, from_stack ? "#b2ebf2" : "#e0f7fa");
    text(out, x + w / 2, y, "middle", 11.5, "#004d40", "bold", 0, name);
}

static void arrow(FILE *out, const struct tr_row *r, double y)
{
    const char *color = seg_color(r);
    double x1 = r->seg.dir == 0 ? X_LEFT : X_RIGHT, x2 = r->seg.dir == 0 ? X_RIGHT : X_LEFT;
    double y1 = y, y2 = y + SLOPE;
    double dx = x2 - x1, dy = y2 - y1;
    double len = dx < 0 ? -dx : dx; /* |dx| >> |dy|: good enough */
    double ux = dx / len, uy = dy / len;
    double bx = x2 - ux * 10, by = y2 - uy * 10; /* base of the head */
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1.6\"%s/>\n",
            x1, y1, bx, by, color, (r->marks & TRM_RETRANS) ? " stroke-dasharray=\"6 3\"" : "");
    fprintf(out, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x2, y2,
            bx - uy * 4, by + ux * 4, bx + uy * 4, by - ux * 4, color);
}

struct sum_draw {
    FILE *out;
    double y;
};

static void draw_sum_line(const char *s, void *arg)
{
    struct sum_draw *d = arg;
    text(d->out, 16, d->y, "start", 11, "#333", NULL, LADDER_W - 24, s);
    d->y += SUM_LINE_H;
}

/* One ladder, its top-left corner at (@x0, 0). */
static void ladder(FILE *out, const struct tr_conn *c, const char *label, const struct tr_view *v,
                   double x0, bool summary)
{
    char ep[2][32], buf[320], opt[200], marks[200], tb[32];
    struct tr_fold f;
    trace_fold(c, v, &f);
    trace_endpoint(c, 0, ep[0], sizeof(ep[0]));
    trace_endpoint(c, 1, ep[1], sizeof(ep[1]));
    int height = ladder_height(c, v, summary);
    double span = X_RIGHT - X_LEFT - 16;

    fprintf(out, "<g transform=\"translate(%.0f,0)\" %s>\n", x0, FONT);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", LADDER_W,
            height);
    if (summary) { /* standalone; in a page the section's heading says it */
        if (label)
            snprintf(buf, sizeof(buf), "%s: connection %d", label, c->id);
        else
            snprintf(buf, sizeof(buf), "Connection %d: %s -> %s", c->id, ep[0], ep[1]);
        text(out, 16, 22, "start", 14, "#111", "bold", LADDER_W - 32, buf);
    }
    text(out, X_LEFT, 46, "middle", 12, "#111", "bold", 0, ep[0]);
    text(out, X_RIGHT, 46, "middle", 12, "#111", "bold", 0, ep[1]);
    text(out, X_LEFT, 60, "middle", 10.5, "#555", NULL, 0,
         c->from_stack[0] ? "client (states: stack trace)" : "client");
    text(out, X_RIGHT, 60, "middle", 10.5, "#555", NULL, 0,
         c->from_stack[1] ? "server (states: stack trace)" : "server");
    if (!v->no_time)
        text(out, X_TIME, 60, "end", 10.5, "#555", NULL, 0, "time (s)");

    double y_top = HEAD_H - 18, y_end = height - 0.0;
    int rows = (int)rows_drawn(c, &f);
    y_end = HEAD_H + rows * ROW_H + ROW_H - 10;
    for (int s = 0; s < 2; s++)
        fprintf(out,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#37474f\" "
                "stroke-width=\"2\"/>\n",
                s ? X_RIGHT : X_LEFT, y_top - 6, s ? X_RIGHT : X_LEFT, y_end);
    int st[2] = {c->init_state[0], c->init_state[1]};
    state_box(out, 0, y_top + 4, trace_state_name(st[0]), c->from_stack[0]);
    state_box(out, 1, y_top + 4, trace_state_name(st[1]), c->from_stack[1]);

    double y = HEAD_H + 14;
    for (size_t i = 0; i < c->n_rows; i++) {
        if (i == f.a && f.b > f.a) {
            snprintf(buf, sizeof(buf), "%zu rows folded: %u + %u segments, %llu + %llu bytes%s",
                     f.b - f.a, f.segs[0], f.segs[1], (unsigned long long)f.bytes[0],
                     (unsigned long long)f.bytes[1], f.retrans ? ", retransmissions" : "");
            fprintf(out,
                    "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f5f5f5\" "
                    "stroke=\"#bdbdbd\" stroke-dasharray=\"4 3\"/>\n",
                    X_LEFT - 4, y - 10, X_RIGHT - X_LEFT + 8, ROW_H - 12);
            text(out, (X_LEFT + X_RIGHT) / 2.0, y + 8, "middle", 10.5, "#616161", NULL, span, buf);
            for (size_t k = f.a; k < f.b; k++)
                for (int s = 0; s < 2; s++)
                    if (c->rows[k].state[s] != TR_NO_STATE)
                        st[s] = c->rows[k].state[s];
            y += ROW_H;
            i = f.b - 1;
            continue;
        }
        const struct tr_row *r = &c->rows[i];
        if (!v->no_time)
            text(out, X_TIME, y + 4, "end", 10.5, "#555", NULL, 0,
                 trace_reltime(c, r->t_us, tb, sizeof(tb)));
        if (r->has_seg) {
            arrow(out, r, y);
            trace_label(c, r, v, buf, sizeof(buf));
            text(out, (X_LEFT + X_RIGHT) / 2.0, y - 3, "middle", 11, seg_color(r), NULL, span, buf);
            trace_options(c, r, v, opt, sizeof(opt));
            trace_marks(r, marks, sizeof(marks));
            if (opt[0] || marks[0]) {
                fprintf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9.5\" "
                        "fill=\"#616161\">",
                        (X_LEFT + X_RIGHT) / 2.0, y + SLOPE + 12.0);
                xml_text(out, opt);
                if (marks[0]) {
                    fprintf(out, "%s<tspan fill=\"#c62828\" font-weight=\"bold\">[",
                            opt[0] ? " " : "");
                    xml_text(out, marks);
                    fputs("]</tspan>", out);
                }
                fputs("</text>\n", out);
            }
        }
        for (int s = 0; s < 2; s++) {
            if (r->state[s] == TR_NO_STATE)
                continue;
            st[s] = r->state[s];
            /* The receiver's state changes where the arrow lands. */
            double sy = r->has_seg && r->seg.dir != s ? y + SLOPE + 4 : y + 4;
            state_box(out, s, sy, trace_state_name(st[s]), c->from_stack[s]);
            if (r->ev[s]) {
                char vars[256];
                trace_event_vars(r->ev[s], v, vars, sizeof(vars));
                fprintf(out, "<title>");
                xml_text(out, vars);
                fprintf(out, "</title>\n");
            }
        }
        y += ROW_H;
    }
    /* Where each side ended. */
    state_box(out, 0, y + 2, trace_state_name(st[0]), c->from_stack[0]);
    state_box(out, 1, y + 2, trace_state_name(st[1]), c->from_stack[1]);
    if (!v->no_time)
        text(out, X_TIME, y + 2, "end", 10.5, "#555", NULL, 0, "end");
    if (summary) {
        struct sum_draw d = {out, y + ROW_H};
        trace_summary_lines(c, v, draw_sum_line, &d);
    }
    fputs("</g>\n", out);
}

void trace_svg(FILE *out, struct tr_conn *const *conns, const char *const *labels, size_t n,
               const struct tr_view *v)
{
    int h = 40;
    for (size_t i = 0; i < n; i++) {
        int lh = ladder_height(conns[i], v, true);
        if (lh > h)
            h = lh;
    }
    int w = n ? (int)n * LADDER_W + ((int)n - 1) * GAP_W : LADDER_W;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n"
            "<title>synack trace</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            w, h, w, h);
    for (size_t i = 0; i < n; i++)
        ladder(out, conns[i], labels ? labels[i] : NULL, v, (double)i * (LADDER_W + GAP_W), true);
    fputs("</svg>\n", out);
}

struct sum_html {
    FILE *out;
};

static void html_sum_line(const char *s, void *arg)
{
    struct sum_html *h = arg;
    fputs("<li>", h->out);
    xml_text(h->out, s);
    fputs("</li>\n", h->out);
}

void trace_html(FILE *out, struct tr_conn *const *conns, const char *const *labels, size_t n,
                const struct tr_view *v, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
    xml_text(out, title ? title : "synack trace");
    fputs("</title>\n<style>\n"
          "body { font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; "
          "color: #212121; }\n"
          "h1 { font-size: 20px; margin: 0 0 4px; }\n"
          "p.note { color: #616161; margin: 0 0 16px; font-size: 13px; }\n"
          ".ladders { display: flex; flex-wrap: nowrap; gap: 24px; overflow-x: auto; "
          "align-items: flex-start; }\n"
          "section { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; "
          "padding: 12px; flex: none; }\n"
          "section h2 { font-size: 16px; margin: 0 0 8px; }\n"
          "section ul { font-size: 13px; margin: 8px 0 0; padding-left: 18px; }\n"
          ".legend span { display: inline-block; margin-right: 14px; font-size: 13px; }\n"
          "</style>\n</head>\n<body>\n<h1>",
          out);
    xml_text(out, title ? title : "synack trace");
    fputs("</h1>\n<p class=\"note\">Each connection as a ladder: client on the left, server on "
          "the right, time running down. Arrows are segments (flags, seq, ack, payload length, "
          "window; options and marks below); boxes are each side's TCP state (RFC 9293) where "
          "it changes.</p>\n"
          "<p class=\"legend\"><span style=\"color:#2e7d32\">&#9632; SYN</span>"
          "<span style=\"color:#1565c0\">&#9632; FIN</span>"
          "<span style=\"color:#c62828\">&#9632; RST</span>"
          "<span style=\"color:#212121\">&#9632; data</span>"
          "<span style=\"color:#757575\">&#9632; ACK only</span>"
          "<span style=\"color:#e65100\">&#9632; retransmitted / reordered / after a gap</span>"
          "</p>\n<div class=\"ladders\">\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const struct tr_conn *c = conns[i];
        char ep[2][32];
        trace_endpoint(c, 0, ep[0], sizeof(ep[0]));
        trace_endpoint(c, 1, ep[1], sizeof(ep[1]));
        int h = ladder_height(c, v, false);
        fputs("<section>\n<h2>", out);
        if (labels && labels[i]) {
            xml_text(out, labels[i]);
            fputs(" &#8212; ", out);
        }
        fprintf(out, "connection %d: %s &#8594; %s</h2>\n", c->id, ep[0], ep[1]);
        fprintf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\">\n",
                LADDER_W, h, LADDER_W, h);
        ladder(out, c, labels ? labels[i] : NULL, v, 0, false);
        fputs("</svg>\n<ul>\n", out);
        struct sum_html sh = {out};
        trace_summary_lines(c, v, html_sum_line, &sh);
        fputs("</ul>\n</section>\n", out);
    }
    fputs("</div>\n</body>\n</html>\n", out);
}
