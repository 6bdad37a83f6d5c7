/* tests/unit/net/test_ip4.c: IPv4 input and output (net/ip4_in.c,
 * net/ip4_out.c; RFC 791, RFC 1122 3.2.1) through a whole stack: each
 * malformed or unwanted header is dropped under its own counter and
 * answered with nothing; good datagrams (options, padding) are answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"

/* An echo request datagram (no Ethernet) from the peer: 20-byte header +
 * 8 + @len. Returns its length. */
static size_t echo_dgram(uint8_t *b, const struct fr_ip *h, uint16_t seq, const void *data,
                         size_t len)
{
    uint8_t icmp[1500];
    size_t n = fr_icmp_echo(icmp, 8, 0x4242, seq, data, len);
    struct fr_ip ip = *h;
    ip.proto = 1;
    return fr_ip4(b, &ip, icmp, n);
}

/* Feeds @dgram (already built) behind an Ethernet header, @len bytes of
 * it, as a frame of @frame_len bytes (>= 14 + len; the rest is padding). */
static void feed(struct sn_stack *s, const uint8_t *dgram, size_t len, size_t frame_len)
{
    uint8_t f[FR_FRAME_MAX];
    memset(f, 0xa5, sizeof(f));
    fr_eth(f, fr_our_mac, fr_peer_mac, 0x0800);
    memcpy(f + 14, dgram, len);
    fr_input(s, f, frame_len ? frame_len : 14 + len, FR_T0);
}

/* Asserts nothing came out and exactly one drop, under @why, was counted
 * since @before. */
static void expect_drop(struct sn_stack *s, uint64_t before, enum sn_drop why)
{
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_drops_total(s), before + 1);
    if (fr_drops(s, why) == 0)
        fail_msg("expected a %s drop", sn_drop_name(why));
}

static void recompute_csum(uint8_t *ip)
{
    size_t hl = (size_t)(ip[0] & 15) * 4;
    ip[10] = ip[11] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i < hl; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
}

/* The baseline: a plain echo request is answered. */
static void good_echo_answered(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100], got[FR_FRAME_MAX];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, "hello", 5);
    feed(s, d, n, 0);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.dst, FR_PEER_IP);
    assert_int_equal(ip.proto, 1);
    assert_int_equal(ip.hdr_len, 20);
    assert_memory_equal(b + 28, "hello", 5);
    assert_int_equal(fr_count(s, SN_C_ip4_rx_packets), 1);
    assert_int_equal(fr_count(s, SN_C_ip4_rx_delivered), 1);
    assert_int_equal(fr_count(s, SN_C_ip4_tx_packets), 1);
    assert_int_equal(fr_drops_total(s), 0);
    fr_stack_done(s, FR_T0);
}

static void short_header(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, NULL, 0);
    assert_true(n >= 20);
    for (size_t len = 0; len < 20; len++) {
        uint64_t before = fr_drops_total(s);
        feed(s, d, len, 0);
        expect_drop(s, before, SN_DROP_IP4_SHORT);
    }
    assert_int_equal(fr_drops(s, SN_DROP_IP4_SHORT), 20);
    fr_stack_done(s, FR_T0);
}

static void bad_version(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, NULL, 0);
    for (int v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        d[0] = (uint8_t)(v << 4 | 5);
        recompute_csum(d);
        uint64_t before = fr_drops_total(s);
        feed(s, d, n, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_VERSION);
    }
    assert_int_equal(fr_drops(s, SN_DROP_IP4_BAD_VERSION), 15);
    fr_stack_done(s, FR_T0);
}

/* IHL below 5, or a header running past the frame. */
static void bad_ihl(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, NULL, 0); /* 28 bytes */
    for (int ihl = 0; ihl < 5; ihl++) {
        uint8_t c[100];
        memcpy(c, d, n);
        c[0] = (uint8_t)(0x40 | ihl);
        uint64_t before = fr_drops_total(s);
        feed(s, c, n, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_IHL);
    }
    /* IHL 15 (60 bytes) in a 28-byte packet and 42-byte frame. */
    d[0] = 0x4f;
    uint64_t before = fr_drops_total(s);
    feed(s, d, n, 0);
    expect_drop(s, before, SN_DROP_IP4_BAD_IHL);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_BAD_IHL), 6);
    fr_stack_done(s, FR_T0);
}

