/* tools/pktscript_sys.c: the socket calls of a packetdrill script mapped onto
 * synack's API (include/synack/synack.h), and the Linux constants scripts
 * name (SOCK_STREAM, O_NONBLOCK, EAGAIN, ...).
 *
 *   socket/bind/listen -> sn_listen on the bound port (8080 by default, as
 *                         packetdrill binds)
 *   connect            -> sn_connect to 192.0.2.1:8080 (or the sockaddr given)
 *   accept             -> sn_accept        write/send  -> sn_send (zeros)
 *   read/recv          -> sn_recv          shutdown    -> sn_shutdown
 *   close              -> sn_close (sn_abort with SO_LINGER {onoff=1, linger=0})
 *   setsockopt         -> TCP_NODELAY, TCP_QUICKACK, SO_KEEPALIVE (SO_REUSEADDR
 *                         and SO_REUSEPORT are accepted and ignored)
 *   getsockopt         -> SO_ERROR, TCP_NODELAY
 *   fcntl              -> F_GETFL, F_SETFL (O_NONBLOCK)
 *
 * Calls on a blocking fd that would block (accept before the handshake,
 * read before data, connect until established) wait, as packetdrill's
 * blocking calls do, and complete when the stack is ready. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tools/pktscript.h"

#define DEFAULT_PORT 8080 /* packetdrill's --bind_port and --connect_port */
#define IO_CHUNK 65536

static const struct {
    const char *name;
    int64_t value;
} symbols[] = {
#define S(x) {#x, x}
    S(AF_INET), S(AF_INET6), S(AF_UNSPEC), S(PF_INET), S(PF_INET6),
    S(SOCK_STREAM), S(SOCK_DGRAM), S(SOCK_RAW), S(SOCK_NONBLOCK), S(SOCK_CLOEXEC),
    S(IPPROTO_IP), S(IPPROTO_TCP), S(IPPROTO_UDP), S(IPPROTO_IPV6), S(IPPROTO_ICMP),
    S(SOL_SOCKET), S(SOL_TCP), S(SO_REUSEADDR), S(SO_REUSEPORT), S(SO_KEEPALIVE),
    S(SO_LINGER), S(SO_ERROR), S(SO_RCVBUF), S(SO_SNDBUF), S(SO_RCVLOWAT), S(SO_SNDLOWAT),
    S(SO_ZEROCOPY), S(SO_TIMESTAMPING), S(SO_MAX_PACING_RATE),
    S(TCP_NODELAY), S(TCP_MAXSEG), S(TCP_CORK), S(TCP_KEEPIDLE), S(TCP_KEEPINTVL),
    S(TCP_KEEPCNT), S(TCP_SYNCNT), S(TCP_LINGER2), S(TCP_DEFER_ACCEPT), S(TCP_WINDOW_CLAMP),
    S(TCP_INFO), S(TCP_QUICKACK), S(TCP_CONGESTION), S(TCP_USER_TIMEOUT), S(TCP_FASTOPEN),
    S(TCP_NOTSENT_LOWAT), S(TCP_INQ),
    S(SHUT_RD), S(SHUT_WR), S(SHUT_RDWR),
    S(MSG_PEEK), S(MSG_DONTWAIT), S(MSG_WAITALL), S(MSG_MORE), S(MSG_ZEROCOPY), S(MSG_OOB),
    S(MSG_TRUNC), S(MSG_ERRQUEUE), S(MSG_FASTOPEN),
    S(F_GETFL), S(F_SETFL), S(F_GETFD), S(F_SETFD), S(O_RDONLY), S(O_WRONLY), S(O_RDWR),
    S(O_NONBLOCK),
#undef S
};

#define ERRNOS(X)                                                                                  \
    X(EPERM) X(ENOENT) X(EINTR) X(EIO) X(EBADF) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) \
    X(EEXIST) X(EINVAL) X(EMFILE) X(ENOSPC) X(EPIPE) X(ENOSYS) X(ENOTSOCK) X(EDESTADDRREQ)      \
    X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT)   \
    X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ECONNABORTED) X(ECONNRESET)   \
    X(ENOBUFS) X(EISCONN) X(ENOTCONN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTUNREACH) X(EALREADY) \
    X(EINPROGRESS)

