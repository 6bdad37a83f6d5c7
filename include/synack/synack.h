/* synack/synack.h: the public door into a synack stack.
 *
 * A stack instance is sans-I/O: feed it frames and the time, take frames
 * from it, ask when it next needs the time. The event loop (sn_loop) does
 * that over a TAP/TUN device; the simulator does it over memory links with
 * a virtual clock. One thread per instance; nothing here is thread-safe.
 *
 * Errors are negative errno values; sn_strerror() names them. */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "synack/config.h"
#include "synack/export.h"
#include "synack/info.h"

typedef int64_t sn_time_us; /* monotonic microseconds (same as core's sn_time) */

struct sn_stack;
struct sn_sock;
struct pkt;      /* a packet buffer (core/pkt.h); opaque to library users */
struct pkt_pool;

enum sn_link_kind { SN_LINK_ETH = 0, SN_LINK_IP = 1 };

struct sn_stack_opts {
    struct sn_config cfg;    /* start from sn_config_defaults() */
    enum sn_link_kind link;  /* Ethernet (TAP, pipe) or raw IPv4 (TUN) */
    uint8_t mac[6];          /* our hardware address (Ethernet) */
    uint32_t addr;           /* our IPv4 address, host order */
    uint8_t prefix_len;      /* on-link prefix */
    uint32_t gateway;        /* default gateway, host order; 0 = none */
    uint32_t mtu;            /* link MTU (IPv4 datagram size), e.g. 1500 */
    uint64_t seed;           /* 0: random keys (ISN, cookies) from getrandom;
                                else deterministic (simulator, scripts) */
    uint32_t offload;        /* SN_OFFLOAD_* the link does for us; 0: none */
};

/* Offloads (sn_stack_opts.offload), as a TAP device with IFF_VNET_HDR and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) does them (link/tuntap.c):
 * CSUM: the TCP segments we send leave the checksum to the link (the
 *   pseudo-header sum pre-filled, struct pkt_offload csum_partial).
 * TSO (implies CSUM): TCP may send super-segments of up to 64 KiB for the
 *   link to cut at the MSS (from pool_tso_bufs 64 KiB buffers added to the
 *   big pool), and the link may hand us such super-frames, so receive
 *   buffers are 64 KiB each (pool_rx_offload_bufs of them, in place of
 *   pool_rx_bufs). Defaults: 256 + 256 buffers, 33 MiB of address space;
 *   pages are only touched as buffers are used (about 64 per direction at
 *   a time: the loop's batch). */
#define SN_OFFLOAD_CSUM 1u
#define SN_OFFLOAD_TSO 2u

/* Creates a stack. Returns 0 and *out, or -EINVAL (bad options) or
 * -ENOMEM. */
SN_API int sn_stack_new(const struct sn_stack_opts *o, sn_time_us now, struct sn_stack **out);

/* Frees the stack and every socket and buffer it holds. */
SN_API void sn_stack_free(struct sn_stack *s);

/* One frame from the link. Consumes @frame (from sn_stack_rx_pool()). */
SN_API void sn_stack_input(struct sn_stack *s, struct pkt *frame, sn_time_us now);

/* Copies @len bytes into a receive buffer and inputs them. Returns 0 or
 * -ENOBUFS (pool empty; counted) or -EMSGSIZE. */
SN_API int sn_stack_input_bytes(struct sn_stack *s, const void *frame, size_t len, sn_time_us now);

/* The next frame to send, owned by the caller (free with sn_pkt_free), or
 * NULL when there is none. TCP's answers to input and to socket calls are
 * only built here, once per batch (the ACK with the application's answer,
 * full segments): drain it after each batch of input and socket calls. */
SN_API struct pkt *sn_stack_output(struct sn_stack *s);

/* A packet's bytes, and giving it back. */
SN_API const uint8_t *sn_pkt_data(const struct pkt *p);
SN_API size_t sn_pkt_len(const struct pkt *p);
SN_API void sn_pkt_free(struct pkt *p);

/* Copies the next frame to send into @buf. Returns its length, 0 when there
 * is none, or -EMSGSIZE (@cap too small; the frame is dropped). */
SN_API int sn_stack_output_bytes(struct sn_stack *s, void *buf, size_t cap);

/* Fires due timers and delivers socket events (callbacks run here, never
 * inside sn_stack_input). Call after every batch of input, and at
 * sn_stack_next_deadline(). */
SN_API void sn_stack_advance(struct sn_stack *s, sn_time_us now);

/* When the stack next needs sn_stack_advance, or INT64_MAX. */
SN_API sn_time_us sn_stack_next_deadline(const struct sn_stack *s);

SN_API struct pkt_pool *sn_stack_rx_pool(struct sn_stack *s);

/* Prints every counter (netstat -s style); zero ones only if @all. */
SN_API void sn_stack_print_stats(const struct sn_stack *s, FILE *out, int all);

/* Every counter in the Prometheus text exposition format (version 0.0.4:
 * serve it as "text/plain; version=0.0.4"), e.g. for an HTTP /metrics. */
SN_API void sn_stack_print_prometheus(const struct sn_stack *s, FILE *out);

