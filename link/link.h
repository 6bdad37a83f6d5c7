/* link/link.h: the device under a stack. A link moves whole frames (or, for
 * TUN, whole IPv4 packets) between the world and packet buffers; it knows
 * nothing of protocols. Drivers: TAP, TUN, memory pipe. Wrappers that take
 * any link and are links themselves: capture (pcap), impairment.
 *
 * Offloads (IFF_VNET_HDR) stay inside the TAP driver: it translates the
 * virtio-net header to and from struct pkt_offload, so callers never change
 * when offloads are switched on. */
#ifndef SYNACK_LINK_LINK_H
#define SYNACK_LINK_LINK_H

#include <stdint.h>

#include "core/pkt.h"
#include "core/time.h"

enum link_kind {
    LINK_ETH, /* frames start with an Ethernet II header (TAP, pipe) */
    LINK_IP,  /* packets start with the IPv4 header (TUN) */
};

struct link;

struct link_ops {
    /* Fills @out with up to @max received frames, each allocated from @pool
     * and now owned by the caller; stamps them with @now. Returns how many,
     * 0 when nothing is waiting, or a negative errno on a device error.
     * Frames that cannot get a buffer are left for the next call. */
    int (*recv)(struct link *l, struct pkt_pool *pool, struct pkt **out, int max, sn_time now);
    /* Sends @n frames. Consumes every one of them, whatever it returns.
     * Returns how many the device accepted, or a negative errno. */
    int (*send)(struct link *l, struct pkt **frames, int n, sn_time now);
    /* A file descriptor that becomes readable when recv has work, or -1. */
    int (*fd)(const struct link *l);
    /* The earliest time the link needs to be polled without its fd becoming
     * readable (delay lines), or SN_TIME_NEVER. NULL means never. */
    sn_time (*next_deadline)(const struct link *l);
    /* Frees the link (not the inner link of a wrapper: see its own API). */
    void (*close)(struct link *l);
};

struct link {
    const struct link_ops *ops;
    enum link_kind kind;
    uint32_t mtu;   /* largest IPv4 packet the link carries */
    uint8_t mac[6]; /* the device's hardware address, for LINK_ETH */
    char name[32];  /* device name, for messages */
};

static inline int link_recv(struct link *l, struct pkt_pool *pool, struct pkt **out, int max,
                            sn_time now)
{
    return l->ops->recv(l, pool, out, max, now);
}

static inline int link_send(struct link *l, struct pkt **frames, int n, sn_time now)
{
    return l->ops->send(l, frames, n, now);
}

static inline int link_fd(const struct link *l) { return l->ops->fd(l); }

static inline sn_time link_next_deadline(const struct link *l)
{
    return l->ops->next_deadline ? l->ops->next_deadline(l) : SN_TIME_NEVER;
}

static inline void link_close(struct link *l)
{
    if (l)
        l->ops->close(l);
}

/* TAP (IFF_TAP | IFF_NO_PI) or TUN (IFF_TUN | IFF_NO_PI) device named @name:
 * opened if it exists, created otherwise, and brought up. @mtu 0 keeps the
 * device's MTU. Returns 0 and *out, or a negative errno:
 * -EPERM (not root / no CAP_NET_ADMIN), -EBUSY (device in use),
 * -ENODEV (/dev/net/tun missing), -EINVAL (bad name). On a TAP, link->mac
 * is a random locally administered MAC for the stack, distinct from the
 * kernel side's; callers may overwrite it. */
struct tuntap_opts {
    const char *name; /* NULL, "" or "tap%d": the kernel picks (see link->name) */
    uint32_t mtu;
    int vnet_hdr;     /* ask for IFF_VNET_HDR offloads (falls back if refused) */
    int multi_queue;  /* IFF_MULTI_QUEUE: each open adds a queue */
};
int tap_open(const struct tuntap_opts *o, struct link **out);
int tun_open(const struct tuntap_opts *o, struct link **out);

/* Whether IFF_VNET_HDR is in effect on a TAP/TUN link: 1, or 0 when it was
 * not asked for or the kernel refused it (and for links of other kinds).
 * With it on, the kernel may hand over GSO frames of up to 64 KiB; frames
 * that do not fit the pool's buffers are dropped (tuntap_rx_dropped), so
 * give recv buffers of 64 KiB + PKT_HEADROOM to take them. */
int tuntap_vnet_hdr(const struct link *l);
/* Frames a TAP/TUN link read but dropped because they did not fit the
 * buffer, and frames the device refused on send (0 for other links). */
uint64_t tuntap_rx_dropped(const struct link *l);
uint64_t tuntap_tx_errors(const struct link *l);

/* A pair of memory links: what is sent on one is received on the other, in
 * order, with no loss. For two stacks in one process (tests, simulator).
 * Each side holds at most @depth frames; more are dropped and counted.
 * Zero copy: recv hands over the very pkts the peer sent (still from the
 * sender's pool) and ignores its pool argument. Returns 0, -EINVAL (@depth
 * 0) or -ENOMEM. pipe_dropped() counts the frames dropped on their way to
 * @l because its queue was full. */
int pipe_pair(uint32_t mtu, uint32_t depth, struct link **a, struct link **b);
uint64_t pipe_dropped(const struct link *l);

