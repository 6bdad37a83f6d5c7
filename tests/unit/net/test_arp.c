/* tests/unit/net/test_arp.c: ARP (net/arp.c, RFC 826, RFC 5227) through a
 * whole stack: frames in, frames out, virtual time. Every test ends with the
 * pools back at zero (fr_stack_done). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"

static const uint8_t zero_mac[6];

/* RFC 5227 3: the first thing a stack says is an ARP announcement: a
 * broadcast request with sender and target address both ours. */
static void gratuitous_arp_first(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    uint8_t want[42], got[FR_FRAME_MAX];
    fr_arp(want, 1, fr_bcast, fr_our_mac, FR_OUR_IP, zero_mac, FR_OUR_IP);
    assert_int_equal(fr_output(s, got), 42);
    assert_memory_equal(got, want, 42);
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_count(s, SN_C_arp_tx_gratuitous), 1);
    fr_stack_done(s, FR_T0);
}

/* A request for our address gets exactly the reply the Linux kernel sent
 * to the same request (golden capture), and nothing else. */
static void request_for_us_exact_reply(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    fr_input(s, fr_golden_arp_request, sizeof(fr_golden_arp_request), FR_T0);
    uint8_t got[FR_FRAME_MAX];
    assert_int_equal(fr_output(s, got), sizeof(fr_golden_arp_reply));
    assert_memory_equal(got, fr_golden_arp_reply, sizeof(fr_golden_arp_reply));
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_count(s, SN_C_arp_rx_requests), 1);
    assert_int_equal(fr_count(s, SN_C_arp_tx_replies), 1);
    assert_int_equal(fr_drops_total(s), 0);
    fr_stack_done(s, FR_T0);
}

/* RFC 826: the requester is learned from its request, so an echo reply
 * to it leaves at once, without a request of our own. */
static void requester_is_learned(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    size_t n = fr_ping(f, 1, 1, "x", 1);
    fr_input(s, f, n, FR_T0);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.dst, FR_PEER_IP);
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), 0);
    fr_stack_done(s, FR_T0);
}

/* A request for someone else's address: no reply, counted, and (RFC 826)
 * no new cache entry for the sender. */
static void request_not_for_us(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    uint8_t f[42];
    fr_arp(f, 1, fr_bcast, fr_peer_mac, FR_PEER_IP, zero_mac, FR_OTHER_IP);
    fr_input(s, f, sizeof(f), FR_T0);
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_NOT_FOR_US), 1);
    /* The sender was not learned: an echo reply to it needs a request. */
    uint8_t p[FR_FRAME_MAX];
    fr_input(s, p, fr_ping(p, 1, 1, NULL, 0), FR_T0);
    uint8_t got[FR_FRAME_MAX];
    uint8_t want[42];
    fr_arp(want, 1, fr_bcast, fr_our_mac, FR_OUR_IP, zero_mac, FR_PEER_IP);
    assert_int_equal(fr_output(s, got), 42);
    assert_memory_equal(got, want, 42);
    assert_int_equal(fr_output(s, got), 0);
    fr_stack_done(s, FR_T0);
}

static void malformed(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    uint8_t f[64];
    uint64_t n = 0;
    /* Every truncation of a valid request below the ARP length. */
    for (size_t len = 14; len < 42; len++) {
        fr_input(s, fr_golden_arp_request, len, FR_T0);
        assert_int_equal(fr_drops(s, SN_DROP_ARP_MALFORMED), ++n);
    }
    /* Not Ethernet/IPv4, or an unknown operation. */
    size_t at[] = {15, 17, 18, 19, 21};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        memcpy(f, fr_golden_arp_request, 42);
        f[at[i]] ^= 0x10;
        fr_input(s, f, 42, FR_T0);
        assert_int_equal(fr_drops(s, SN_DROP_ARP_MALFORMED), ++n);
    }
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_count(s, SN_C_arp_tx_replies), 0);
    /* Ethernet padding after a valid request is fine. */
    memset(f, 0xa5, sizeof(f));
    memcpy(f, fr_golden_arp_request, 42);
    fr_input(s, f, 60, FR_T0);
    assert_int_equal(fr_drain(s), 1);
    fr_stack_done(s, FR_T0);
}