/* Total length beyond the frame (a truncated or lying packet), or below
 * the header length. */
static void bad_total_length(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[200];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, "0123456789", 10);
    /* Every truncation of the packet after a complete header. */
    for (size_t len = 20; len < n; len++) {
        uint64_t before = fr_drops_total(s);
        feed(s, d, len, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_LEN);
    }
    /* A total length far beyond any frame. */
    uint8_t c[200];
    memcpy(c, d, n);
    c[2] = 0xff, c[3] = 0xff;
    recompute_csum(c);
    uint64_t before = fr_drops_total(s);
    feed(s, c, n, 0);
    expect_drop(s, before, SN_DROP_IP4_BAD_LEN);
    /* Total length below the header: 0, 19; and 20 with a 24-byte header. */
    uint16_t totals[] = {0, 19};
    for (size_t i = 0; i < 2; i++) {
        memcpy(c, d, n);
        c[2] = 0, c[3] = (uint8_t)totals[i];
        recompute_csum(c);
        before = fr_drops_total(s);
        feed(s, c, n, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_LEN);
    }
    memcpy(c, d, n);
    c[0] = 0x46, c[2] = 0, c[3] = 20;
    recompute_csum(c);
    before = fr_drops_total(s);
    feed(s, c, n, 0);
    expect_drop(s, before, SN_DROP_IP4_BAD_LEN);
    fr_stack_done(s, FR_T0);
}

static void bad_checksum(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, NULL, 0);
    for (int byte = 0; byte < 20; byte++) {
        if (byte == 0 || byte == 2 || byte == 3)
            continue; /* those would fail earlier checks */
        uint8_t c[100];
        memcpy(c, d, n);
        c[byte] ^= 0x01;
        uint64_t before = fr_drops_total(s);
        feed(s, c, n, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_CSUM);
    }
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.2.1.7: TTL 0 is never valid on the wire. TTL 1 is fine for
 * a datagram addressed to us. */
static void ttl(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, NULL, 0);
    d[8] = 0;
    recompute_csum(d);
    feed(s, d, n, 0);
    expect_drop(s, 0, SN_DROP_IP4_TTL_ZERO);
    n = echo_dgram(d, &(struct fr_ip){.ttl = 1}, 2, NULL, 0);
    feed(s, d, n, 0);
    assert_int_equal(fr_drain(s), 1);
    fr_stack_done(s, FR_T0);
}

static void not_for_us(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint32_t dsts[] = {FR_OTHER_IP, 0x0a000001u, 0xc0000200u, 0, 0xe0000001u};
    for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
        uint8_t d[100];
        size_t n = echo_dgram(d, &(struct fr_ip){.dst = dsts[i]}, 1, NULL, 0);
        if (dsts[i] == 0) { /* fr_ip4's default would make it ours */
            memset(d + 16, 0, 4);
            recompute_csum(d);
        }
        uint64_t before = fr_drops_total(s);
        feed(s, d, n, 0);
        expect_drop(s, before, SN_DROP_IP4_NOT_FOR_US);
    }
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.2.1.3: a broadcast, multicast or our own address as source
 * is discarded, and so are 0.0.0.0 ((a), bootstrap only) and loopback
 * ((g), never seen on a wire). */
