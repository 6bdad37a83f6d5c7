/* tests/fuzz/fuzz_tcp.c: libFuzzer target for TCP input on established
 * connections. Random frames rarely complete a handshake, so the harness
 * performs one (SYN with every option, ACK of the SYN+ACK) and then turns
 * the fuzz input into a sequence of segments on that connection: flags,
 * sequence and acknowledgement offsets near the live values, window, raw
 * options, payload and time steps, with valid checksums. The application
 * side reads, writes, shuts down and closes as the input says. A fresh
 * stack per input keeps runs independent; LeakSanitizer checks buffers. */
#include <stdint.h>
#include <string.h>

#include "api/stack_impl.h"
#include "core/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#define LOCAL 0xc0000201u  /* 192.0.2.1: synack */
#define PEER 0xc0000202u   /* 192.0.2.2: the fuzzer */
#define LPORT 80
#define PPORT 40000

struct harness {
    struct sn_stack *s;
    struct sn_sock *conn;
    uint32_t peer_seq;   /* next sequence number the fuzzer would send */
    uint32_t stack_nxt;  /* highest sequence number seen from the stack */
    uint8_t app_op;      /* what the application does on readiness */
    sn_time now;
};

static void send_segment(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack,
                         uint16_t wnd, const uint8_t *opts, uint32_t opt_len,
                         const uint8_t *data, uint32_t len)
{
    uint8_t frame[20 + 60 + 512];
    uint32_t hdr = 20 + (opt_len & ~3u);
    uint8_t *t = frame + 20;
    wr16(t, PPORT);
    wr16(t + 2, LPORT);
    wr32(t + 4, seq);
    wr32(t + 8, ack);
    t[12] = (uint8_t)(hdr / 4 << 4);
    t[13] = flags;
    wr16(t + 14, wnd);
    wr16(t + 16, 0);
    wr16(t + 18, 0);
    if (hdr > 20)
        memcpy(t + 20, opts, hdr - 20);
    if (len)
        memcpy(t + hdr, data, len);
    uint32_t seg = hdr + len;
    struct ip4_hdr ip = {.total_len = (uint16_t)(20 + seg), .ttl = 64, .proto = IP4_PROTO_TCP,
                         .src = PEER, .dst = LOCAL};
    ip4_build(frame, &ip);
    uint32_t sum = csum_pseudo4(PEER, LOCAL, IP4_PROTO_TCP, (uint16_t)seg);
    wr16(t + 16, csum_fold(csum_add(sum, t, seg)));
    sn_stack_input_bytes(h->s, frame, 20 + seg, h->now);
}

/* Drains the stack's output, tracking how far its sequence numbers went. */
static void drain(struct harness *h)
{
    struct pkt *p;
    while ((p = sn_stack_output(h->s))) {
        struct ip4_hdr ip;
        struct tcp_seg sg;
        if (ip4_parse(&ip, p->data, p->len) == 0 &&
            tcp_seg_parse(&sg, p->data + ip.hdr_len, ip.total_len - ip.hdr_len) == 0) {
            uint32_t end = sg.seq + sg.len + !!(sg.flags & TCP_F_SYN) + !!(sg.flags & TCP_F_FIN);
            if (seq_gt(end, h->stack_nxt) || h->stack_nxt == 0)
                h->stack_nxt = end;
        }
        pkt_free(p);
    }
}

static void on_conn(struct sn_sock *so, uint32_t ev, void *user)
{
    struct harness *h = user;
    static uint8_t buf[4096];
    if (ev & SN_EV_READABLE)
        while (sn_recv(so, buf, sizeof(buf)) > 0)
            ;
    switch (h->app_op & 7) {
    case 1:
        memset(buf, 'x', sizeof(buf));
        sn_send(so, buf, 1 + (h->app_op >> 3) * 97);
        break;
    case 2:
        sn_shutdown(so, SN_SHUT_WR);
        break;
    case 3:
        sn_setsockopt(so, SN_SO_NODELAY, 1);
        break;
    default:
        break;
    }
}