/* A packet to an on-link host we have no address for waits for ARP: the
 * request goes out, and the reply releases the packet. */
static void unresolved_queues_then_released(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    sn_time now = FR_T0;
    fr_input(s, f, fr_ping(f, 7, 1, "abc", 3), now);
    uint8_t want[42];
    fr_arp(want, 1, fr_bcast, fr_our_mac, FR_OUR_IP, zero_mac, FR_PEER_IP);
    assert_int_equal(fr_output(s, got), 42);
    assert_memory_equal(got, want, 42);
    assert_int_equal(fr_output(s, got), 0); /* the echo reply waits */
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), 1);
    assert_true(sn_stack_bufs_in_use(s) > 0);

    now += SN_MSEC(10);
    uint8_t reply[42];
    fr_arp(reply, 2, fr_our_mac, fr_peer_mac, FR_PEER_IP, fr_our_mac, FR_OUR_IP);
    fr_input(s, reply, sizeof(reply), now);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
    assert_int_equal(ip.proto, 1);
    assert_int_equal(b[20], 0); /* echo reply */
    assert_memory_equal(b + 28, "abc", 3);
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_count(s, SN_C_arp_rx_replies), 1);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    /* No retry once resolved. */
    now += SN_SEC(10);
    sn_stack_advance(s, now);
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), 1);
    assert_int_equal(fr_drops_total(s), 0);
    fr_stack_done(s, now);
}

/* Nobody answers: the request is sent cfg->arp_retries times in all (the
 * config's "ARP requests before giving up"), cfg->arp_retry_ms apart, and
 * then the waiting packets are dropped as ARP_UNRESOLVED. */
static void unresolved_retries_then_drops(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.arp_retries = 4;
    cfg.arp_retry_ms = 500;
    struct sn_stack *s = fr_stack_new(&cfg, 0);
    fr_drain(s);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    sn_time now = FR_T0;
    for (uint16_t seq = 1; seq <= 3; seq++)
        fr_input(s, f, fr_ping(f, 7, seq, NULL, 0), now);
    uint8_t want[42];
    fr_arp(want, 1, fr_bcast, fr_our_mac, FR_OUR_IP, zero_mac, FR_PEER_IP);
    assert_int_equal(fr_output(s, got), 42); /* one request for all three */
    assert_memory_equal(got, want, 42);
    assert_int_equal(fr_output(s, got), 0);

    for (uint32_t i = 1; i < cfg.arp_retries; i++) {
        sn_stack_advance(s, now + SN_MSEC(cfg.arp_retry_ms) - 1);
        assert_int_equal(fr_output(s, got), 0); /* not early */
        now += SN_MSEC(cfg.arp_retry_ms);
        sn_stack_advance(s, now);
        assert_int_equal(fr_output(s, got), 42);
        assert_memory_equal(got, want, 42);
        assert_int_equal(fr_output(s, got), 0);
        assert_int_equal(fr_drops(s, SN_DROP_ARP_UNRESOLVED), 0);
    }
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), cfg.arp_retries);
    now += SN_MSEC(cfg.arp_retry_ms);
    sn_stack_advance(s, now);
    assert_int_equal(fr_output(s, got), 0);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_UNRESOLVED), 3);
    assert_int_equal(sn_stack_bufs_in_use(s), 0);
    assert_int_equal(sn_stack_next_deadline(s), SN_TIME_NEVER);

    /* A new packet starts over with a fresh request. */
    fr_input(s, f, fr_ping(f, 7, 4, NULL, 0), now);
    assert_int_equal(fr_output(s, got), 42);
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), cfg.arp_retries + 1);
    fr_stack_done(s, now);
}

/* At most cfg->arp_queue_max packets wait per address; beyond that the
 * oldest are dropped (ARP_QUEUE_FULL) and the newest go out on resolution. */