/* The connection table like `ss -ti` (what `synack ss` shows): one line per
 * connection (state, queues, addresses) and one of variables (cwnd,
 * ssthresh, srtt, rto, bytes, retransmits). @which: SN_SOCKS_CONNS
 * (every non-listening one), SN_SOCKS_LISTEN, or both OR'ed together. */
#define SN_SOCKS_CONNS 1
#define SN_SOCKS_LISTEN 2
SN_API void sn_stack_print_socks(struct sn_stack *s, FILE *out, int which);

/* Pool accounting: packet buffers currently held by the stack (in queues,
 * reassembly, ...). A stack with nothing in flight holds 0. */
SN_API uint32_t sn_stack_bufs_in_use(const struct sn_stack *s);

SN_API const char *sn_strerror(int err);

/* ---- TCP sockets ----------------------------------------------------
 *
 * Non-blocking. Data is copied in by sn_send and out by sn_recv, so the
 * caller keeps ownership of its buffers. Readiness is reported through a
 * callback set with sn_sock_set_cb, run from sn_stack_advance. */

enum sn_event {
    SN_EV_READABLE = 1 << 0,  /* data, EOF, or (listener) a connection to accept */
    SN_EV_WRITABLE = 1 << 1,  /* send buffer space; or connect() completed */
    SN_EV_ERROR = 1 << 2,     /* reset, timeout, refused: see sn_sock_error */
    SN_EV_CLOSED = 1 << 3,    /* the connection reached CLOSED (or TIME-WAIT) */
};

typedef void (*sn_sock_cb)(struct sn_sock *so, uint32_t events, void *user);

/* Listens on @port (our address). @backlog bounds established connections
 * waiting for sn_accept. Returns 0 and *out, or -EADDRINUSE, -EINVAL,
 * -ENOMEM. */
SN_API int sn_listen(struct sn_stack *s, uint16_t port, int backlog, struct sn_sock **out);

/* Takes an established connection from @listener. Returns 0 and *out, or
 * -EAGAIN (none yet), -EINVAL (not a listener). */
SN_API int sn_accept(struct sn_sock *listener, struct sn_sock **out);

/* Active open to @addr:@port (host order) from an ephemeral port (or
 * @local_port if non-zero). Returns 0 and *out at once; completion is
 * SN_EV_WRITABLE, failure SN_EV_ERROR with sn_sock_error() -ECONNREFUSED
 * or -ETIMEDOUT. Errors now: -EADDRINUSE, -EHOSTUNREACH, -ENOMEM. */
SN_API int sn_connect(struct sn_stack *s, uint32_t addr, uint16_t port, uint16_t local_port,
                      sn_time_us now, struct sn_sock **out);

/* Queues up to @len bytes. Returns bytes queued (> 0), or -EAGAIN (buffer
 * full), -ENOTCONN (not yet established... or closed), -EPIPE (we shut
 * down writing), -ECONNRESET, -ETIMEDOUT. */
SN_API ssize_t sn_send(struct sn_sock *so, const void *buf, size_t len);

/* Copies up to @len received bytes. Returns bytes (> 0), 0 at EOF (the
 * peer sent FIN and all data was read), -EAGAIN (nothing yet), -ENOTCONN,
 * -ECONNRESET, -ETIMEDOUT. */
SN_API ssize_t sn_recv(struct sn_sock *so, void *buf, size_t len);

#define SN_SHUT_RD 1
#define SN_SHUT_WR 2
#define SN_SHUT_RDWR 3
/* Half-close: SN_SHUT_WR sends FIN after queued data. Returns 0 or
 * -ENOTCONN, -EINVAL. */
SN_API int sn_shutdown(struct sn_sock *so, int how);

/* Closes the socket: queued data is still sent, then FIN (graceful); the
 * handle is released and must not be used again. Unread received data
 * makes it an abort (RST), as RFC 1122 4.2.2.13 allows. Returns 0. */
SN_API int sn_close(struct sn_sock *so);

/* Sends RST and releases the handle at once. Returns 0. */
SN_API int sn_abort(struct sn_sock *so);

enum sn_sockopt {
    SN_SO_NODELAY = 1,    /* disable Nagle (RFC 896) */
    SN_SO_KEEPALIVE = 2,  /* RFC 1122 4.2.3.6 keepalive probes */
    SN_SO_SNDBUF = 3,     /* bytes */
    SN_SO_RCVBUF = 4,     /* bytes (before the handshake) */
    SN_SO_QUICKACK = 5,   /* ACK every segment at once */
};
/* Returns 0 or -EINVAL. */
SN_API int sn_setsockopt(struct sn_sock *so, enum sn_sockopt opt, int value);

SN_API void sn_sock_set_cb(struct sn_sock *so, sn_sock_cb cb, void *user);
SN_API void *sn_sock_user(const struct sn_sock *so);

/* Current readiness (the same bits as the callback). */
SN_API uint32_t sn_sock_events(const struct sn_sock *so);

/* The error that ended the connection (negative errno) or 0. */
SN_API int sn_sock_error(const struct sn_sock *so);

/* Fills @info (see synack/info.h). Returns 0. */
SN_API int sn_sock_info(const struct sn_sock *so, struct sn_tcp_info *info);

/* Calls @fn for every connection and listener (for `synack ss`). */
SN_API void sn_stack_foreach_sock(struct sn_stack *s, void (*fn)(const struct sn_tcp_info *, void *),
                                  void *arg);

#endif