/* Wraps @inner: every frame received or sent is written to the pcap file
 * @path (libpcap's writer: DLT_EN10MB for LINK_ETH, DLT_RAW for LINK_IP).
 * Consumes @inner: the capture owns it and closes it when closed, and on
 * failure it is closed at once. Returns 0 or a negative errno (-EINVAL,
 * -ENOMEM, or the error opening @path). Timestamps: see link/capture.c. */
int capture_wrap(struct link *inner, const char *path, struct link **out);

/* ---- impairment (link/impair.c) ---------------------------------------
 *
 * A link that wraps another and, per direction, from a seeded PRNG: loses
 * frames (independently, or in bursts after Gilbert-Elliott), duplicates
 * them, corrupts them (flips one bit inside the IPv4 packet, where the IP,
 * TCP, UDP or ICMP checksum must catch it), holds some back so later ones
 * overtake them (reordering), delays them with jitter, and limits the rate
 * with a token bucket in front of a bounded queue (tail drop). Every
 * decision comes from the seed and the frames offered, so the same run
 * gives the same decisions. Frames wait in a delay line inside the wrapper:
 * its next_deadline is the earliest release, and recv (called at that
 * deadline, as the event loop and the simulator do) also releases the
 * frames due in the send direction. The pipeline, in order: loss,
 * duplication, corruption, rate limit, delay + jitter, reordering. */

enum impair_dir { IMPAIR_TX = 0, IMPAIR_RX = 1 }; /* sent through the wrapper / received */

struct impair_params {
    double loss;            /* probability a frame is lost, independently */
    /* Gilbert-Elliott bursty loss, on when ge_p > 0: per frame the chain
     * moves Good->Bad with ge_p and Bad->Good with ge_r, then the frame is
     * lost with ge_loss_good or ge_loss_bad. Mean loss is
     * (ge_p * ge_loss_bad + ge_r * ge_loss_good) / (ge_p + ge_r); mean burst
     * length 1 / ge_r frames (with ge_loss_bad 1). */
    double ge_p, ge_r, ge_loss_good, ge_loss_bad;
    /* With ge_slot_us > 0 the chain also moves with time: a frame after
     * an idle gap takes one step per slot of the gap (so a burst lasts
     * about BURST frames at one frame per slot or more, and a loss state
     * does not outlive a long silence, as on a real link); 0: one step
     * per frame whatever the time (netem's gemodel). */
    sn_time ge_slot_us;
    double dup;             /* probability a frame is sent twice */
    double corrupt;         /* probability one bit of the IPv4 packet flips */
    double reorder;         /* probability a frame is held back: */
    uint32_t reorder_gap;   /*   until this many later frames have passed it (0: by time) */
    sn_time reorder_hold_us;/*   or for at most this long (0: 100 ms) */
    sn_time delay_us;       /* one-way delay added to every frame */
    sn_time jitter_us;      /* plus uniform -jitter..+jitter; never reorders */
    uint64_t rate_bps;      /* bits per second; 0: unlimited */
    uint32_t burst_bytes;   /* token bucket depth (0: one 1514-byte frame) */
    uint32_t queue_bytes;   /* bytes queued before the rate limit (0: 128 KiB); tail drop */
    uint32_t limit;         /* frames held at once in this direction (0: 8192) */
};

struct impair_cfg {
    uint64_t seed;          /* each direction draws from its own stream */
    struct impair_params dir[2];
};

/* What happened in one direction. frames_in = frames offered; every one is
 * lost, rate_dropped, overflow or eventually released (frames_out counts
 * the duplicates too). */
struct impair_stats {
    uint64_t frames_in, bytes_in;
    uint64_t frames_out, bytes_out;
    uint64_t lost;          /* by loss or Gilbert-Elliott */
    uint64_t lost_bad;      /* ...of which while Gilbert-Elliott was in Bad */
    uint64_t duplicated;    /* extra copies made */
    uint64_t dup_failed;    /* a copy was due but no buffer was free */
    uint64_t corrupted;     /* one bit flipped */
    uint64_t corrupt_skipped; /* chosen, but not IPv4 or checksummed by offload */
    uint64_t reordered;     /* held back */
    uint64_t rate_dropped;  /* tail drop at the rate limiter's queue */
    uint64_t overflow;      /* dropped: @limit frames already held */
    uint64_t inner_refused; /* the inner link refused on send */
};

/* Sets bursty loss: Gilbert-Elliott with every frame lost in Bad and none
 * in Good, mean loss @loss (0 <= loss < 1) in bursts of mean length
 * @burst frames (>= 1), the chain stepping once per frame and once per
 * idle millisecond (ge_slot_us). Clears the independent loss. */
void impair_params_burst_loss(struct impair_params *p, double loss, double burst);

/* Whether @p changes anything (a wrapper of all-zero parameters passes
 * every frame through at once). */
int impair_params_active(const struct impair_params *p);

/* Wraps @inner (which it then owns and closes: on failure at once).
 * Copies @cfg. Returns 0 and *out, or -EINVAL (a probability outside 0..1,
 * a negative delay) or -ENOMEM. */
int impair_wrap(struct link *inner, const struct impair_cfg *cfg, struct link **out);

/* The counters of @dir, or NULL when @l is not an impairment link. */
const struct impair_stats *impair_stats(const struct link *l, enum impair_dir dir);

/* Frames held in the delay line of @dir now. */
uint32_t impair_held(const struct link *l, enum impair_dir dir);

#endif