static void queue_bound(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.arp_queue_max = 4;
    struct sn_stack *s = fr_stack_new(&cfg, 0);
    fr_drain(s);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    for (uint16_t seq = 1; seq <= 7; seq++)
        fr_input(s, f, fr_ping(f, 9, seq, NULL, 0), FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_QUEUE_FULL), 3);
    assert_int_equal(fr_drain(s), 1); /* the request */
    uint8_t reply[42];
    fr_arp(reply, 2, fr_our_mac, fr_peer_mac, FR_PEER_IP, fr_our_mac, FR_OUR_IP);
    fr_input(s, reply, sizeof(reply), FR_T0);
    for (uint16_t seq = 4; seq <= 7; seq++) {
        size_t len = fr_output(s, got);
        struct ip4_hdr ip;
        const uint8_t *b = fr_check_ip4(got, len, fr_peer_mac, &ip);
        assert_int_equal(b[20], 0);
        assert_int_equal(b[26] << 8 | b[27], seq); /* in order, newest kept */
    }
    assert_int_equal(fr_output(s, got), 0);
    fr_stack_done(s, FR_T0);
}

/* A resolved entry lives cfg->arp_timeout_ms; then it is forgotten and the
 * next packet asks again. */
static void entry_expires(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.arp_timeout_ms = 5000;
    struct sn_stack *s = fr_stack_new(&cfg, 1);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    sn_time now = FR_T0 + SN_MSEC(4999);
    sn_stack_advance(s, now);
    fr_input(s, f, fr_ping(f, 1, 1, NULL, 0), now);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    fr_check_ip4(got, len, fr_peer_mac, &ip); /* still cached */
    now = FR_T0 + SN_MSEC(5000);
    sn_stack_advance(s, now);
    assert_int_equal(fr_count(s, SN_C_arp_cache_expired), 1);
    fr_input(s, f, fr_ping(f, 1, 2, NULL, 0), now);
    assert_int_equal(fr_output(s, got), 42);
    assert_int_equal(got[14 + 7], 1); /* a request */
    assert_int_equal(fr_output(s, got), 0);
    fr_stack_done(s, now);
}

/* RFC 826 merge: a reply (or request) from a host we already have updates
 * its hardware address, even when not addressed to us. */
static void existing_entry_updated(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 1);
    uint8_t f[FR_FRAME_MAX], got[FR_FRAME_MAX];
    static const uint8_t new_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    fr_arp(f, 1, fr_bcast, new_mac, FR_PEER_IP, zero_mac, FR_OTHER_IP);
    fr_input(s, f, 42, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_NOT_FOR_US), 1);
    assert_int_equal(fr_output(s, got), 0);
    fr_input(s, f, fr_ping(f, 1, 1, NULL, 0), FR_T0);
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    fr_check_ip4(got, len, new_mac, &ip);
    fr_stack_done(s, FR_T0);
}

/* Gratuitous ARP from someone claiming our address is not "for us" and
 * changes nothing; neither is a request whose sender is us. */
static void sender_is_our_address(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    uint8_t f[42];
    fr_arp(f, 1, fr_bcast, fr_other_mac, FR_OUR_IP, zero_mac, FR_OUR_IP);
    fr_input(s, f, sizeof(f), FR_T0);
    assert_int_equal(fr_drain(s), 0);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_NOT_FOR_US), 1);
    fr_stack_done(s, FR_T0);
}

/* The cache holds cfg->arp_cache_size entries. When every one is waiting
 * for an answer (they hold packets), a packet for yet another host is
 * dropped (ARP_QUEUE_FULL); resolved entries are recycled instead, the one
 * closest to expiry first. */
