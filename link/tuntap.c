/* link/tuntap.c: the TAP and TUN drivers, one implementation for both.
 * Owns the /dev/net/tun file descriptor, the device's setup (up, MTU), the
 * stack's own MAC on a TAP, and the IFF_VNET_HDR <-> struct pkt_offload
 * translation, so nothing above the link ever sees a virtio-net header. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "link/link.h"

/* The largest frame the kernel can hand over: a 64 KiB GSO packet, or one
 * at the largest MTU (65535), plus link headers (Ethernet, a VLAN tag). */
#define RX_FRAME_MAX (65536 + 64)

struct tuntap {
    struct link l; /* first: a struct link * is a struct tuntap * */
    int fd;
    int vnet_hdr;     /* IFF_VNET_HDR in effect */
    uint8_t *scratch; /* RX_FRAME_MAX bytes for what does not fit the pkt */
    uint64_t rx_dropped;
    uint64_t tx_errors;
};

static const struct link_ops tuntap_ops;

static struct tuntap *tuntap_of(const struct link *l)
{
    return l && l->ops == &tuntap_ops ? (struct tuntap *)l : NULL;
}

/* The documented error set: no permission is -EPERM whichever call noticed
 * it, and a missing tun driver is -ENODEV whether the node or the module is
 * absent. Anything else passes through. */
static int map_errno(int e)
{
    switch (e) {
    case EACCES:
        return -EPERM;
    case ENOENT:
    case ENXIO:
        return -ENODEV;
    default:
        return -e;
    }
}

/* Opens one queue of the device with @flags; the kernel writes the actual
 * name (it expands patterns like "tap%d") into @name. Returns the fd or a
 * negative errno. */
static int open_queue(short flags, char name[IFNAMSIZ])
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return map_errno(errno);

    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = flags;
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = map_errno(errno);
        close(fd);
        return err;
    }
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

/* Headers of struct virtio_net_hdr size, and the offloads we can take:
 * partial checksums and IPv4 TSO super-frames. */
static int vnet_setup(int fd)
{
    int hdr_sz = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_sz) < 0)
        return -errno;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
        return -errno;
    return 0;
}

/* Opens the queue, with IFF_VNET_HDR when @want_vnet and the kernel agrees.
 * A refusal at any step reopens without it: IFF_VNET_HDR cannot be taken
 * back from an attached fd. Sets *vnet to what is in effect. */
static int open_with_vnet(short flags, int want_vnet, char name[IFNAMSIZ], int *vnet)
{
    char asked[IFNAMSIZ];
    memcpy(asked, name, IFNAMSIZ);
    if (want_vnet) {
        int fd = open_queue((short)(flags | IFF_VNET_HDR), name);
        if (fd >= 0 && vnet_setup(fd) == 0) {
            *vnet = 1;
            return fd;
        }
        if (fd >= 0)
            close(fd);
        else if (fd != -EINVAL)
            return fd; /* not about offloads: retrying would fail the same way */
        memcpy(name, asked, IFNAMSIZ);
    }
    *vnet = 0;
    return open_queue(flags, name);
}

/* Brings @name up through socket @s, sets its MTU when @mtu is not 0, and
 * reads back its MTU and hardware address. Skips the writes that would
 * change nothing, so a persistent device already configured by its owner
 * opens without CAP_NET_ADMIN. Returns 0 or a negative errno. */
static int netdev_configure(int s, const char name[IFNAMSIZ], uint32_t mtu, uint32_t *mtu_out,
                            uint8_t hw[6])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
        return map_errno(errno);
    if (mtu && (uint32_t)ifr.ifr_mtu != mtu) {
        ifr.ifr_mtu = (int)mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
            return map_errno(errno);
    }
    *mtu_out = (uint32_t)ifr.ifr_mtu;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return map_errno(errno);
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            return map_errno(errno);
    }
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
        return map_errno(errno);
    memcpy(hw, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* Interface ioctls need a socket; any will do. */
static int netdev_setup(const char name[IFNAMSIZ], uint32_t mtu, uint32_t *mtu_out, uint8_t hw[6])
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return map_errno(errno);
    int err = netdev_configure(s, name, mtu, mtu_out, hw);
    close(s);
    return err;
}

