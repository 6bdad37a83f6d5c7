/* tests/unit/net/test_icmp.c: ICMP (net/icmp4.c, RFC 792, RFC 1122 3.2.2)
 * through a whole stack: echo, errors we send (protocol and port
 * unreachable, rate limited, never about errors or broadcasts), and errors
 * we receive, handed to the protocol that sent the datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/stack_impl.h"
#include "helpers/frames.h"

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Checks an ICMP error frame from us to the peer and returns the ICMP
 * message (type, code, then the quoted datagram at +8); *icmp_len its
 * length. */
static const uint8_t *check_error(const uint8_t *frame, size_t len, uint8_t type, uint8_t code,
                                  size_t *icmp_len)
{
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(frame, len, fr_peer_mac, &ip);
    assert_int_equal(ip.proto, 1);
    assert_int_equal(ip.dst, FR_PEER_IP);
    const uint8_t *icmp = b + ip.hdr_len;
    *icmp_len = ip.total_len - ip.hdr_len;
    assert_true(*icmp_len >= 8 + 20 + 8); /* RFC 792: header + 64 bits */
    assert_true(ip.total_len <= 576);     /* RFC 1812 4.3.2.3 */
    assert_int_equal(csum(icmp, *icmp_len), 0);
    assert_int_equal(icmp[0], type);
    assert_int_equal(icmp[1], code);
    return icmp;
}

/* An echo request is answered with the same identifier, sequence number
 * and data; both checksums valid; addresses swapped. */
static void echo_reply(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t data[1400];
    fr_pattern(data, sizeof(data), 42);
    size_t sizes[] = {0, 1, 2, 3, 56, 1000, 1472}; /* 1472: exactly the MTU */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
        static uint8_t big[1472];
        fr_pattern(big, sizeof(big), (uint32_t)i);
        const uint8_t *payload = sizes[i] <= sizeof(data) ? data : big;
        size_t n = fr_ping(f, (uint16_t)(0xbeef + i), (uint16_t)i, payload, sizes[i]);
        fr_input(s, f, n, FR_T0);
        size_t len = fr_output(s, got);
        assert_int_equal(len, n);
        struct ip4_hdr ip;
        const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
        assert_int_equal(ip.dst, FR_PEER_IP);
        const uint8_t *icmp = b + 20;
        assert_int_equal(icmp[0], 0);
        assert_int_equal(icmp[1], 0);
        assert_int_equal(csum(icmp, 8 + sizes[i]), 0);
        assert_memory_equal(icmp + 4, f + 14 + 20 + 4, 4 + sizes[i]); /* id, seq, data */
        assert_int_equal(fr_output(s, got), 0);
    }
    assert_int_equal(fr_count(s, SN_C_icmp_rx_echo_requests), 7);
    assert_int_equal(fr_count(s, SN_C_icmp_tx_echo_replies), 7);
    fr_stack_done(s, FR_T0);
}

/* The kernel's own ping (golden capture) gets the kernel's own reply, up to
 * the IP identification (and so the header checksum), which is ours to
 * choose. */
static void golden_echo(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    fr_input(s, fr_golden_echo_request, sizeof(fr_golden_echo_request), FR_T0);
    uint8_t got[FR_FRAME_MAX];
    assert_int_equal(fr_output(s, got), sizeof(fr_golden_echo_reply));
    assert_memory_equal(got, fr_golden_echo_reply, 18);      /* Ethernet, IP to length */
    assert_memory_equal(got + 20, fr_golden_echo_reply + 20, 4); /* flags, TTL, proto */
    assert_memory_equal(got + 26, fr_golden_echo_reply + 26, 74 - 26); /* addrs, ICMP */
    assert_int_equal(csum(got + 14, 20), 0);
    fr_stack_done(s, FR_T0);
}

static void bad_icmp_checksum(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t f[FR_FRAME_MAX];
    size_t n = fr_ping(f, 1, 1, "data", 4);
    for (size_t at = 34; at < n; at++) {
        uint8_t c[FR_FRAME_MAX];
        memcpy(c, f, n);
        c[at] ^= 0x80;
        fr_input(s, c, n, FR_T0);
        assert_int_equal(fr_drain(s), 0);
    }
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_BAD_CSUM), n - 34);
    assert_int_equal(fr_count(s, SN_C_icmp_tx_echo_replies), 0);
    fr_stack_done(s, FR_T0);
}

static void short_and_unhandled(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t f[FR_FRAME_MAX];
    static const uint8_t tiny[4] = {8, 0, 0xf7, 0xff};
    fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, tiny, 4), FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_SHORT), 1);
    /* A timestamp request (type 13) and a stray echo reply: not handled. */
    uint8_t icmp[28];
    size_t n = fr_icmp_echo(icmp, 13, 1, 1, "0123456789ab", 12);
    fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, icmp, n), FR_T0);
    n = fr_icmp_echo(icmp, 0, 1, 1, NULL, 0);
    fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, icmp, n), FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_UNHANDLED), 2);
    assert_int_equal(fr_drain(s), 0);
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.2.2.1: a datagram for a protocol we do not speak gets a
 * protocol unreachable quoting its header and the start of its data. */
