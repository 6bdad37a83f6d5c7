/* tools/trace.c: `synack trace`: captures in, ladder diagrams out (see
 * trace.h for the parts). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/trace.h"

#define CMD "trace"

void cmd_trace_help(FILE *out)
{
    fprintf(out,
            "usage: synack trace FILE... [OPTIONS]\n"
            "\n"
            "Reads packet captures (pcap or pcapng: tcpdump -w, tshark, Wireshark, or synack\n"
            "serve --pcap; Ethernet, raw IPv4 or Linux cooked) and draws each TCP connection\n"
            "in them as a ladder diagram: the client (which sent the first SYN) on the left,\n"
            "the server on the right, one arrow per segment labelled with its flags, seq,\n"
            "ack, payload length, window and options, and each side's TCP state (RFC 9293)\n"
            "beside its line where it changes, inferred from the segments. Retransmissions,\n"
            "out-of-order segments, segments the capture missed, duplicate ACKs, zero\n"
            "windows, window probes and resets are marked; a summary follows each ladder.\n"
            "Connections are numbered in the order they start.\n"
            "\n"
            "  tcpdump -i eth0 -w web.pcap port 80      # capture anything, then\n"
            "  synack trace web.pcap --max 10           # read it as ladders\n"
            "\n"
            "options:\n"
            "  --conn LIST        only these connections: 2, or 1,3-5\n"
            "  --port P           only connections with an endpoint on port P (repeatable)\n"
            "  --relative         sequence numbers relative to each side's ISN, as\n"
            "                     Wireshark shows them (the default)\n"
            "  --absolute         sequence numbers as on the wire\n"
            "  --max N            show at most N rows of each data phase, folding the middle,\n"
            "                     so the handshake and the close stay readable (0: all)\n"
            "  --svg OUT.svg      also write the ladders, side by side, as an SVG image\n"
            "  --html OUT.html    also write them side by side as an HTML page (self-\n"
            "                     contained: no external resources)\n"
            "  --label TEXT       name the connections shown, in order, in the SVG and HTML\n"
            "                     (repeatable)\n"
            "  --title TEXT       the HTML page's title\n"
            "  --states FILE      draw the states synack recorded (synack serve --trace FILE)\n"
            "                     for the side it played, instead of inferring them\n"
            "  --list             one line per connection instead of ladders\n"
            "  --no-time          leave out times and durations (to compare two captures of\n"
            "                     one exchange, e.g. tcpdump's and synack's)\n"
            "  --color WHEN       auto (when stdout is a terminal; the default), always, never\n"
            "  -q, --quiet        no ladders on stdout (with --svg or --html)\n"
            "  -v, --verbose      timestamp option values and frame numbers too\n"
            "  -h, --help         this text\n"
            "\n"
            "exit status: 0 drawn, 1 unreadable file or no connection to draw, 2 bad command\n"
            "line\n");
}

enum {
    OPT_CONN = 256,
    OPT_PORT,
    OPT_RELATIVE,
    OPT_ABSOLUTE,
    OPT_MAX,
    OPT_SVG,
    OPT_HTML,
    OPT_LABEL,
    OPT_TITLE,
    OPT_STATES,
    OPT_LIST,
    OPT_NO_TIME,
    OPT_COLOR,
};

static const struct option long_opts[] = {
    {"conn", required_argument, NULL, OPT_CONN},
    {"port", required_argument, NULL, OPT_PORT},
    {"relative", no_argument, NULL, OPT_RELATIVE},
    {"absolute", no_argument, NULL, OPT_ABSOLUTE},
    {"max", required_argument, NULL, OPT_MAX},
    {"svg", required_argument, NULL, OPT_SVG},
    {"html", required_argument, NULL, OPT_HTML},
    {"label", required_argument, NULL, OPT_LABEL},
    {"title", required_argument, NULL, OPT_TITLE},
    {"states", required_argument, NULL, OPT_STATES},
    {"list", no_argument, NULL, OPT_LIST},
    {"no-time", no_argument, NULL, OPT_NO_TIME},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define MAX_PORTS 16

struct trace_opts {
    const char *conn_list;
    uint16_t ports[MAX_PORTS];
    int n_ports;
    const char *svg, *html, *title, *states;
    const char **labels;
    int n_labels;
    const char **files;
    int n_files;
    int list, quiet;
    const char *color;
    struct tr_view view;
};

/* Whether connection @id is in "1,3-5". Returns 1, 0, or -1 (bad list). */
static int in_list(const char *list, int id)
{
    const char *p = list;
    int found = 0;
    while (*p) {
        char *end;
        long lo = strtol(p, &end, 10), hi;
        if (end == p || lo < 1)
            return -1;
        hi = lo;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            if (end == p + 1 || hi < lo)
                return -1;
            p = end;
        }
        if (id >= lo && id <= hi)
            found = 1;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return found;
}