static void cache_full(void **state)
{
    (void)state;
    struct sn_config cfg;
    sn_config_defaults(&cfg);
    cfg.arp_cache_size = 4;
    struct sn_stack *s = fr_stack_new(&cfg, 0);
    fr_drain(s);
    uint8_t f[FR_FRAME_MAX], d[100], icmp[16];
    size_t in = fr_icmp_echo(icmp, 8, 1, 1, NULL, 0);
    for (uint32_t h = 10; h <= 14; h++) {
        size_t n = fr_eth_ip4(f, &(struct fr_ip){.proto = 1, .src = 0xc0000200u | h}, icmp, in);
        fr_input(s, f, n, FR_T0 + h);
    }
    assert_int_equal(fr_count(s, SN_C_arp_tx_requests), 4);
    assert_int_equal(fr_drain(s), 4);
    assert_int_equal(fr_drops(s, SN_DROP_ARP_QUEUE_FULL), 1); /* host .14 */
    /* Answers for .10 .. .13 release their echo replies. */
    for (uint32_t h = 10; h <= 13; h++) {
        uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)h};
        fr_arp(d, 2, fr_our_mac, mac, 0xc0000200u | h, fr_our_mac, FR_OUR_IP);
        fr_input(s, d, 42, FR_T0 + SN_MSEC(h));
        uint8_t got[FR_FRAME_MAX];
        size_t len = fr_output(s, got);
        struct ip4_hdr ip;
        fr_check_ip4(got, len, mac, &ip);
        assert_int_equal(ip.dst, 0xc0000200u | h);
    }
    /* Now .14 recycles the entry of .10, the oldest. */
    size_t n = fr_eth_ip4(f, &(struct fr_ip){.proto = 1, .src = 0xc000020eu}, icmp, in);
    fr_input(s, f, n, FR_T0 + SN_SEC(1));
    uint8_t got[FR_FRAME_MAX], want[42];
    fr_arp(want, 1, fr_bcast, fr_our_mac, FR_OUR_IP, zero_mac, 0xc000020eu);
    assert_int_equal(fr_output(s, got), 42);
    assert_memory_equal(got, want, 42);
    assert_int_equal(fr_output(s, got), 0);
    /* .11 is still cached; .10 is not. */
    n = fr_eth_ip4(f, &(struct fr_ip){.proto = 1, .src = 0xc000020bu}, icmp, in);
    fr_input(s, f, n, FR_T0 + SN_SEC(1));
    size_t len = fr_output(s, got);
    struct ip4_hdr ip;
    fr_check_ip4(got, len, (const uint8_t[6]){0x02, 0, 0, 0, 0, 11}, &ip);
    n = fr_eth_ip4(f, &(struct fr_ip){.proto = 1, .src = 0xc000020au}, icmp, in);
    fr_input(s, f, n, FR_T0 + SN_SEC(1));
    assert_int_equal(fr_output(s, got), 42); /* asks again for .10, recycling .11 */
    assert_int_equal(got[14 + 7], 1);
    fr_stack_done(s, FR_T0 + SN_SEC(1));
}

/* Link-level drops before ARP or IPv4 see anything. */
static void ethernet_drops(void **state)
{
    (void)state;
    struct sn_stack *s = fr_stack_new(NULL, 0);
    fr_drain(s);
    for (size_t len = 0; len < 14; len++)
        fr_input(s, fr_golden_arp_request, len, FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ETH_SHORT), 14);
    uint8_t f[42];
    memcpy(f, fr_golden_arp_request, 42);
    memcpy(f, fr_other_mac, 6);
    fr_input(s, f, sizeof(f), FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ETH_NOT_FOR_US), 1);
    memcpy(f, fr_golden_arp_request, 42);
    f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
    fr_input(s, f, sizeof(f), FR_T0);
    f[12] = 0x81, f[13] = 0x00; /* 802.1Q */
    fr_input(s, f, sizeof(f), FR_T0);
    assert_int_equal(fr_drops(s, SN_DROP_ETH_UNKNOWN_TYPE), 2);
    assert_int_equal(fr_drain(s), 0);
    fr_stack_done(s, FR_T0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gratuitous_arp_first),
        cmocka_unit_test(request_for_us_exact_reply),
        cmocka_unit_test(requester_is_learned),
        cmocka_unit_test(request_not_for_us),
        cmocka_unit_test(malformed),
        cmocka_unit_test(unresolved_queues_then_released),
        cmocka_unit_test(unresolved_retries_then_drops),
        cmocka_unit_test(queue_bound),
        cmocka_unit_test(entry_expires),
        cmocka_unit_test(existing_entry_updated),
        cmocka_unit_test(sender_is_our_address),
        cmocka_unit_test(cache_full),
        cmocka_unit_test(ethernet_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