/* A random locally administered unicast MAC (02:xx:...) for the stack. It
 * must differ from the kernel side's, or each end would take the other's
 * frames for its own. */
static int stack_mac(uint8_t mac[6], const uint8_t kernel_mac[6])
{
    if (getrandom(mac, 6, 0) != 6)
        return -errno;
    mac[0] = 0x02; /* locally administered, unicast */
    if (memcmp(mac, kernel_mac, 6) == 0)
        mac[5] ^= 1;
    return 0;
}

static int tuntap_open(const struct tuntap_opts *o, enum link_kind kind, struct link **out)
{
    char name[IFNAMSIZ] = "";
    if (o->name) {
        if (strlen(o->name) >= IFNAMSIZ)
            return -EINVAL;
        strcpy(name, o->name);
    }
    struct tuntap *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;

    short flags = (short)((kind == LINK_ETH ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
                          (o->multi_queue ? IFF_MULTI_QUEUE : 0));
    t->fd = open_with_vnet(flags, o->vnet_hdr, name, &t->vnet_hdr);
    int err = t->fd < 0 ? t->fd : 0;
    uint8_t kernel_mac[6];
    if (!err)
        err = netdev_setup(name, o->mtu, &t->l.mtu, kernel_mac);
    if (!err && kind == LINK_ETH)
        err = stack_mac(t->l.mac, kernel_mac);
    if (!err && !(t->scratch = malloc(RX_FRAME_MAX)))
        err = -ENOMEM;
    if (err) {
        if (t->fd >= 0)
            close(t->fd);
        free(t);
        return err;
    }
    t->l.ops = &tuntap_ops;
    t->l.kind = kind;
    memcpy(t->l.name, name, IFNAMSIZ);
    *out = &t->l;
    return 0;
}

int tap_open(const struct tuntap_opts *o, struct link **out)
{
    return tuntap_open(o, LINK_ETH, out);
}

int tun_open(const struct tuntap_opts *o, struct link **out)
{
    return tuntap_open(o, LINK_IP, out);
}

/* virtio16 fields are in host order: legacy headers are native-endian and
 * we never switch the device with TUNSETVNETLE/TUNSETVNETBE. */
static void offload_from_vnet(struct pkt_offload *off, const struct virtio_net_hdr *h)
{
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        off->csum_partial = 1;
        off->csum_start = h->csum_start;
        off->csum_offset = h->csum_offset;
    }
    off->csum_valid = !!(h->flags & VIRTIO_NET_HDR_F_DATA_VALID);
    if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        off->gso_type = h->gso_type;
        off->gso_size = h->gso_size;
    }
}

/* An all-zero offload gives an all-zero header: "complete packet". */
static void vnet_from_offload(struct virtio_net_hdr *h, const struct pkt_offload *off)
{
    memset(h, 0, sizeof(*h));
    if (off->csum_partial) {
        h->flags |= VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h->csum_start = off->csum_start;
        h->csum_offset = off->csum_offset;
        /* The kernel raises hdr_len to cover the checksum field anyway;
         * saying so keeps the linear part right for GSO frames too. */
        h->hdr_len = (uint16_t)(off->csum_start + off->csum_offset + 2);
    }
    if (off->csum_valid)
        h->flags |= VIRTIO_NET_HDR_F_DATA_VALID;
    h->gso_type = off->gso_type;
    h->gso_size = off->gso_size;
}

/* Reads one frame into @p. Returns 1 (frame in @p), 0 (frame dropped and
 * counted: it did not fit @p) or a negative errno (-EAGAIN: none waiting).
 * The kernel silently cuts a frame short at the end of the buffer, so the
 * scratch behind @p takes whatever does not fit: every frame is read
 * whole, and one that spilled into the scratch is dropped. */
static int read_frame(struct tuntap *t, struct pkt *p)
{
    size_t room = pkt_tailroom(p);
    struct virtio_net_hdr h;
    struct iovec iov[3] = {
        {&h, sizeof(h)},
        {p->data, room},
        {t->scratch, RX_FRAME_MAX},
    };
    /* Without vnet_hdr, skip the header slot. */
    struct iovec *v = t->vnet_hdr ? iov : iov + 1;
    int nv = t->vnet_hdr ? 3 : 2;
    size_t hdr = t->vnet_hdr ? sizeof(h) : 0;

    ssize_t n;
    do
        n = readv(t->fd, v, nv);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if ((size_t)n < hdr || (size_t)n - hdr > room) {
        t->rx_dropped++;
        return 0;
    }
    pkt_put(p, (uint32_t)((size_t)n - hdr));
    if (t->vnet_hdr)
        offload_from_vnet(&p->off, &h);
    return 1;
}