static int parse(int argc, char **argv, struct trace_opts *o)
{
    opterr = 0;
    optind = 1;
    int c, rc = 0;
    o->labels = calloc((size_t)argc, sizeof(*o->labels));
    o->files = calloc((size_t)argc, sizeof(*o->files));
    if (!o->labels || !o->files)
        return cli_fail("out of memory");
    while (!rc && (c = getopt_long(argc, argv, ":qvh", long_opts, NULL)) != -1) {
        uint32_t n;
        switch (c) {
        case OPT_CONN:
            o->conn_list = optarg;
            if (in_list(optarg, 1) < 0)
                rc = cli_usage("--conn: '%s' is not a list of connection numbers, e.g. 2 or "
                               "1,3-5",
                               optarg);
            break;
        case OPT_PORT:
            if (cli_parse_u32(optarg, 1, 65535, &n) < 0)
                rc = cli_usage("--port: '%s' is not a port number from 1 to 65535", optarg);
            else if (o->n_ports == MAX_PORTS)
                rc = cli_usage("--port: at most %d ports", MAX_PORTS);
            else
                o->ports[o->n_ports++] = (uint16_t)n;
            break;
        case OPT_RELATIVE:
            o->view.absolute = false;
            break;
        case OPT_ABSOLUTE:
            o->view.absolute = true;
            break;
        case OPT_MAX:
            if (cli_parse_u32(optarg, 0, 1000000, &o->view.max) < 0)
                rc = cli_usage("--max: '%s' is not a number of rows from 0 to 1000000", optarg);
            break;
        case OPT_SVG:
            o->svg = optarg;
            break;
        case OPT_HTML:
            o->html = optarg;
            break;
        case OPT_LABEL:
            o->labels[o->n_labels++] = optarg;
            break;
        case OPT_TITLE:
            o->title = optarg;
            break;
        case OPT_STATES:
            o->states = optarg;
            break;
        case OPT_LIST:
            o->list = 1;
            break;
        case OPT_NO_TIME:
            o->view.no_time = true;
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                rc = cli_usage("--color: '%s' is not auto, always or never", optarg);
            o->color = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'v':
            o->view.verbose = true;
            break;
        case 'h':
            cmd_trace_help(stdout);
            rc = -1;
            break;
        default:
            rc = cli_getopt_error(CMD, c, argc, argv);
            break;
        }
    }
    for (int i = optind; !rc && i < argc; i++)
        o->files[o->n_files++] = argv[i];
    if (!rc && o->n_files == 0)
        rc = cli_usage_cmd(CMD, "give a capture file to read");
    if (!rc && o->quiet && !o->svg && !o->html && !o->list)
        rc = cli_usage_cmd(CMD, "--quiet leaves nothing to do without --svg or --html");
    return rc;
}

static bool selected(const struct trace_opts *o, const struct tr_conn *c)
{
    if (o->conn_list && in_list(o->conn_list, c->id) != 1)
        return false;
    if (!o->n_ports)
        return true;
    for (int i = 0; i < o->n_ports; i++)
        if (c->port[0] == o->ports[i] || c->port[1] == o->ports[i])
            return true;
    return false;
}