static void unknown_protocol(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t payload[700], f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    fr_pattern(payload, sizeof(payload), 5);
    size_t n = fr_eth_ip4(f, &(struct fr_ip){.proto = 253}, payload, 16);
    fr_input(s, f, n, FR_T0);
    size_t len = fr_output(s, got), icmp_len;
    const uint8_t *icmp = check_error(got, len, 3, 2, &icmp_len);
    assert_int_equal(icmp_len, 8 + 20 + 16);
    assert_memory_equal(icmp + 8, f + 14, 20 + 16); /* the whole datagram */
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_UNKNOWN_PROTO), 1);
    assert_int_equal(fr_count(s, SN_C_icmp_tx_unreach), 1);

    /* A large one is quoted only as far as fits 576 bytes. */
    n = fr_eth_ip4(f, &(struct fr_ip){.proto = 253}, payload, sizeof(payload));
    fr_input(s, f, n, FR_T0);
    len = fr_output(s, got);
    icmp = check_error(got, len, 3, 2, &icmp_len);
    assert_int_equal(20 + icmp_len, 576);
    assert_memory_equal(icmp + 8, f + 14, icmp_len - 8);
    fr_stack_done(s, FR_T0);
}

/* RFC 1122 3.2.2 / RFC 1812 4.3.2.8: errors are rate limited by a token
 * bucket: icmp_burst at once, then icmp_rate_per_s. */
static void rate_limit(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.icmp_burst = 5;
    cfg.icmp_rate_per_s = 10; /* one token per 100 ms */
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    uint8_t f[FR_FRAME_MAX];
    size_t n = fr_eth_ip4(f, &(struct fr_ip){.proto = 253}, "xxxxxxxx", 8);
    sn_time now = FR_T0;
    for (int i = 0; i < 8; i++)
        fr_input(s, f, n, now);
    assert_int_equal(fr_drain(s), 5);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_RATELIMIT), 3);
    assert_int_equal(fr_drops(s, SN_DROP_IP4_UNKNOWN_PROTO), 8); /* counted either way */

    now += SN_MSEC(99); /* not yet a token */
    fr_input(s, f, n, now);
    assert_int_equal(fr_drain(s), 0);
    now += SN_MSEC(1); /* one token */
    fr_input(s, f, n, now);
    fr_input(s, f, n, now);
    assert_int_equal(fr_drain(s), 1);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_RATELIMIT), 5);

    now += SN_SEC(10); /* refills to the burst, not beyond */
    for (int i = 0; i < 8; i++)
        fr_input(s, f, n, now);
    assert_int_equal(fr_drain(s), 5);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_RATELIMIT), 8);

    /* Echo replies are not errors: never limited. */
    for (int i = 0; i < 20; i++)
        fr_input(s, f, fr_ping(f, 1, (uint16_t)i, NULL, 0), now);
    assert_int_equal(fr_drain(s), 20);
    fr_stack_done(s, now);
}

/* RFC 1122 3.2.2: no error about an ICMP error, nor about a datagram sent
 * to a broadcast or multicast address, nor from a source that is not one
 * host. */
static void no_error_about_errors_or_broadcasts(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t f[FR_FRAME_MAX], d[200];

    /* Unknown protocol to our subnet's broadcast address and to all-ones. */
    uint32_t dsts[] = {FR_BCAST_IP, 0xffffffffu};
    for (size_t i = 0; i < 2; i++) {
        size_t n = fr_ip4(d, &(struct fr_ip){.proto = 253, .dst = dsts[i]}, "12345678", 8);
        fr_eth(f, fr_bcast, fr_peer_mac, 0x0800);
        memcpy(f + 14, d, n);
        fr_input(s, f, 14 + n, FR_T0);
        assert_int_equal(fr_drain(s), 0);
    }
    assert_int_equal(fr_drops(s, SN_DROP_IP4_UNKNOWN_PROTO), 2);

    /* UDP to a closed port: port unreachable, but not when broadcast. */
    uint8_t udp[12] = {0x12, 0x34, 0x00, 0x09, 0x00, 0x0c, 0x00, 0x00, 'p', 'i', 'n', 'g'};
    fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 17}, udp, sizeof(udp)), FR_T0);
    uint8_t got[FR_FRAME_MAX];
    size_t len = fr_output(s, got), icmp_len;
    const uint8_t *icmp = check_error(got, len, 3, 3, &icmp_len);
    assert_memory_equal(icmp + 8, f + 14, 20 + sizeof(udp));
    size_t n = fr_ip4(d, &(struct fr_ip){.proto = 17, .dst = FR_BCAST_IP}, udp, sizeof(udp));
    fr_eth(f, fr_bcast, fr_peer_mac, 0x0800);
    memcpy(f + 14, d, n);
    fr_input(s, f, 14 + n, FR_T0);
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_drops(s, SN_DROP_UDP_NO_PORT), 2);

    /* An ICMP error that is itself undeliverable upward is never answered
     * with an error: a destination unreachable quoting a datagram of an
     * unknown protocol. */
    uint8_t inner[28];
    fr_ip4(inner, &(struct fr_ip){.proto = 253, .src = FR_OUR_IP, .dst = FR_PEER_IP}, "abcdefgh", 8);
    uint8_t err[8 + 28] = {3, 1, 0, 0, 0, 0, 0, 0};
    memcpy(err + 8, inner, 28);
    uint16_t c = csum(err, sizeof(err));
    err[2] = (uint8_t)(c >> 8), err[3] = (uint8_t)c;
    fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, err, sizeof(err)), FR_T0);
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_count(s, SN_C_icmp_rx_unreach), 1);
    assert_int_equal(fr_count(s, SN_C_icmp_tx_unreach), 1); /* only the port unreachable */
    fr_stack_done(s, FR_T0);
}