/* Every read, kept or dropped, counts toward @max, so a flood of frames
 * that do not fit cannot keep us here. */
static int tuntap_recv(struct link *l, struct pkt_pool *pool, struct pkt **out, int max,
                       sn_time now)
{
    struct tuntap *t = tuntap_of(l);
    int got = 0;
    for (int reads = 0; reads < max; reads++) {
        struct pkt *p = pkt_alloc(pool, PKT_HEADROOM);
        if (!p)
            break; /* the frame waits in the device for the next call */
        int r = read_frame(t, p);
        if (r == 1) {
            p->stamp = now;
            out[got++] = p;
            continue;
        }
        pkt_free(p);
        if (r == -EAGAIN)
            break;
        if (r < 0)
            return got ? got : r; /* report the error once the frames are out */
    }
    return got;
}

/* Writes one frame; returns 0 or a negative errno. A TUN/TAP write takes a
 * frame whole or not at all, so a short count is an error. */
static int write_frame(struct tuntap *t, const struct pkt *p)
{
    struct virtio_net_hdr h;
    struct iovec iov[2] = {{&h, sizeof(h)}, {p->data, p->len}};
    struct iovec *v = t->vnet_hdr ? iov : iov + 1;
    int nv = t->vnet_hdr ? 2 : 1;
    size_t want = (t->vnet_hdr ? sizeof(h) : 0) + p->len;
    if (t->vnet_hdr)
        vnet_from_offload(&h, &p->off);

    ssize_t n;
    do
        n = writev(t->fd, v, nv);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == want ? 0 : -EIO;
}

/* Returns how many frames the device took; when it took none and a write
 * failed, that write's negative errno instead.
 *
 * Batching: a TAP/TUN fd moves one frame per read(2)/write(2) and has no
 * recvmmsg/sendmmsg (it is a character device; vhost-net batches through
 * tun's in-kernel socket with TUN_MSG_PTR, which user space cannot reach),
 * so a batch of N frames is N syscalls. What cuts their number is frames
 * of 64 KiB (IFF_VNET_HDR offloads: `serve --offload`), and what spreads
 * them over CPUs is IFF_MULTI_QUEUE (`serve --queues`). io_uring could
 * submit a batch in one call; not done. */
static int tuntap_send(struct link *l, struct pkt **frames, int n, sn_time now)
{
    (void)now;
    struct tuntap *t = tuntap_of(l);
    int sent = 0, err = 0;
    for (int i = 0; i < n; i++) {
        int r = write_frame(t, frames[i]);
        pkt_free(frames[i]);
        if (r == 0) {
            sent++;
        } else {
            t->tx_errors++;
            err = r;
        }
    }
    return sent || !err ? sent : err;
}

static int tuntap_fd(const struct link *l) { return tuntap_of(l)->fd; }

/* Closing the last fd of a device synack created (not persistent) makes
 * the kernel delete the device. */
static void tuntap_close(struct link *l)
{
    struct tuntap *t = tuntap_of(l);
    close(t->fd);
    free(t->scratch);
    free(t);
}

static const struct link_ops tuntap_ops = {
    .recv = tuntap_recv,
    .send = tuntap_send,
    .fd = tuntap_fd,
    .next_deadline = NULL,
    .close = tuntap_close,
};

int tuntap_vnet_hdr(const struct link *l)
{
    const struct tuntap *t = tuntap_of(l);
    return t ? t->vnet_hdr : 0;
}

uint64_t tuntap_rx_dropped(const struct link *l)
{
    const struct tuntap *t = tuntap_of(l);
    return t ? t->rx_dropped : 0;
}

uint64_t tuntap_tx_errors(const struct link *l)
{
    const struct tuntap *t = tuntap_of(l);
    return t ? t->tx_errors : 0;
}