static void bad_source(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint32_t srcs[] = {0xffffffffu, FR_BCAST_IP, 0xe0000001u, 0xefffffffu,
                       FR_OUR_IP,   0,           0x7f000001u, 0x7fffffffu};
    size_t count = sizeof(srcs) / sizeof(srcs[0]);
    for (size_t i = 0; i < count; i++) {
        uint8_t d[100];
        size_t n = echo_dgram(d, &(struct fr_ip){.src = srcs[i]}, 1, NULL, 0);
        if (srcs[i] == 0) { /* fr_ip4's default would make it the peer */
            memset(d + 12, 0, 4);
            recompute_csum(d);
        }
        uint64_t before = fr_drops_total(s);
        feed(s, d, n, 0);
        expect_drop(s, before, SN_DROP_IP4_BAD_SRC);
    }
    assert_int_equal(fr_drops(s, SN_DROP_IP4_BAD_SRC), count);
    /* A neighbour in another network is a fine source (answered through
     * the route, here dropped for lack of one: not a source problem). */
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){.src = 0x08080808u}, 1, NULL, 0);
    feed(s, d, n, 0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_BAD_SRC), count);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_NO_ROUTE), 1);
    fr_stack_done(s, FR_T0);
}

/* RFC 791 3.1 options are skipped with the header: an echo request with
 * options (record route, then NOPs and EOL) is answered, the reply carries
 * the same ICMP bytes and no options. */
static void options_skipped(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    /* Record route with room for 2 addresses (11 bytes), NOP, EOL... */
    uint8_t opts[16] = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    uint8_t icmp[64];
    size_t in = fr_icmp_echo(icmp, 8, 0x77, 3, "options!", 8);
    uint8_t d[100];
    size_t n = fr_ip4(d, &(struct fr_ip){.proto = 1, .opts = opts, .opts_len = sizeof(opts)}, icmp,
                      in);
    feed(s, d, n, 0);
    uint8_t got[FR_FRAME_MAX];
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.hdr_len, 20);
    assert_int_equal(ip.total_len, 20 + in);
    assert_int_equal(b[20], 0);                         /* echo reply */
    assert_memory_equal(b + 24, icmp + 4, in - 4);      /* id, seq, data */
    assert_int_equal(fr_count(s, SN_C_ip4_rx_options), 1);
    assert_int_equal(fr_drops_total(s), 0);
    /* The longest header, 60 bytes of NOPs. */
    memset(opts, 1, sizeof(opts));
    uint8_t opts40[40];
    memset(opts40, 1, sizeof(opts40));
    n = fr_ip4(d, &(struct fr_ip){.proto = 1, .opts = opts40, .opts_len = 40}, icmp, in);
    feed(s, d, n, 0);
    len = fr_output(s, got);
    b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.total_len, 20 + in);
    assert_memory_equal(b + 24, icmp + 4, in - 4);
    fr_stack_done(s, FR_T0);
}

/* Ethernet pads frames to 60 bytes; the padding is not part of the
 * datagram (if it were, the ICMP checksum would fail or the reply would
 * grow). */
static void ethernet_padding_trimmed(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t d[100];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 5, "ab", 2); /* 30 bytes */
    feed(s, d, n, 60);                                         /* 16 bytes of 0xa5 */
    uint8_t got[FR_FRAME_MAX];
    size_t len = fr_output(s, got);
    assert_int_equal(len, 14 + n);
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.total_len, n);
    assert_memory_equal(b + 28, "ab", 2);
    assert_int_equal(fr_drops_total(s), 0);
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.2.2.6: an echo request to a broadcast address may be
 * ignored, and we do. */
static void broadcast_echo_ignored(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint32_t dsts[] = {FR_BCAST_IP, 0xffffffffu};
    for (size_t i = 0; i < 2; i++) {
        uint8_t d[100], f[200];
        size_t n = echo_dgram(d, &(struct fr_ip){.dst = dsts[i]}, 1, NULL, 0);
        fr_eth(f, fr_bcast, fr_peer_mac, 0x0800);
        memcpy(f + 14, d, n);
        fr_input(s, f, 14 + n, FR_T0);
        assert_int_equal(fr_drain(s), 0);
    }
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_UNHANDLED), 2);
    fr_stack_done(s, FR_T0);
}

/* What we send: version 4, no options, TTL from the config, a fresh id per
 * datagram, no fragmentation flags, a valid checksum (fr_check_ip4). */