static void on_listen(struct sn_sock *l, uint32_t ev, void *user)
{
    (void)ev;
    struct harness *h = user;
    struct sn_sock *so;
    while (sn_accept(l, &so) == 0) {
        if (h->conn)
            sn_close(h->conn);
        h->conn = so;
        sn_sock_set_cb(so, on_conn, h);
    }
}

static int setup(struct harness *h)
{
    struct sn_stack_opts o;
    memset(&o, 0, sizeof(o));
    sn_config_defaults(&o.cfg);
    o.cfg.pool_rx_bufs = 64;
    o.cfg.pool_tx_bufs = 512;
    o.cfg.pool_big_bufs = 4;
    o.cfg.tcp_max_conns = 16;
    o.cfg.arp_cache_size = 4;
    o.cfg.reass_max_datagrams = 1;
    o.cfg.tcp_sndbuf = 65536;
    o.cfg.tcp_rcvbuf = 65536;
    o.link = SN_LINK_IP;
    o.addr = LOCAL;
    o.prefix_len = 24;
    o.mtu = 1500;
    o.seed = 1;
    h->now = SN_SEC(1);
    if (sn_stack_new(&o, h->now, &h->s))
        return -1;
    struct sn_sock *l;
    if (sn_listen(h->s, LPORT, 4, &l))
        return -1;
    sn_sock_set_cb(l, on_listen, h);
    static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
                                         0, 0, 0, 0, 1, 3, 3, 7};
    h->peer_seq = 1000;
    send_segment(h, TCP_F_SYN, h->peer_seq, 0, 65535, syn_opts, 20, NULL, 0);
    drain(h);
    h->peer_seq++;
    static const uint8_t ts_opts[12] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0};
    send_segment(h, TCP_F_ACK, h->peer_seq, h->stack_nxt, 512, ts_opts, 12, NULL, 0);
    sn_stack_advance(h->s, h->now);
    drain(h);
    return 0;
}

/* One segment from the input: returns bytes consumed, 0 at the end. */
static size_t one_segment(struct harness *h, const uint8_t *in, size_t n)
{
    if (n < 8)
        return 0;
    uint8_t flags = in[0];
    int16_t dseq = (int16_t)rd16(in + 1);
    int16_t dack = (int16_t)rd16(in + 3);
    uint16_t wnd = (uint16_t)(in[5] << 4);
    uint32_t opt_len = in[6] % 41;
    uint32_t data_len = in[7];
    h->app_op = in[6];
    size_t need = 8 + opt_len + data_len + 1;
    if (need > n)
        return 0;
    const uint8_t *opts = in + 8, *data = opts + opt_len;
    uint32_t seq = h->peer_seq + (uint32_t)(int32_t)dseq;
    send_segment(h, flags, seq, h->stack_nxt + (uint32_t)(int32_t)dack, wnd, opts, opt_len, data,
                 data_len);
    if (seq == h->peer_seq)
        h->peer_seq += data_len + !!(flags & TCP_F_FIN);
    h->now += (sn_time)data[data_len] * SN_MSEC(7);
    sn_stack_advance(h->s, h->now);
    drain(h);
    return need;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness h;
    memset(&h, 0, sizeof(h));
    if (setup(&h) == 0) {
        size_t used;
        while ((used = one_segment(&h, data, size)) > 0) {
            data += used;
            size -= used;
        }
        /* Let every timer run out: retransmissions, TIME-WAIT, keepalive. */
        for (int i = 0; i < 64 && sn_stack_next_deadline(h.s) != INT64_MAX; i++) {
            h.now = sn_stack_next_deadline(h.s) > h.now ? sn_stack_next_deadline(h.s) : h.now + 1;
            sn_stack_advance(h.s, h.now);
            drain(&h);
        }
    }
    sn_stack_free(h.s);
    return 0;
}
