/* tests/fuzz/fuzz_frame.c: libFuzzer target for the whole frame input path:
 * Ethernet, ARP, IPv4 (reassembly included), ICMP, UDP and TCP, with the
 * timers they arm (ARP retries and expiry, reassembly timeout, TCP).
 *
 * One stack per process (192.0.2.2/24 at 02:00:00:00:00:02, fixed seed,
 * small pools, an echo listener on TCP port 7). Input format, first byte:
 *
 *   1Cxxxxxx  the rest is one Ethernet frame; afterwards virtual time moves
 *             on by xxxxxx seconds, so timers run
 *   0Cxxxxxx  the rest is a sequence of records [dt][len_hi][len_lo][frame]:
 *             time moves on by dt*dt ms (up to 65 s), then the frame (len
 *             bytes, or whatever is left) goes in; this reaches reassembly
 *             and ARP resolution, which need several frames
 *
 * With C set, the harness repairs checksums before each frame goes in: the
 * IPv4 header's, and for unfragmented ICMP, UDP and TCP the transport's.
 * Mutations then get past checksum checks to the parsers behind them.
 *
 * After every frame the output is drained and the buffers held must stay
 * within what the configuration allows (reassembly slots, ARP queues).
 * After every input, connections still open are aborted and a virtual day
 * passes, timer by timer; then the stack must hold no buffer at all, so a
 * leak is caught by the input that caused it and each input starts from a
 * quiet stack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/stack_impl.h"
#include "core/bytes.h"
#include "wire/csum.h"

#define MAX_CONNS 16

static struct sn_stack *S;
static sn_time now;
static uint32_t max_held;             /* buffers a quiet-but-busy stack may hold */
static struct sn_sock *conns[MAX_CONNS]; /* accepted, not yet closed */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void forget(struct sn_sock *so)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i] == so)
            conns[i] = NULL;
}

/* Port 7: echo what arrives; close at EOF or error. */
static void on_conn(struct sn_sock *so, uint32_t ev, void *user)
{
    (void)user;
    static uint8_t buf[2048];
    if (ev & (SN_EV_ERROR | SN_EV_CLOSED)) {
        forget(so);
        sn_close(so);
        return;
    }
    if (ev & SN_EV_READABLE) {
        ssize_t n;
        while ((n = sn_recv(so, buf, sizeof(buf))) > 0)
            (void)sn_send(so, buf, (size_t)n);
        if (n == 0) {
            forget(so);
            sn_close(so);
        }
    }
}

static void on_listen(struct sn_sock *l, uint32_t ev, void *user)
{
    (void)ev;
    (void)user;
    struct sn_sock *so;
    while (sn_accept(l, &so) == 0) {
        int slot = -1;
        for (int i = 0; i < MAX_CONNS && slot < 0; i++)
            if (!conns[i])
                slot = i;
        if (slot < 0) {
            sn_abort(so);
            continue;
        }
        conns[slot] = so;
        sn_sock_set_cb(so, on_conn, NULL);
    }
}

static void setup(void)
{
    struct sn_stack_opts o;
    memset(&o, 0, sizeof(o));
    sn_config_defaults(&o.cfg);
    o.cfg.pool_rx_bufs = 64;
    o.cfg.pool_tx_bufs = 256;
    o.cfg.pool_big_bufs = 4;
    o.cfg.reass_max_datagrams = 4;
    o.cfg.arp_cache_size = 4;
    o.cfg.arp_queue_max = 4;
    o.cfg.tcp_max_conns = 32;
    o.cfg.tcp_sndbuf = 16384;
    o.cfg.tcp_rcvbuf = 16384;
    o.link = SN_LINK_ETH;
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(o.mac, mac, 6);
    o.addr = 0xc0000202u;
    o.prefix_len = 24;
    o.gateway = 0xc0000201u; /* off-link sources get answers too */
    o.mtu = 1500;
    o.seed = 1;
    now = SN_SEC(1000);
    if (sn_stack_new(&o, now, &S) != 0) {
        fprintf(stderr, "fuzz_frame: sn_stack_new failed\n");
        abort();
    }
    struct sn_sock *l;
    if (sn_listen(S, 7, 8, &l) != 0) {
        fprintf(stderr, "fuzz_frame: sn_listen failed\n");
        abort();
    }
    sn_sock_set_cb(l, on_listen, NULL);
    /* Held between frames: a buffer per reassembly slot and the ARP queues
     * of every cache entry. Anything more is a leak in the making. */
    max_held = o.cfg.reass_max_datagrams + o.cfg.arp_cache_size * o.cfg.arp_queue_max;
}

