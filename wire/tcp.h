/* wire/tcp.h: TCP headers and options (RFC 9293 3.1, RFC 7323, RFC 2018).
 *
 * tcp_seg_parse() validates a segment once and decodes it into a host-order
 * summary; the state machine only ever sees struct tcp_seg. */
#ifndef SYNACK_WIRE_TCP_H
#define SYNACK_WIRE_TCP_H

#include <stddef.h>
#include <stdint.h>

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_SACK_BLOCKS 4

#define TCP_F_FIN 0x01
#define TCP_F_SYN 0x02
#define TCP_F_RST 0x04
#define TCP_F_PSH 0x08
#define TCP_F_ACK 0x10
#define TCP_F_URG 0x20
#define TCP_F_ECE 0x40
#define TCP_F_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WS 3
#define TCPOPT_SACK_OK 4
#define TCPOPT_SACK 5
#define TCPOPT_TS 8

struct sack_block {
    uint32_t left, right; /* [left, right) */
};

struct tcp_opts {
    uint8_t has_mss, has_ws, sack_ok, has_ts;
    uint16_t mss;
    uint8_t ws;
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;
    struct sack_block sack[TCP_MAX_SACK_BLOCKS];
};

/* What a segment says, in host order. data points into the packet and
 * lives only as long as it. */
struct tcp_seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd; /* unscaled, as on the wire */
    uint16_t urp;
    struct tcp_opts opt;
    const uint8_t *data;
    uint32_t len; /* payload bytes */
};

/* Decodes the segment of @len bytes at @b: 0, WIRE_ETRUNC (shorter than
 * 20), WIRE_EBADHDR (data offset < 5 or beyond @len), or WIRE_EBADOPT (an
 * option of length 0 or 1, or one overrunning the header). Options of a
 * known kind with a wrong length are ignored, as Linux does. The checksum
 * is not checked here: see tcp_csum_ok. */
int tcp_seg_parse(struct tcp_seg *s, const uint8_t *b, size_t len);

/* 1 when the checksum over pseudo-header, header and payload verifies. */
int tcp_csum_ok(uint32_t src, uint32_t dst, const uint8_t *b, size_t len);

/* Which options to write; tcp_build lays them out in Linux's order. */
struct tcp_opts_out {
    uint8_t mss_on, ws_on, sack_ok_on, ts_on;
    uint16_t mss;
    uint8_t ws;
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;
    struct sack_block sack[TCP_MAX_SACK_BLOCKS];
};

/* Length of the options tcp_build would write (a multiple of 4). */
uint32_t tcp_opts_len(const struct tcp_opts_out *o);

/* Writes the header and options at @b (TCP_HDR_LEN + tcp_opts_len bytes);
 * the payload of @payload_len bytes must already follow. Fills in the
 * checksum over the pseudo-header (@src, @dst host order). Returns the
 * header length. */
uint32_t tcp_build(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                   const struct tcp_opts_out *o, uint32_t payload_len);

/* As tcp_build; with @partial, the checksum is left to a device (Linux
 * CHECKSUM_PARTIAL, virtio NEEDS_CSUM): the field holds the folded
 * pseudo-header sum over the whole segment's length, not complemented, and
 * the device adds the sum of the header and payload. For a TSO
 * super-segment the device fixes the length per segment, as Linux's
 * tcp_gso_segment does. */
uint32_t tcp_build_csum(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                        const struct tcp_opts_out *o, uint32_t payload_len, int partial);

/* "S.", "F.", "R", "P." ... as tcpdump prints flags, into @buf (>= 9). */
char *tcp_flags_str(uint8_t flags, char *buf);

#endif
