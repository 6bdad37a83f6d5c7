/* tests/fuzz/fuzz_trace.c: libFuzzer target for `synack trace`: the capture
 * reader (libpcap: pcap in either byte order, with micro- or nanosecond
 * times, and pcapng; Ethernet, raw IPv4, Linux cooked v1/v2, BSD loopback),
 * the analysis, the --states reader (JSON lines) and every renderer (text,
 * SVG, HTML).
 *
 * Input: the bytes of a capture file, optionally followed by the line
 * "#states\n" and a state trace (the marker is a comment line there, so
 * the part from it on is a valid --states file):
 *
 *   [capture bytes] ["#states\n" JSON lines]
 *
 * Each part is written to a memfd and read through /proc/self/fd/N, so the
 * readers open a path as they do for `synack trace FILE --states FILE`.
 * As the command does, connections are analysed after every capture is
 * read, then the state trace is read and applied; here the state trace is
 * read even when the capture was refused, so its parser sees every input.
 * An odd-sized input reads the capture twice, as two files given on one
 * command line. The ladders are drawn twice to /dev/null: with the default
 * view, and with the view the input's last byte picks (bit 0 absolute,
 * 1 no times, 2 verbose, 3 colour, bits 4-7 --max), with labels. Reading
 * must fail with a message or succeed; nothing may crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/trace.h"

#define MARK "#states\n"
#define MARK_LEN (sizeof(MARK) - 1)

static int cap_fd = -1, states_fd = -1;
static char cap_path[40], states_path[40];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__ubsan_default_options(void);

/* Undefined behaviour stops the run (and saves the input) instead of
 * scrolling by in the log. */
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static int memfd(const char *name, char *path, size_t len)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        perror("fuzz_trace: memfd_create");
        abort();
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cap_fd = memfd("fuzz_trace.pcap", cap_path, sizeof(cap_path));
    states_fd = memfd("fuzz_trace.jsonl", states_path, sizeof(states_path));
    devnull = fopen("/dev/null", "we");
    if (!devnull) {
        perror("fuzz_trace: /dev/null");
        abort();
    }
    return 0;
}

/* Makes @fd's file hold exactly @len bytes of @data. */
static void load(int fd, const uint8_t *data, size_t len)
{
    if (ftruncate(fd, 0) < 0)
        abort();
    size_t off = 0;
    while (off < len) {
        ssize_t n = pwrite(fd, data + off, len - off, (off_t)off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
}

static void draw(struct tr_capture *cap, const struct tr_view *v, const char *const *labels)
{
    for (size_t i = 0; i < cap->n_conns; i++)
        trace_text(devnull, cap->conns[i], v);
    if (!cap->n_conns)
        return;
    trace_svg(devnull, cap->conns, labels, cap->n_conns, v);
    trace_html(devnull, cap->conns, labels, cap->n_conns, v, "fuzz <&\"> title");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *mark = size ? memmem(data, size, MARK, MARK_LEN) : NULL;
    size_t cap_len = mark ? (size_t)(mark - data) : size;
    char err[512];

    struct tr_capture *cap = calloc(1, sizeof(*cap));
    if (!cap)
        return 0;
    load(cap_fd, data, cap_len);
    int ok = trace_read(cap, cap_path, err, sizeof(err)) == 0;
    if (ok && (size & 1))
        ok = trace_read(cap, cap_path, err, sizeof(err)) == 0;
    if (!ok && !err[0])
        abort(); /* -1 must come with a message */
    if (ok)
        for (size_t i = 0; i < cap->n_conns; i++)
            trace_analyze(cap->conns[i]);

    struct tr_states st = {0};
    if (mark) {
        load(states_fd, mark, size - cap_len);
        err[0] = 0;
        if (trace_states_read(&st, states_path, err, sizeof(err)) == 0) {
            if (ok)
                trace_states_apply(cap, &st);
        } else if (!err[0]) {
            abort();
        }
    }

    if (ok) {
        struct tr_view v = {0};
        draw(cap, &v, NULL);
        uint8_t b = data[size - 1]; /* ok: the capture had a header */
        v = (struct tr_view){.absolute = b & 1,
                             .no_time = b & 2,
                             .verbose = b & 4,
                             .color = b & 8,
                             .max = b >> 4};
        const char **labels = calloc(cap->n_conns ? cap->n_conns : 1, sizeof(*labels));
        if (labels) {
            labels[0] = "label <1> & \"one\"";
            draw(cap, &v, labels);
            free(labels);
        }
    }
    trace_states_free(&st);
    trace_capture_free(cap);
    free(cap);
    return 0;
}