int ps_symbol(const char *name, int64_t *v)
{
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
        if (strcmp(symbols[i].name, name) == 0) {
            *v = symbols[i].value;
            return 0;
        }
#define ERR_SYM(e)                                                                                 \
    if (strcmp(name, #e) == 0) {                                                                   \
        *v = e;                                                                                    \
        return 0;                                                                                  \
    }
    ERRNOS(ERR_SYM)
#undef ERR_SYM
    if (strcmp(name, "EWOULDBLOCK") == 0) {
        *v = EAGAIN;
        return 0;
    }
    return -1;
}

const char *ps_errno_name(int err)
{
#define ERR_NAME(e)                                                                                \
    if (err == e)                                                                                  \
        return #e;
    ERRNOS(ERR_NAME)
#undef ERR_NAME
    return NULL;
}

/* The integer an argument stands for: 7, SOL_SOCKET, O_RDWR|O_NONBLOCK,
 * [1], htons(8080). Returns 0 or -1. */
static int eval_int(const struct ps_expr *e, int64_t *v)
{
    int64_t a, b;
    switch (e->type) {
    case PX_INT:
        *v = e->num;
        return 0;
    case PX_WORD:
        return ps_symbol(e->str, v);
    case PX_OR:
        if (eval_int(e->lhs, &a) < 0 || eval_int(e->rhs, &b) < 0)
            return -1;
        *v = a | b;
        return 0;
    case PX_LIST:
        return e->n_items == 1 ? eval_int(e->items[0], v) : -1;
    case PX_CALL:
        return strcmp(e->str, "htons") == 0 && e->n_items == 1 ? eval_int(e->items[0], v) : -1;
    default:
        return -1;
    }
}

static const struct ps_expr *arg(const struct ps_syscall *sc, int i)
{
    return i < sc->n_args ? sc->args[i] : NULL;
}

static bool arg_int(const struct ps_syscall *sc, int i, int64_t *v)
{
    const struct ps_expr *e = arg(sc, i);
    return e && eval_int(e, v) == 0;
}

/* A field of a brace expression: {sin_port=htons(8080), ...}. */
static const struct ps_expr *brace_field(const struct ps_expr *e, const char *name)
{
    if (!e || e->type != PX_BRACE)
        return NULL;
    for (int i = 0; i < e->n_items; i++)
        if (e->items[i]->type == PX_ASSIGN && strcmp(e->items[i]->str, name) == 0)
            return e->items[i]->rhs;
    return NULL;
}

static bool is_word(const struct ps_expr *e, const char *w)
{
    return e && e->type == PX_WORD && strcmp(e->str, w) == 0;
}

/* ---- what the runner supports (checked when parsing) ------------------- */

const char *ps_syscall_unsupported(const struct ps_syscall *sc)
{
    static char buf[200];
    const char *n = sc->name;
    int64_t level, opt;
    if (!strcmp(n, "socket")) {
        int64_t type;
        if (arg(sc, 0) && (is_word(arg(sc, 0), "AF_INET6") || is_word(arg(sc, 0), "PF_INET6")))
            return "IPv6 sockets are not supported by synack pktscript";
        if (!arg_int(sc, 1, &type) || (type & 0xf) != SOCK_STREAM)
            return "only SOCK_STREAM sockets are supported by synack pktscript";
        return NULL;
    }
    if (!strcmp(n, "bind") || !strcmp(n, "listen") || !strcmp(n, "accept") ||
        !strcmp(n, "connect") || !strcmp(n, "write") || !strcmp(n, "read") ||
        !strcmp(n, "close") || !strcmp(n, "shutdown"))
        return NULL;
    if (!strcmp(n, "send") || !strcmp(n, "recv")) {
        int64_t flags;
        if (!arg_int(sc, 3, &flags) || flags != 0) {
            snprintf(buf, sizeof(buf), "%s() with flags other than 0 is not supported by synack",
                     n);
            return buf;
        }
        return NULL;
    }
    if (!strcmp(n, "fcntl")) {
        int64_t cmd;
        if (!arg_int(sc, 1, &cmd) || (cmd != F_GETFL && cmd != F_SETFL))
            return "fcntl() other than F_GETFL/F_SETFL is not supported by synack pktscript";
        return NULL;
    }
    if (!strcmp(n, "setsockopt") || !strcmp(n, "getsockopt")) {
        if (!arg_int(sc, 1, &level) || !arg_int(sc, 2, &opt))
            goto unsupported_opt;
        bool set = n[0] == 's';
        if (level == SOL_SOCKET && (opt == SO_KEEPALIVE || (set && opt == SO_REUSEADDR) ||
                                    (set && opt == SO_REUSEPORT) || (!set && opt == SO_ERROR)))
            return NULL;
        if (level == SOL_SOCKET && opt == SO_LINGER && set) {
            const struct ps_expr *l = arg(sc, 3);
            int64_t on, secs;
            const struct ps_expr *eon = brace_field(l, "onoff"), *esecs = brace_field(l, "linger");
            if (eon && esecs && eval_int(eon, &on) == 0 && eval_int(esecs, &secs) == 0 &&
                (on == 0 || secs == 0))
                return NULL;
            return "SO_LINGER with a timeout is not supported by synack (only {onoff=1, linger=0})";
        }
        if ((level == IPPROTO_TCP || level == SOL_TCP) &&
            (opt == TCP_NODELAY || (set && opt == TCP_QUICKACK)))
            return NULL;
    unsupported_opt:
        snprintf(buf, sizeof(buf), "%s() of this option is not supported by synack pktscript", n);
        return buf;
    }
    snprintf(buf, sizeof(buf), "system call %s() is not supported by synack pktscript", n);
    return buf;
}

/* ---- results ------------------------------------------------------------ */

static void fmt_result(int64_t ret, int err, char *buf, size_t len)
{
    if (ret == -1 && err) {
        const char *name = ps_errno_name(err);
        snprintf(buf, len, "-1 %s (%s)", name ? name : "E?", strerror(err));
    } else {
        snprintf(buf, len, "%lld", (long long)ret);
    }
}

/* Compares what the call returned with the script and records a FAIL. */
static void finish(struct ps_run *ru, const struct ps_event *ev, struct ps_pending *pend,
                   int64_t ret, int err)
{
    const struct ps_syscall *sc = &ev->sc;
    char got[128], want[128];
    fmt_result(ret, err, got, sizeof(got));
    if (ru->opt.verbose)
        printf("%9.6f %s() = %s\n", (double)ru->now / 1e6, sc->name, got);
    if (sc->result->type != PX_ELLIPSIS) {
        int64_t w;
        if (eval_int(sc->result, &w) < 0) {
            ps_fail(ru->r, ev->line, "%s(): cannot evaluate the expected result", sc->name);
            return;
        }
        int64_t werr = 0;
        if (sc->errno_name && ps_symbol(sc->errno_name, &werr) < 0) {
            ps_fail(ru->r, ev->line, "%s(): unknown errno %s", sc->name, sc->errno_name);
            return;
        }
        if (sc->errno_name)
            snprintf(want, sizeof(want), "%lld %s", (long long)w, sc->errno_name);
        else
            snprintf(want, sizeof(want), "%lld", (long long)w);
        if (ret != w || (w == -1 && sc->errno_name && werr != err)) {
            ps_fail(ru->r, ev->line, "%s(): expected %s, got %s", sc->name, want, got);
            return;
        }
    }
    if (pend && pend->end >= 0) {
        int64_t d = ru->now - pend->end;
        if (d < -ru->opt.tolerance_us || d > ru->opt.tolerance_us)
            ps_fail(ru->r, ev->line,
                    "%s(): timing error: expected the blocking call to return at %.6f sec but it "
                    "returned at %.6f sec; tolerance %.6f sec",
                    sc->name, (double)pend->end / 1e6, (double)ru->now / 1e6,
                    (double)ru->opt.tolerance_us / 1e6);
    }
}

/* ---- fds ------------------------------------------------------------------ */

static struct ps_fd *get_fd(struct ps_run *ru, const struct ps_event *ev, int64_t *fdnum)
{
    int64_t fd;
    if (!arg_int(&ev->sc, 0, &fd) || fd < 0 || fd >= PS_MAX_FDS || !ru->fds[fd].used)
        return NULL;
    *fdnum = fd;
    return &ru->fds[fd];
}

static void apply_opts(struct ps_fd *f)
{
    if (!f->so)
        return;
    if (f->nodelay)
        sn_setsockopt(f->so, SN_SO_NODELAY, 1);
    if (f->keepalive)
        sn_setsockopt(f->so, SN_SO_KEEPALIVE, 1);
    if (f->quickack)
        sn_setsockopt(f->so, SN_SO_QUICKACK, 1);
}

static uint16_t sockaddr_port(const struct ps_expr *sa, uint16_t def)
{
    int64_t v;
    const struct ps_expr *p = brace_field(sa, "sin_port");
    return p && eval_int(p, &v) == 0 && v > 0 && v < 65536 ? (uint16_t)v : def;
}

static uint32_t sockaddr_addr(const struct ps_expr *sa, uint32_t def)
{
    const struct ps_expr *a = brace_field(sa, "sin_addr");
    if (!a || a->type != PX_CALL || strcmp(a->str, "inet_addr") != 0 || a->n_items != 1 ||
        a->items[0]->type != PX_STRING)
        return def;
    unsigned b[4];
    char tail;
    if (sscanf(a->items[0]->str, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 ||
        b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
        return def;
    return b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

/* ---- the calls ------------------------------------------------------------ */

static enum ps_call do_socket(struct ps_run *ru, const struct ps_event *ev)
{
    int64_t fd, type = 0;
    arg_int(&ev->sc, 1, &type);
    if (eval_int(ev->sc.result, &fd) < 0 || fd < 0 || fd >= PS_MAX_FDS || ru->fds[fd].used) {
        ps_fail(ru->r, ev->line, "socket(): the expected result must be a free fd below %d",
                PS_MAX_FDS);
        return PS_CALL_DONE;
    }
    memset(&ru->fds[fd], 0, sizeof(ru->fds[fd]));
    ru->fds[fd].used = true;
    ru->fds[fd].kind = PS_FD_SOCKET;
    ru->fds[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    finish(ru, ev, NULL, fd, 0);
    return PS_CALL_DONE;
}

static enum ps_call do_bind(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    f->port = sockaddr_port(arg(&ev->sc, 1), DEFAULT_PORT);
    ru->lport = f->port;
    ru->lport_known = true;
    finish(ru, ev, NULL, 0, 0);
    return PS_CALL_DONE;
}

static enum ps_call do_listen(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    int64_t backlog = 1;
    arg_int(&ev->sc, 1, &backlog);
    uint16_t port = f->port ? f->port : DEFAULT_PORT;
    int err = sn_listen(ru->st, port, backlog < 1 ? 1 : (int)backlog, &f->so);
    if (err < 0) {
        finish(ru, ev, NULL, -1, -err);
        return PS_CALL_DONE;
    }
    f->kind = PS_FD_LISTEN;
    apply_opts(f);
    ru->lport = port;
    ru->lport_known = true;
    finish(ru, ev, NULL, 0, 0);
    return PS_CALL_DONE;
}

static enum ps_call do_accept(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f,
                              struct ps_pending *pend)
{
    if (f->kind != PS_FD_LISTEN) {
        finish(ru, ev, pend, -1, EINVAL);
        return PS_CALL_DONE;
    }
    struct sn_sock *so;
    int err = sn_accept(f->so, &so);
    if (err == -EAGAIN && !f->nonblock)
        return PS_CALL_BLOCKED;
    if (err < 0) {
        finish(ru, ev, pend, -1, -err);
        return PS_CALL_DONE;
    }
    int64_t fd;
    if (eval_int(ev->sc.result, &fd) < 0 || fd < 0 || fd >= PS_MAX_FDS || ru->fds[fd].used) {
        ps_fail(ru->r, ev->line, "accept(): the expected result must be a free fd below %d",
                PS_MAX_FDS);
        return PS_CALL_DONE;
    }
    struct ps_fd *n = &ru->fds[fd];
    memset(n, 0, sizeof(*n));
    n->used = true;
    n->kind = PS_FD_CONN;
    n->so = so;
    ru->cur_fd = (int)fd;
    struct sn_tcp_info info;
    sn_sock_info(so, &info);
    ru->rport = info.remote_port;
    ru->lport = info.local_port;
    ru->lport_known = true;
    finish(ru, ev, pend, fd, 0);
    return PS_CALL_DONE;
}

/* Where a connect stands: 1 done, 0 in progress, < 0 failed. */
static int connect_state(struct sn_sock *so)
{
    struct sn_tcp_info info;
    if (sn_sock_error(so))
        return sn_sock_error(so);
    sn_sock_info(so, &info);
    const char *st = sn_tcp_state_name(info.state);
    return strcmp(st, "SYN-SENT") == 0 || strcmp(st, "SYN-RECEIVED") == 0 ? 0 : 1;
}

static enum ps_call do_connect(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f,
                               struct ps_pending *pend)
{
    if (pend->attempts == 0 && !f->so) {
        const struct ps_expr *sa = arg(&ev->sc, 1);
        ru->raddr = sockaddr_addr(sa, ru->raddr);
        ru->rport = sockaddr_port(sa, DEFAULT_PORT);
        ru->lport_known = f->port != 0;
        ru->lport = f->port;
        ru->isn_known = false;
        int err = sn_connect(ru->st, ru->raddr, ru->rport, f->port, ru->now, &f->so);
        if (err < 0) {
            finish(ru, ev, pend, -1, -err);
            return PS_CALL_DONE;
        }
        f->kind = PS_FD_CONN;
        f->connecting = true;
        ru->cur_fd = (int)(f - ru->fds);
        apply_opts(f);
        if (f->nonblock) {
            finish(ru, ev, pend, -1, EINPROGRESS);
            return PS_CALL_DONE;
        }
    } else if (pend->attempts == 0 && f->nonblock) {
        /* A second connect() on a non-blocking socket reports progress. */
        int st = connect_state(f->so);
        if (st == 0) {
            finish(ru, ev, pend, -1, EALREADY);
        } else if (st < 0) {
            finish(ru, ev, pend, -1, -st);
        } else {
            finish(ru, ev, pend, f->connecting ? 0 : -1, f->connecting ? 0 : EISCONN);
            f->connecting = false;
        }
        return PS_CALL_DONE;
    }
    int st = connect_state(f->so);
    if (st == 0)
        return PS_CALL_BLOCKED;
    f->connecting = false;
    finish(ru, ev, pend, st < 0 ? -1 : 0, st < 0 ? -st : 0);
    return PS_CALL_DONE;
}

static enum ps_call do_write(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f,
                             struct ps_pending *pend)
{
    static const uint8_t zeros[IO_CHUNK];
    int64_t len;
    if (!arg_int(&ev->sc, 2, &len) || len < 0) {
        ps_fail(ru->r, ev->line, "%s(): the length must be a number", ev->sc.name);
        return PS_CALL_DONE;
    }
    if (f->kind != PS_FD_CONN) {
        finish(ru, ev, pend, -1, f->kind == PS_FD_LISTEN ? ENOTCONN : EPIPE);
        return PS_CALL_DONE;
    }
    int64_t done = pend->done;
    ssize_t n = 0;
    while (done < len) {
        size_t chunk = (size_t)(len - done < IO_CHUNK ? len - done : IO_CHUNK);
        n = sn_send(f->so, zeros, chunk);
        if (n <= 0)
            break;
        done += n;
    }
    pend->done = done;
    if (done == len || (done > 0 && f->nonblock)) {
        finish(ru, ev, pend, done, 0);
        return PS_CALL_DONE;
    }
    if (n == -EAGAIN && !f->nonblock)
        return PS_CALL_BLOCKED;
    if (done > 0)
        finish(ru, ev, pend, done, 0);
    else
        finish(ru, ev, pend, -1, n == -EAGAIN ? EAGAIN : (int)-n);
    return PS_CALL_DONE;
}

static enum ps_call do_read(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f,
                            struct ps_pending *pend)
{
    static uint8_t buf[IO_CHUNK];
    int64_t len;
    if (!arg_int(&ev->sc, 2, &len) || len < 0) {
        ps_fail(ru->r, ev->line, "%s(): the length must be a number", ev->sc.name);
        return PS_CALL_DONE;
    }
    if (f->kind != PS_FD_CONN) {
        finish(ru, ev, pend, -1, ENOTCONN);
        return PS_CALL_DONE;
    }
    int64_t done = 0;
    ssize_t n = 0;
    while (done < len) {
        size_t chunk = (size_t)(len - done < IO_CHUNK ? len - done : IO_CHUNK);
        n = sn_recv(f->so, buf, chunk);
        if (n <= 0)
            break;
        done += n;
    }
    if (done > 0 || len == 0 || n == 0) {
        finish(ru, ev, pend, done, 0);
        return PS_CALL_DONE;
    }
    if (n == -EAGAIN && !f->nonblock)
        return PS_CALL_BLOCKED;
    finish(ru, ev, pend, -1, (int)-n);
    return PS_CALL_DONE;
}

static enum ps_call do_close(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    if (f->so) {
        if (f->linger0 && f->kind == PS_FD_CONN)
            sn_abort(f->so);
        else
            sn_close(f->so);
    }
    if (ru->cur_fd == (int)(f - ru->fds))
        ru->cur_fd = -1;
    memset(f, 0, sizeof(*f));
    finish(ru, ev, NULL, 0, 0);
    return PS_CALL_DONE;
}

static enum ps_call do_shutdown(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    int64_t how;
    if (!arg_int(&ev->sc, 1, &how) || how < SHUT_RD || how > SHUT_RDWR) {
        finish(ru, ev, NULL, -1, EINVAL);
        return PS_CALL_DONE;
    }
    if (f->kind != PS_FD_CONN) {
        finish(ru, ev, NULL, -1, ENOTCONN);
        return PS_CALL_DONE;
    }
    /* SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2; synack's are bit masks. */
    int err = sn_shutdown(f->so, how == SHUT_RD   ? SN_SHUT_RD
                                 : how == SHUT_WR ? SN_SHUT_WR
                                                  : SN_SHUT_RDWR);
    finish(ru, ev, NULL, err < 0 ? -1 : 0, err < 0 ? -err : 0);
    return PS_CALL_DONE;
}

static enum ps_call do_sockopt(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    const struct ps_syscall *sc = &ev->sc;
    bool set = sc->name[0] == 's';
    int64_t level = 0, opt = 0, val = 0;
    arg_int(sc, 1, &level);
    arg_int(sc, 2, &opt);
    if (set && opt == SO_LINGER && level == SOL_SOCKET) {
        int64_t on = 0, secs = 0;
        eval_int(brace_field(arg(sc, 3), "onoff"), &on);
        eval_int(brace_field(arg(sc, 3), "linger"), &secs);
        f->linger0 = on && secs == 0;
        finish(ru, ev, NULL, 0, 0);
        return PS_CALL_DONE;
    }
    if (!set) {
        if (level == SOL_SOCKET && opt == SO_ERROR)
            val = f->so ? -sn_sock_error(f->so) : 0;
        else if (opt == SO_KEEPALIVE)
            val = f->keepalive;
        else
            val = f->nodelay;
        int64_t want;
        if (arg(sc, 3) && arg(sc, 3)->type != PX_ELLIPSIS && eval_int(arg(sc, 3), &want) == 0 &&
            want != val) {
            ps_fail(ru->r, ev->line, "getsockopt(): expected the value %lld, got %lld",
                    (long long)want, (long long)val);
            return PS_CALL_DONE;
        }
        finish(ru, ev, NULL, 0, 0);
        return PS_CALL_DONE;
    }
    if (!arg_int(sc, 3, &val)) {
        ps_fail(ru->r, ev->line, "setsockopt(): cannot evaluate the option value");
        return PS_CALL_DONE;
    }
    if (level == SOL_SOCKET && opt == SO_KEEPALIVE)
        f->keepalive = val != 0;
    else if (opt == TCP_NODELAY && level != SOL_SOCKET)
        f->nodelay = val != 0;
    else if (opt == TCP_QUICKACK && level != SOL_SOCKET)
        f->quickack = val != 0;
    /* SO_REUSEADDR, SO_REUSEPORT: nothing to do on a fresh stack. */
    if (f->so) {
        if (level == SOL_SOCKET && opt == SO_KEEPALIVE)
            sn_setsockopt(f->so, SN_SO_KEEPALIVE, (int)val);
        else if (opt == TCP_NODELAY && level != SOL_SOCKET)
            sn_setsockopt(f->so, SN_SO_NODELAY, (int)val);
        else if (opt == TCP_QUICKACK && level != SOL_SOCKET)
            sn_setsockopt(f->so, SN_SO_QUICKACK, (int)val);
    }
    finish(ru, ev, NULL, 0, 0);
    return PS_CALL_DONE;
}

static enum ps_call do_fcntl(struct ps_run *ru, const struct ps_event *ev, struct ps_fd *f)
{
    int64_t cmd = -1, flags = 0;
    arg_int(&ev->sc, 1, &cmd);
    if (cmd == F_GETFL) {
        finish(ru, ev, NULL, O_RDWR | (f->nonblock ? O_NONBLOCK : 0), 0);
        return PS_CALL_DONE;
    }
    if (!arg_int(&ev->sc, 2, &flags)) {
        ps_fail(ru->r, ev->line, "fcntl(): cannot evaluate the flags");
        return PS_CALL_DONE;
    }
    f->nonblock = (flags & O_NONBLOCK) != 0;
    finish(ru, ev, NULL, 0, 0);
    return PS_CALL_DONE;
}

enum ps_call ps_syscall_exec(struct ps_run *ru, const struct ps_event *ev, struct ps_pending *pend)
{
    const char *n = ev->sc.name;
    if (!strcmp(n, "socket"))
        return do_socket(ru, ev);
    int64_t fdnum;
    struct ps_fd *f = get_fd(ru, ev, &fdnum);
    if (!f) {
        finish(ru, ev, pend, -1, EBADF);
        return PS_CALL_DONE;
    }
    if (!strcmp(n, "bind"))
        return do_bind(ru, ev, f);
    if (!strcmp(n, "listen"))
        return do_listen(ru, ev, f);
    if (!strcmp(n, "accept"))
        return do_accept(ru, ev, f, pend);
    if (!strcmp(n, "connect"))
        return do_connect(ru, ev, f, pend);
    if (!strcmp(n, "write") || !strcmp(n, "send"))
        return do_write(ru, ev, f, pend);
    if (!strcmp(n, "read") || !strcmp(n, "recv"))
        return do_read(ru, ev, f, pend);
    if (!strcmp(n, "close"))
        return do_close(ru, ev, f);
    if (!strcmp(n, "shutdown"))
        return do_shutdown(ru, ev, f);
    if (!strcmp(n, "setsockopt") || !strcmp(n, "getsockopt"))
        return do_sockopt(ru, ev, f);
    if (!strcmp(n, "fcntl"))
        return do_fcntl(ru, ev, f);
    ps_skip(ru->r, ev->line, "system call %s() is not supported by synack pktscript", n);
    return PS_CALL_DONE;
}
