/* wire/tcp.c: TCP header and option parsing and building. */
#include <string.h>

#include "core/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

static void opt_apply(struct tcp_opts *o, uint8_t kind, uint8_t len, const uint8_t *v)
{
    switch (kind) {
    case TCPOPT_MSS:
        if (len == 4) {
            o->has_mss = 1;
            o->mss = rd16(v);
        }
        break;
    case TCPOPT_WS:
        if (len == 3) {
            o->has_ws = 1;
            o->ws = v[0];
        }
        break;
    case TCPOPT_SACK_OK:
        if (len == 2)
            o->sack_ok = 1;
        break;
    case TCPOPT_TS:
        if (len == 10) {
            o->has_ts = 1;
            o->ts_val = rd32(v);
            o->ts_ecr = rd32(v + 4);
        }
        break;
    case TCPOPT_SACK:
        if (len >= 10 && (len - 2) % 8 == 0) {
            uint8_t n = (uint8_t)((len - 2) / 8);
            for (uint8_t i = 0; i < n && o->n_sack < TCP_MAX_SACK_BLOCKS; i++) {
                o->sack[o->n_sack].left = rd32(v + 8 * i);
                o->sack[o->n_sack].right = rd32(v + 8 * i + 4);
                o->n_sack++;
            }
        }
        break;
    default:
        break; /* RFC 9293 3.1: unknown options are skipped by their length */
    }
}

static int opts_parse(struct tcp_opts *o, const uint8_t *p, size_t len)
{
    memset(o, 0, sizeof(*o));
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return WIRE_EBADOPT;
        uint8_t olen = p[i + 1];
        if (olen < 2 || i + olen > len)
            return WIRE_EBADOPT;
        opt_apply(o, kind, olen, p + i + 2);
        i += olen;
    }
    return WIRE_OK;
}

int tcp_seg_parse(struct tcp_seg *s, const uint8_t *b, size_t len)
{
    if (len < TCP_HDR_LEN)
        return WIRE_ETRUNC;
    uint32_t hdr_len = (uint32_t)(b[12] >> 4) * 4;
    if (hdr_len < TCP_HDR_LEN || hdr_len > len)
        return WIRE_EBADHDR;
    int err = opts_parse(&s->opt, b + TCP_HDR_LEN, hdr_len - TCP_HDR_LEN);
    if (err)
        return err;
    s->sport = rd16(b);
    s->dport = rd16(b + 2);
    s->seq = rd32(b + 4);
    s->ack = rd32(b + 8);
    s->flags = b[13];
    s->wnd = rd16(b + 14);
    s->urp = rd16(b + 18);
    s->data = b + hdr_len;
    s->len = (uint32_t)(len - hdr_len);
    return WIRE_OK;
}

int tcp_csum_ok(uint32_t src, uint32_t dst, const uint8_t *b, size_t len)
{
    uint32_t sum = csum_pseudo4(src, dst, IP4_PROTO_TCP, (uint16_t)len);
    return csum_fold(csum_add(sum, b, len)) == 0;
}

uint32_t tcp_opts_len(const struct tcp_opts_out *o)
{
    uint32_t n = 0;
    if (o->mss_on)
        n += 4;
    if (o->ts_on)
        n += 12; /* sackOK or nop,nop in front of TS */
    else if (o->sack_ok_on)
        n += 4;
    if (o->ws_on)
        n += 4;
    if (o->n_sack)
        n += 4 + 8 * (uint32_t)o->n_sack;
    return n;
}

/* Linux's layout (tcp_options_write): MSS; then "sackOK, TS" together, or
 * "nop, nop, TS", or "nop, nop, sackOK"; then "nop, wscale"; then
 * "nop, nop, SACK blocks". Traces line up with the kernel's byte for byte. */
static uint8_t *opts_write(uint8_t *p, const struct tcp_opts_out *o)
{
    if (o->mss_on) {
        p[0] = TCPOPT_MSS, p[1] = 4;
        wr16(p + 2, o->mss);
        p += 4;
    }
    if (o->ts_on) {
        if (o->sack_ok_on)
            p[0] = TCPOPT_SACK_OK, p[1] = 2;
        else
            p[0] = TCPOPT_NOP, p[1] = TCPOPT_NOP;
        p[2] = TCPOPT_TS, p[3] = 10;
        wr32(p + 4, o->ts_val);
        wr32(p + 8, o->ts_ecr);
        p += 12;
    } else if (o->sack_ok_on) {
        p[0] = TCPOPT_NOP, p[1] = TCPOPT_NOP, p[2] = TCPOPT_SACK_OK, p[3] = 2;
        p += 4;
    }
    if (o->ws_on) {
        p[0] = TCPOPT_NOP, p[1] = TCPOPT_WS, p[2] = 3, p[3] = o->ws;
        p += 4;
    }
    if (o->n_sack) {
        p[0] = TCPOPT_NOP, p[1] = TCPOPT_NOP, p[2] = TCPOPT_SACK;
        p[3] = (uint8_t)(2 + 8 * o->n_sack);
        p += 4;
        for (int i = 0; i < o->n_sack; i++, p += 8) {
            wr32(p, o->sack[i].left);
            wr32(p + 4, o->sack[i].right);
        }
    }
    return p;
}

uint32_t tcp_build(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                   const struct tcp_opts_out *o, uint32_t payload_len)
{
    return tcp_build_csum(b, src, dst, sport, dport, seq, ack, flags, wnd, o, payload_len, 0);
}

uint32_t tcp_build_csum(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                        const struct tcp_opts_out *o, uint32_t payload_len, int partial)
{
    uint32_t hdr_len = TCP_HDR_LEN + tcp_opts_len(o);
    wr16(b, sport);
    wr16(b + 2, dport);
    wr32(b + 4, seq);
    wr32(b + 8, ack);
    b[12] = (uint8_t)(hdr_len / 4 << 4);
    b[13] = flags;
    wr16(b + 14, wnd);
    wr16(b + 16, 0);
    wr16(b + 18, 0);
    opts_write(b + TCP_HDR_LEN, o);
    uint32_t total = hdr_len + payload_len;
    uint32_t sum = csum_pseudo4(src, dst, IP4_PROTO_TCP, (uint16_t)total);
    if (partial)
        wr16(b + 16, (uint16_t)~csum_fold(sum)); /* the device adds header and payload */
    else
        wr16(b + 16, csum_fold(csum_add(sum, b, total)));
    return hdr_len;
}

char *tcp_flags_str(uint8_t flags, char *buf)
{
    char *p = buf;
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {{TCP_F_SYN, 'S'}, {TCP_F_FIN, 'F'}, {TCP_F_RST, 'R'}, {TCP_F_PSH, 'P'},
                 {TCP_F_URG, 'U'}, {TCP_F_ECE, 'E'}, {TCP_F_CWR, 'W'}, {TCP_F_ACK, '.'}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit)
            *p++ = names[i].c;
    *p = 0;
    return buf;
}