static void output_header(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.ip_ttl = 77;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    uint16_t ids[3];
    for (int i = 0; i < 3; i++) {
        uint8_t d[100], got[FR_FRAME_MAX];
        size_t n = echo_dgram(d, &(struct fr_ip){0}, (uint16_t)i, NULL, 0);
        feed(s, d, n, 0);
        size_t len = fr_output(s, got);
        struct ip4_hdr ip;
        fr_check_ip4(got, len, fr_peer_mac, &ip);
        assert_int_equal(ip.ttl, 77);
        assert_int_equal(ip.tos, 0);
        assert_int_equal(ip.frag & 0x3fff, 0); /* no MF, offset 0 */
        assert_int_equal(ip.hdr_len, 20);
        ids[i] = ip.id;
    }
    assert_int_not_equal(ids[0], ids[1]);
    assert_int_not_equal(ids[1], ids[2]);
    assert_int_not_equal(ids[0], ids[2]);
    fr_stack_done(s, FR_T0);
}

/* Routing: off-link destinations go to the gateway's hardware address; with
 * no gateway they are dropped as IP4_NO_ROUTE. */
static void routing(void **state)
{
    (void)state;
    uint8_t d[100], got[FR_FRAME_MAX];
    size_t n = echo_dgram(d, &(struct fr_ip){.src = 0x0a090909u}, 1, NULL, 0);

    struct sn_stack *s = fr_stack_new(NULL, 1);
    feed(s, d, n, 0);
    expect_drop(s, 0, SN_DROP_IP4_NO_ROUTE);
    fr_stack_done(s, FR_T0);

    struct sn_stack_opts o;
    fr_default_opts(&o, NULL);
    o.gateway = FR_PEER_IP;
    s = fr_stack_new_opts(&o, 1);
    feed(s, d, n, 0);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    fr_check_ip4(got, len, fr_peer_mac, &ip); /* to the gateway's MAC... */
    assert_int_equal(ip.dst, 0x0a090909u);    /* ...for the far host */
    fr_stack_done(s, FR_T0);
}

/* On a TUN link (raw IPv4) the same datagram comes back without any
 * Ethernet header and without ARP. */
static void tun_link(void **state)
{
    (void)state;
    struct sn_stack_opts o;
    fr_default_opts(&o, NULL);
    o.link = SN_LINK_IP;
    struct sn_stack *s = fr_stack_new_opts(&o, 0);
    assert_int_equal(fr_drain(s), 0); /* no gratuitous ARP on TUN */
    uint8_t d[100], got[FR_FRAME_MAX];
    size_t n = echo_dgram(d, &(struct fr_ip){0}, 1, "tun", 3);
    fr_input(s, d, n, FR_T0);
    size_t len = fr_output(s, got);
    assert_int_equal(len, n);
    struct ip4_hdr ip;
    assert_int_equal(ip4_parse(&ip, got, len), 0);
    assert_int_equal(ip.src, FR_OUR_IP);
    assert_int_equal(ip.dst, FR_PEER_IP);
    assert_int_equal(got[20], 0);
    assert_memory_equal(got + 28, "tun", 3);
    assert_int_equal(fr_output(s, got), 0);
    /* A short packet is an IPv4 drop, not an Ethernet one. */
    fr_input(s, d, 10, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_SHORT), 1);
    fr_stack_done(s, FR_T0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_echo_answered),
        cmocka_unit_test(short_header),
        cmocka_unit_test(bad_version),
        cmocka_unit_test(bad_ihl),
        cmocka_unit_test(bad_total_length),
        cmocka_unit_test(bad_checksum),
        cmocka_unit_test(ttl),
        cmocka_unit_test(not_for_us),
        cmocka_unit_test(bad_source),
        cmocka_unit_test(options_skipped),
        cmocka_unit_test(ethernet_padding_trimmed),
        cmocka_unit_test(broadcast_echo_ignored),
        cmocka_unit_test(output_header),
        cmocka_unit_test(routing),
        cmocka_unit_test(tun_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