/* Errors we receive go to the protocol named in the quoted header. */
struct seen {
    int calls;
    uint8_t type, code;
    size_t len;
    uint8_t inner[64];
};

static void record_error(void *ctx, uint8_t type, uint8_t code, const uint8_t *inner, size_t len,
                         sn_time now)
{
    (void)now;
    struct seen *sn = ctx;
    sn->calls++;
    sn->type = type;
    sn->code = code;
    sn->len = len;
    memcpy(sn->inner, inner, len < sizeof(sn->inner) ? len : sizeof(sn->inner));
}

static void errors_to_protocol(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    struct seen seen = {0};
    s->net.proto[253].icmp_error = record_error;
    s->net.proto[253].ctx = &seen;

    uint8_t inner[28], f[FR_FRAME_MAX];
    fr_ip4(inner, &(struct fr_ip){.proto = 253, .src = FR_OUR_IP, .dst = FR_PEER_IP}, "ABCDEFGH", 8);
    uint8_t types[][2] = {{3, 4}, {11, 0}};
    for (int i = 0; i < 2; i++) {
        uint8_t err[8 + 28] = {types[i][0], types[i][1], 0, 0, 0, 0, 0x05, 0xdc};
        memcpy(err + 8, inner, 28);
        uint16_t c = csum(err, sizeof(err));
        err[2] = (uint8_t)(c >> 8), err[3] = (uint8_t)c;
        fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, err, sizeof(err)), FR_T0);
        assert_int_equal(seen.calls, i + 1);
        assert_int_equal(seen.type, types[i][0]);
        assert_int_equal(seen.code, types[i][1]);
        assert_int_equal(seen.len, 28);
        assert_memory_equal(seen.inner, inner, 28);
    }
    /* A quote too short for the inner header + 8 bytes, or whose inner
     * header is not IPv4 or claims IHL < 5, is not passed up. */
    uint8_t bad[4][8 + 28];
    size_t bad_len[4] = {8 + 27, 8 + 28, 8 + 28, 8 + 28};
    for (int i = 0; i < 4; i++) {
        memset(bad[i], 0, sizeof(bad[i]));
        bad[i][0] = 3;
        memcpy(bad[i] + 8, inner, 28);
    }
    bad[1][8] = 0x65; /* version 6 */
    bad[2][8] = 0x43; /* IHL 3 */
    bad[3][8] = 0x46; /* IHL 6: 24 + 8 > 28 */
    for (int i = 0; i < 4; i++) {
        uint16_t c = csum(bad[i], bad_len[i]);
        bad[i][2] = (uint8_t)(c >> 8), bad[i][3] = (uint8_t)c;
        fr_input(s, f, fr_eth_ip4(f, &(struct fr_ip){.proto = 1}, bad[i], bad_len[i]), FR_T0);
    }
    assert_int_equal(seen.calls, 2);
    assert_int_equal(fr_drops(s, SN_DROP_ICMP_SHORT), 4);
    assert_int_equal(fr_drain(s), 0);
    s->net.proto[253].icmp_error = NULL;
    fr_stack_done(s, FR_T0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_reply),
        cmocka_unit_test(golden_echo),
        cmocka_unit_test(bad_icmp_checksum),
        cmocka_unit_test(short_and_unhandled),
        cmocka_unit_test(unknown_protocol),
        cmocka_unit_test(rate_limit),
        cmocka_unit_test(no_error_about_errors_or_broadcasts),
        cmocka_unit_test(errors_to_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