static bool want_color(const char *when)
{
    if (when && strcmp(when, "always") == 0)
        return true;
    if (when && strcmp(when, "never") == 0)
        return false;
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

static void list_conn(const struct tr_conn *c)
{
    static const char *const closes[] = {
        [TRC_OPEN] = "open", [TRC_FIN_BOTH] = "FIN both ways", [TRC_FIN_HALF] = "half-closed",
        [TRC_RST] = "reset", [TRC_REFUSED] = "refused",        [TRC_NO_ANSWER] = "no answer",
    };
    char a[32], b[32];
    size_t segs = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        segs += c->rows[i].has_seg;
    printf("%4d  %-21s -> %-21s %6zu segments  %llu/%llu bytes  %s\n", c->id,
           trace_endpoint(c, 0, a, sizeof(a)), trace_endpoint(c, 1, b, sizeof(b)), segs,
           (unsigned long long)c->sum.bytes[0], (unsigned long long)c->sum.bytes[1],
           closes[c->sum.close]);
}

/* Writes @path with @fn; returns 0 or an exit status. */
static int write_file(const char *opt, const char *path, struct tr_conn **sel, size_t n,
                      const struct trace_opts *o, int html)
{
    char eb[CLI_ERR_LEN];
    FILE *f = fopen(path, "we");
    if (!f)
        return cli_fail("%s: cannot write '%s': %s", opt, path, cli_strerror(-errno, eb));
    struct tr_view v = o->view;
    v.color = false;
    const char *const *labels = o->n_labels ? o->labels : NULL;
    const char **lab = NULL;
    if (labels && (size_t)o->n_labels < n) {
        /* Fewer labels than connections: the rest go unnamed. */
        lab = calloc(n, sizeof(*lab));
        if (!lab) {
            fclose(f);
            return cli_fail("out of memory");
        }
        memcpy(lab, o->labels, (size_t)o->n_labels * sizeof(*lab));
        labels = lab;
    }
    if (html)
        trace_html(f, sel, labels, n, &v, o->title);
    else
        trace_svg(f, sel, labels, n, &v);
    free(lab);
    if (ferror(f) | (fclose(f) != 0))
        return cli_fail("%s: cannot write '%s': %s", opt, path, cli_strerror(-EIO, eb));
    return 0;
}

static int run(struct trace_opts *o)
{
    struct tr_capture cap;
    memset(&cap, 0, sizeof(cap));
    struct tr_states st = {0};
    struct tr_conn **sel = NULL;
    char err[512];
    int rc = CLI_EXIT_RUNTIME;

    for (int i = 0; i < o->n_files; i++) {
        if (trace_read(&cap, o->files[i], err, sizeof(err)) < 0) {
            cli_fail("%s", err);
            goto out;
        }
        if (cap.stopped[0])
            fprintf(stderr, "synack: %s\n", cap.stopped);
        if (o->view.verbose)
            fprintf(stderr,
                    "synack: %s: %llu frames, %llu TCP segments, %llu not TCP/IPv4, %llu "
                    "fragments skipped, %llu malformed\n",
                    o->files[i], (unsigned long long)cap.frames, (unsigned long long)cap.tcp_segs,
                    (unsigned long long)cap.not_tcp, (unsigned long long)cap.fragments,
                    (unsigned long long)cap.malformed);
    }
    for (size_t i = 0; i < cap.n_conns; i++)
        trace_analyze(cap.conns[i]);
    if (o->states) {
        if (trace_states_read(&st, o->states, err, sizeof(err)) < 0) {
            cli_fail("%s", err);
            goto out;
        }
        trace_states_apply(&cap, &st);
    }

    sel = calloc(cap.n_conns ? cap.n_conns : 1, sizeof(*sel));
    if (!sel) {
        cli_fail("out of memory");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < cap.n_conns; i++)
        if (selected(o, cap.conns[i]))
            sel[n++] = cap.conns[i];
    if (n == 0) {
        if (cap.n_conns == 0)
            cli_fail("no TCP connection in %s%s", o->files[0], o->n_files > 1 ? " ..." : "");
        else
            cli_fail("none of the %zu TCP connections matches --conn/--port (synack trace "
                     "--list shows them)",
                     cap.n_conns);
        goto out;
    }

    o->view.color = want_color(o->color);
    if (o->list) {
        for (size_t i = 0; i < n; i++)
            list_conn(sel[i]);
    } else if (!o->quiet) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs("\n", stdout);
            trace_text(stdout, sel[i], &o->view);
        }
    }
    if (o->svg && (rc = write_file("--svg", o->svg, sel, n, o, 0)) != 0)
        goto out;
    if (o->html && (rc = write_file("--html", o->html, sel, n, o, 1)) != 0)
        goto out;
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
out:
    free(sel);
    trace_states_free(&st);
    trace_capture_free(&cap);
    return rc;
}

int cmd_trace_main(int argc, char **argv)
{
    struct trace_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse(argc, argv, &o);
    if (!rc)
        rc = run(&o);
    else if (rc < 0)
        rc = CLI_EXIT_OK;
    free(o.labels);
    free(o.files);
    return rc;
}
