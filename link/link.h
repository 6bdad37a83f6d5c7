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

#endif
