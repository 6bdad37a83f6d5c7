/* synack/info.h: a connection's state and variables, like Linux TCP_INFO. */
#ifndef SYNACK_INFO_H
#define SYNACK_INFO_H

#include <stdint.h>

#include "synack/export.h"

struct sn_tcp_info {
    uint8_t state;           /* enum tcp_state; sn_tcp_state_name() prints it */
    uint32_t local_addr, remote_addr; /* host order */
    uint16_t local_port, remote_port;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd;
    uint32_t rcv_nxt, rcv_wnd;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t ts_ok, sack_ok;
    uint32_t snd_mss, rcv_mss;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t srtt_us, rttvar_us, rto_us;
    uint32_t retransmits;    /* consecutive, unrecovered */
    uint32_t total_retrans;
    uint32_t backoff;
    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint64_t segs_in, segs_out;
    uint32_t unacked;        /* bytes in flight */
    uint32_t sndbuf_used, rcvbuf_used;
};

/* "ESTABLISHED", "SYN-SENT", ... as RFC 9293 writes them. */
SN_API const char *sn_tcp_state_name(int state);

#endif
