/* api/sock.c: the public socket API over tcp/tcp_usr.c. A struct sn_sock is
 * a TCB seen from outside; the cast lives only here. */
#include <errno.h>

#include "api/stack_impl.h"
#include "tcp/tcp.h"

static struct tcb *tcb_of(struct sn_sock *so) { return (struct tcb *)so; }
static const struct tcb *ctcb_of(const struct sn_sock *so) { return (const struct tcb *)so; }

int sn_listen(struct sn_stack *s, uint16_t port, int backlog, struct sn_sock **out)
{
    if (backlog <= 0)
        return -EINVAL;
    return tcp_usr_listen(&s->tcp, port, (uint32_t)backlog, (struct tcb **)out);
}

int sn_accept(struct sn_sock *listener, struct sn_sock **out)
{
    return tcp_usr_accept(tcb_of(listener), (struct tcb **)out);
}

int sn_connect(struct sn_stack *s, uint32_t addr, uint16_t port, uint16_t local_port,
               sn_time_us now, struct sn_sock **out)
{
    s->tcp.now = now;
    return tcp_usr_connect(&s->tcp, addr, port, local_port, now, (struct tcb **)out);
}

ssize_t sn_send(struct sn_sock *so, const void *buf, size_t len)
{
    return tcp_usr_send(tcb_of(so), buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
}

ssize_t sn_recv(struct sn_sock *so, void *buf, size_t len)
{
    return tcp_usr_recv(tcb_of(so), buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
}

int sn_shutdown(struct sn_sock *so, int how)
{
    if (how < SN_SHUT_RD || how > SN_SHUT_RDWR)
        return -EINVAL;
    return tcp_usr_shutdown(tcb_of(so), how);
}

int sn_close(struct sn_sock *so)
{
    tcp_usr_close(tcb_of(so));
    return 0;
}

int sn_abort(struct sn_sock *so)
{
    tcp_usr_abort(tcb_of(so));
    return 0;
}

int sn_setsockopt(struct sn_sock *so, enum sn_sockopt opt, int value)
{
    struct tcb *c = tcb_of(so);
    switch (opt) {
    case SN_SO_NODELAY:
        c->nodelay = value != 0;
        if (c->nodelay)
            tcp_output(c, c->tcp->now);
        return 0;
    case SN_SO_KEEPALIVE:
        c->keepalive = value != 0;
        if (c->keepalive)
            tcp_keepalive_reset(c, c->tcp->now);
        return 0;
    case SN_SO_QUICKACK:
        c->quickack = value != 0;
        return 0;
    case SN_SO_SNDBUF:
        if (value < 4096 || (uint32_t)value < c->sndbuf.len)
            return -EINVAL;
        c->sndbuf.max = (uint32_t)value;
        return 0;
    case SN_SO_RCVBUF:
        if (value < 4096 || c->state > TCPS_LISTEN)
            return -EINVAL; /* the window scale is fixed by the handshake */
        c->rcvbuf.max = (uint32_t)value;
        return 0;
    }
    return -EINVAL;
}

void sn_sock_set_cb(struct sn_sock *so, sn_sock_cb cb, void *user)
{
    struct tcb *c = tcb_of(so);
    c->cb = cb;
    c->user = user;
    uint32_t ev = tcp_usr_events(c);
    if (ev)
        tcb_raise(c, ev); /* level-triggered: tell the new owner what holds */
}

void *sn_sock_user(const struct sn_sock *so) { return ctcb_of(so)->user; }
uint32_t sn_sock_events(const struct sn_sock *so) { return tcp_usr_events(ctcb_of(so)); }
int sn_sock_error(const struct sn_sock *so) { return ctcb_of(so)->err; }

int sn_sock_info(const struct sn_sock *so, struct sn_tcp_info *info)
{
    tcp_fill_info(ctcb_of(so), info);
    return 0;
}

void sn_stack_foreach_sock(struct sn_stack *s, void (*fn)(const struct sn_tcp_info *, void *),
                           void *arg)
{
    struct sn_tcp_info info;
    for (struct tcb *c = s->tcp.all; c; c = c->all_next) {
        tcp_fill_info(c, &info);
        fn(&info, arg);
    }
}