static void drain(void)
{
    struct pkt *p;
    while ((p = sn_stack_output(S)))
        pkt_free(p);
}

static void check_held(const char *when)
{
    uint32_t held = sn_stack_bufs_in_use(S);
    if (held > max_held) {
        fprintf(stderr, "fuzz_frame: %u buffers held %s (bound %u)\n", held, when, max_held);
        abort();
    }
}

static void advance_to(sn_time t)
{
    now = t;
    sn_stack_advance(S, now);
    drain();
}

/* Recomputes the checksums a mutation broke, where the header lengths
 * allow; anything that does not look like IPv4 is left alone. */
static void repair(uint8_t *f, size_t len)
{
    if (len < 14 + 20 || rd16(f + 12) != 0x0800)
        return;
    uint8_t *ip = f + 14;
    size_t avail = len - 14, ihl = (size_t)(ip[0] & 15) * 4, total = rd16(ip + 2);
    if (ihl < 20 || ihl > avail)
        return;
    wr16(ip + 10, 0);
    wr16(ip + 10, csum_buf(ip, ihl));
    if (total > avail || total < ihl || (rd16(ip + 6) & 0x3fff) != 0)
        return; /* a fragment: its transport checksum spans the datagram */
    uint8_t *l4 = ip + ihl;
    size_t l4_len = total - ihl;
    size_t at = ip[9] == 1 ? 2 : ip[9] == 17 ? 6 : ip[9] == 6 ? 16 : 0;
    if (!at || l4_len < at + 2)
        return;
    wr16(l4 + at, 0);
    uint32_t sum = ip[9] == 1 ? 0 : csum_pseudo4(rd32(ip + 12), rd32(ip + 16), ip[9], (uint16_t)l4_len);
    uint16_t c = csum_fold(csum_add(sum, l4, l4_len));
    wr16(l4 + at, ip[9] == 17 && c == 0 ? 0xffff : c);
}

static void frame_in(const uint8_t *in, size_t len, int fix)
{
    static uint8_t f[65536 + 64];
    const uint8_t *frame = in;
    if (fix && len <= sizeof(f)) {
        memcpy(f, in, len);
        repair(f, len);
        frame = f;
    }
    sn_stack_input_bytes(S, frame, len, now); /* -EMSGSIZE for oversized input is fine */
    sn_stack_advance(S, now);             /* deliver socket events */
    drain();
    check_held("after a frame");
}

/* Ends an input: abort what is open, run every timer for a virtual day. */
static void quiesce(void)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i]) {
            struct sn_sock *so = conns[i];
            conns[i] = NULL;
            sn_abort(so);
        }
    drain();
    sn_time end = now + SN_SEC(86400);
    for (int i = 0; i < 100000; i++) {
        sn_time next = sn_stack_next_deadline(S);
        if (next == SN_TIME_NEVER || next > end)
            break;
        advance_to(next > now ? next : now + 1);
    }
    advance_to(end);
    uint32_t held = sn_stack_bufs_in_use(S);
    if (held != 0) {
        fprintf(stderr, "fuzz_frame: %u buffers still held after a quiet virtual day\n", held);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!S)
        setup();
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    int fix = (mode & 0x40) != 0;
    data++, size--;
    if (mode & 0x80) {
        frame_in(data, size, fix);
        advance_to(now + (sn_time)(mode & 0x3f) * SN_SEC(1));
        check_held("after the timers");
    } else {
        while (size > 0) {
            uint32_t dt = data[0];
            size_t len = size >= 3 ? (size_t)(data[1] << 8 | data[2]) : 0;
            size_t hdr = size >= 3 ? 3 : size;
            data += hdr, size -= hdr;
            if (len > size)
                len = size;
            if (dt)
                advance_to(now + (sn_time)dt * dt * SN_MSEC(1));
            frame_in(data, len, fix);
            data += len, size -= len;
        }
    }
    quiesce();
    return 0;
}
