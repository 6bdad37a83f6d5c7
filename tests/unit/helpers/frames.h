/* tests/unit/helpers/frames.h: building and checking frames for unit tests
 * that drive a whole stack (frame in, frames out), plus golden frames from a
 * real capture. Compiled into every unit test binary; everything is prefixed
 * fr_ so it cannot clash with other helpers.
 *
 * The stack under test is 192.0.2.2/24 at 02:00:00:00:00:02, MTU 1500; its
 * peer is the Linux kernel at 192.0.2.1, 02:00:00:00:00:01 (the addresses of
 * the capture the golden frames come from). */
#ifndef SYNACK_TESTS_HELPERS_FRAMES_H
#define SYNACK_TESTS_HELPERS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "core/time.h"
#include "synack/synack.h"
#include "wire/ip4.h"

#define FR_OUR_IP 0xc0000202u   /* 192.0.2.2 */
#define FR_PEER_IP 0xc0000201u  /* 192.0.2.1 */
#define FR_OTHER_IP 0xc0000203u /* 192.0.2.3: on-link, nobody answers for it */
#define FR_BCAST_IP 0xc00002ffu /* 192.0.2.255 */
#define FR_MTU 1500u
#define FR_FRAME_MAX 1514u      /* Ethernet header + MTU */
#define FR_T0 SN_SEC(1000)      /* virtual time at which test stacks start */

extern const uint8_t fr_our_mac[6];
extern const uint8_t fr_peer_mac[6];
extern const uint8_t fr_other_mac[6];
extern const uint8_t fr_bcast[6];

/* Captured with tcpdump on a veth pair (kernel 192.0.2.1 pinging kernel
 * 192.0.2.2 with `ping -c 1 -s 32 -p 73796e61636b`): the ARP request and
 * the reply, the echo request and the echo reply, exactly as on the wire. */
extern const uint8_t fr_golden_arp_request[42];
extern const uint8_t fr_golden_arp_reply[42];
extern const uint8_t fr_golden_echo_request[74];
extern const uint8_t fr_golden_echo_reply[74];

/* ---- building ---------------------------------------------------------- */

/* An IPv4 header to build; zero fields get defaults (ttl 64, src peer, dst
 * us, id 0x1234). @opts (opts_len a multiple of 4, <= 40) follow the fixed
 * header. */
struct fr_ip {
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    uint16_t id, frag;
    const uint8_t *opts;
    size_t opts_len;
};

/* Writes the IPv4 header (checksum filled in) and @len bytes of @payload at
 * @b. Returns the datagram length. */
size_t fr_ip4(uint8_t *b, const struct fr_ip *h, const void *payload, size_t len);

/* Writes a 14-byte Ethernet header. Returns 14. */
size_t fr_eth(uint8_t *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

/* An Ethernet frame from the peer to us holding the datagram fr_ip4 would
 * build. Returns the frame length. */
size_t fr_eth_ip4(uint8_t *frame, const struct fr_ip *h, const void *payload, size_t len);

/* Writes an ICMP echo message (@type 8 or 0) with a correct checksum at @b.
 * Returns 8 + @len. */
size_t fr_icmp_echo(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq, const void *data,
                    size_t len);

/* A whole echo-request frame from the peer to us. @frame holds at least
 * 14 + 20 + 8 + @len bytes. Returns its length. */
size_t fr_ping(uint8_t *frame, uint16_t id, uint16_t seq, const void *data, size_t len);

/* An ARP frame (42 bytes) from the sender @sha/@spa. */
size_t fr_arp(uint8_t *frame, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
              uint32_t spa, const uint8_t tha[6], uint32_t tpa);

/* Fills @b with a recognisable pattern derived from @seed. */
void fr_pattern(uint8_t *b, size_t len, uint32_t seed);

/* One Ethernet frame of a list. */
struct fr_frame {
    size_t len;
    uint8_t b[FR_FRAME_MAX + 64];
};

/* Splits the IPv4 datagram @dgram (@len bytes, header included) into
 * Ethernet frames from the peer to us whose IPv4 packets are at most @mtu
 * bytes; the header (options included) is copied into every fragment.
 * Returns a malloc'ed array (free it) and its size in *n. */
struct fr_frame *fr_fragment(const uint8_t *dgram, size_t len, size_t mtu, size_t *n);

/* A deterministic Fisher-Yates shuffle of @n frames. */
void fr_shuffle(struct fr_frame *f, size_t n, uint32_t seed);

/* ---- a stack under test ----------------------------------------------- */

/* The test identity: 192.0.2.2/24, fr_our_mac, MTU 1500, Ethernet, no
 * gateway, seed 1, @cfg (NULL: the defaults). */
void fr_default_opts(struct sn_stack_opts *o, const struct sn_config *cfg);

/* Creates a stack from @o at FR_T0; with @resolve_peer as fr_stack_new. */
struct sn_stack *fr_stack_new_opts(const struct sn_stack_opts *o, int resolve_peer);

/* A stack with the test identity, created at FR_T0 with @cfg (NULL: the
 * defaults). With @resolve_peer, the gratuitous ARP is drained and the
 * peer's golden ARP request has been fed (and the reply drained), so the
 * peer is in the ARP cache and no output is pending. */
struct sn_stack *fr_stack_new(const struct sn_config *cfg, int resolve_peer);

/* Feeds one frame; asserts it was accepted into a buffer. */
void fr_input(struct sn_stack *s, const void *frame, size_t len, sn_time now);

/* Copies the next output frame into @buf (FR_FRAME_MAX bytes at least) and
 * returns its length, or 0 when there is none. */
size_t fr_output(struct sn_stack *s, uint8_t *buf);

/* Discards every pending output frame; returns how many there were. */
size_t fr_drain(struct sn_stack *s);

/* Ends a test: drains the output, lets every timer run out (a virtual day
 * after @now), drains again, asserts that no packet buffer is held
 * (sn_stack_bufs_in_use == 0, i.e. the pools are back to zero) and frees
 * the stack. */
void fr_stack_done(struct sn_stack *s, sn_time now);

uint64_t fr_drops(const struct sn_stack *s, enum sn_drop why);
uint64_t fr_count(const struct sn_stack *s, enum sn_counter c);
/* The sum of all drop counters. */
uint64_t fr_drops_total(const struct sn_stack *s);

/* ---- checking ---------------------------------------------------------- */

/* Asserts @frame is a valid Ethernet/IPv4 frame from us to @eth_dst whose
 * header checksum verifies and whose total length matches the frame; fills
 * @ip and returns a pointer to the IPv4 header. */
const uint8_t *fr_check_ip4(const uint8_t *frame, size_t len, const uint8_t eth_dst[6],
                            struct ip4_hdr *ip);

/* Reassembles output fragments (test-side, independent of net/): collects
 * Ethernet frames of one datagram; fr_reasm_done says whether it is
 * complete and, if so, writes the datagram (a fresh 20-byte header and the
 * payload) to @out and returns its length. */
struct fr_reasm {
    uint8_t have[65536];   /* 1 per received payload byte */
    uint8_t data[65536];
    uint8_t first_hdr[60];
    uint32_t total;        /* payload length once the last fragment came */
    int have_first, n_frags;
    uint16_t id;
};
void fr_reasm_init(struct fr_reasm *r);
/* Adds the IPv4 packet @ip4 (@len bytes, header included); asserts every
 * fragment carries the same id and fits. */
void fr_reasm_add(struct fr_reasm *r, const uint8_t *ip4, size_t len);
size_t fr_reasm_done(const struct fr_reasm *r, uint8_t *out);

#endif
