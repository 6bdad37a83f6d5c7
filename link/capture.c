/* link/capture.c: a link that wraps another and records every frame it
 * receives or sends to a pcap file, with libpcap's own writer so tcpdump,
 * tshark and Wireshark read it. Owns the dump file and the inner link. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link/link.h"

/* Big enough for any frame a 1500-byte (or jumbo) link carries; GSO
 * super-frames beyond it are recorded truncated, with their true length. */
#define CAPTURE_SNAPLEN 65535

/* Timestamps: wall-clock time at the wrap plus the time since an origin,
 * which is the monotonic clock at the wrap, or the first frame's "now" if
 * that is earlier. On the real loop "now" is that same monotonic clock, so
 * frames get their true wall-clock time. A simulator's virtual clock counts
 * from 0, far below it, so its first frame is stamped at the wrap and the
 * gaps between frames are the virtual ones, the same in every run. */
struct capture {
    struct link l; /* first: a struct link * is a struct capture * */
    struct link *inner;
    pcap_t *pd;
    pcap_dumper_t *dump;
    sn_time wall_at_wrap; /* CLOCK_REALTIME, µs */
    sn_time origin;       /* "now" that maps to wall_at_wrap */
    int origin_fixed;     /* set by the first frame */
};

static struct capture *capture_of(const struct link *l) { return (struct capture *)l; }

static sn_time realtime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sn_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timeval frame_time(struct capture *c, sn_time now)
{
    if (!c->origin_fixed) {
        if (now < c->origin)
            c->origin = now;
        c->origin_fixed = 1;
    }
    sn_time t = c->wall_at_wrap + (now - c->origin);
    struct timeval tv = {.tv_sec = t / 1000000, .tv_usec = t % 1000000};
    if (tv.tv_usec < 0) { /* C division truncates toward zero */
        tv.tv_usec += 1000000;
        tv.tv_sec--;
    }
    return tv;
}

/* Writes @p as it is, offload metadata and all (a partial checksum is
 * recorded unfinished). */
static void record(struct capture *c, const struct pkt *p, sn_time now)
{
    struct pcap_pkthdr h = {
        .ts = frame_time(c, now),
        .caplen = p->len < CAPTURE_SNAPLEN ? p->len : CAPTURE_SNAPLEN,
        .len = p->len,
    };
    pcap_dump((u_char *)c->dump, &h, p->data);
}

/* Flushing once per batch leaves a readable file if the process is killed.
 * A failed write is not reported: a full disk must not stop the traffic. */
static int capture_recv(struct link *l, struct pkt_pool *pool, struct pkt **out, int max,
                        sn_time now)
{
    struct capture *c = capture_of(l);
    int n = link_recv(c->inner, pool, out, max, now);
    for (int i = 0; i < n; i++)
        record(c, out[i], now);
    if (n > 0)
        pcap_dump_flush(c->dump);
    return n;
}

/* Records before handing over: the inner link consumes the frames. */
static int capture_send(struct link *l, struct pkt **frames, int n, sn_time now)
{
    struct capture *c = capture_of(l);
    for (int i = 0; i < n; i++)
        record(c, frames[i], now);
    if (n > 0)
        pcap_dump_flush(c->dump);
    return link_send(c->inner, frames, n, now);
}

static int capture_fd(const struct link *l) { return link_fd(capture_of(l)->inner); }

static sn_time capture_next_deadline(const struct link *l)
{
    return link_next_deadline(capture_of(l)->inner);
}

static void capture_close(struct link *l)
{
    struct capture *c = capture_of(l);
    pcap_dump_close(c->dump);
    pcap_close(c->pd);
    link_close(c->inner);
    free(c);
}

static const struct link_ops capture_ops = {
    .recv = capture_recv,
    .send = capture_send,
    .fd = capture_fd,
    .next_deadline = capture_next_deadline,
    .close = capture_close,
};

/* Opens the dump; returns 0 or a negative errno (fopen's, when it set one). */
static int open_dump(struct capture *c, const char *path)
{
    c->pd = pcap_open_dead(c->l.kind == LINK_ETH ? DLT_EN10MB : DLT_RAW, CAPTURE_SNAPLEN);
    if (!c->pd)
        return -ENOMEM;
    errno = 0;
    c->dump = pcap_dump_open(c->pd, path);
    if (c->dump)
        return 0;
    int err = errno ? -errno : -EIO;
    pcap_close(c->pd);
    return err;
}

/* Consumes @inner on every path, so the caller never has to guess who
 * closes it: on failure it is closed here. */
int capture_wrap(struct link *inner, const char *path, struct link **out)
{
    if (!inner || !path) {
        link_close(inner);
        return -EINVAL;
    }
    struct capture *c = calloc(1, sizeof(*c));
    int err = c ? 0 : -ENOMEM;
    if (c) {
        c->l = *inner; /* kind, mtu, mac and name as the inner link has them now */
        c->l.ops = &capture_ops;
        err = open_dump(c, path);
    }
    if (err) {
        free(c);
        link_close(inner);
        return err;
    }
    c->inner = inner;
    c->wall_at_wrap = realtime_now();
    c->origin = clock_mono_now(NULL);
    *out = &c->l;
    return 0;
}
