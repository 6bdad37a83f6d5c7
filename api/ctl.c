/* api/ctl.c: the control socket (see ctl.h): a Unix stream socket served
 * from the event loop, the texts it answers with (also public, for an
 * application's own use: sn_stack_print_socks, sn_stack_print_prometheus),
 * and the client that `synack ss` and `synack netstat` use. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/ctl.h"
#include "api/stack_impl.h"

/* ---- the texts ---------------------------------------------------------- */

void sn_stack_print_prometheus(const struct sn_stack *s, FILE *out)
{
    sn_stats_print_prometheus(&s->st, out);
}

struct info_list {
    struct sn_tcp_info *v;
    size_t n, cap;
    int failed;
};

static void collect(const struct sn_tcp_info *i, void *arg)
{
    struct info_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct sn_tcp_info *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->failed = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *i;
}

/* Listeners first, then by local port, peer address, peer port. */
static int info_cmp(const void *a, const void *b)
{
    const struct sn_tcp_info *x = a, *y = b;
    int xl = x->state == TCPS_LISTEN, yl = y->state == TCPS_LISTEN;
    if (xl != yl)
        return yl - xl;
    if (x->local_port != y->local_port)
        return x->local_port < y->local_port ? -1 : 1;
    if (x->remote_addr != y->remote_addr)
        return x->remote_addr < y->remote_addr ? -1 : 1;
    if (x->remote_port != y->remote_port)
        return x->remote_port < y->remote_port ? -1 : 1;
    return 0;
}

static const char *fmt_ep(uint32_t addr, uint16_t port, char *buf, size_t len)
{
    struct in_addr a = {.s_addr = htonl(addr)};
    char ip[INET_ADDRSTRLEN];
    if (!addr)
        snprintf(ip, sizeof(ip), "*");
    else
        inet_ntop(AF_INET, &a, ip, sizeof(ip));
    if (port)
        snprintf(buf, len, "%s:%u", ip, port);
    else
        snprintf(buf, len, "%s:*", ip);
    return buf;
}

/* Microseconds as ss prints times: milliseconds with up to three decimals. */
static const char *fmt_ms(uint32_t us, char *buf, size_t len)
{
    if (us % 1000 == 0)
        snprintf(buf, len, "%u", us / 1000);
    else
        snprintf(buf, len, "%u.%03u", us / 1000, us % 1000);
    return buf;
}

static void print_sock(const struct sn_tcp_info *i, FILE *out)
{
    char l[32], r[32];
    fprintf(out, "%-13s %-7u %-7u %-21s %s\n", sn_tcp_state_name(i->state), i->rcvbuf_used,
            i->sndbuf_used, fmt_ep(i->local_addr, i->local_port, l, sizeof(l)),
            fmt_ep(i->remote_addr, i->remote_port, r, sizeof(r)));
    if (i->state == TCPS_LISTEN || i->state == TCPS_CLOSED)
        return;
    char srtt[16], var[16], rto[16], ssthresh[16];
    if (i->ssthresh >= 0x7fffffff)
        snprintf(ssthresh, sizeof(ssthresh), "inf");
    else
        snprintf(ssthresh, sizeof(ssthresh), "%u", i->ssthresh);
    fprintf(out, "\t");
    if (i->ts_ok)
        fprintf(out, " ts");
    if (i->sack_ok)
        fprintf(out, " sack");
    if (i->snd_wscale || i->rcv_wscale)
        fprintf(out, " wscale:%u,%u", i->snd_wscale, i->rcv_wscale);
    fprintf(out, " rto:%s", fmt_ms(i->rto_us, rto, sizeof(rto)));
    if (i->srtt_us)
        fprintf(out, " rtt:%s/%s", fmt_ms(i->srtt_us, srtt, sizeof(srtt)),
                fmt_ms(i->rttvar_us, var, sizeof(var)));
    fprintf(out,
            " mss:%u rcvmss:%u cwnd:%u ssthresh:%s bytes_sent:%llu bytes_acked:%llu "
            "bytes_received:%llu segs_out:%llu segs_in:%llu unacked:%u retrans:%u/%u "
            "snd_wnd:%u rcv_wnd:%u\n",
            i->snd_mss, i->rcv_mss, i->cwnd, ssthresh, (unsigned long long)i->bytes_sent,
            (unsigned long long)i->bytes_acked, (unsigned long long)i->bytes_received,
            (unsigned long long)i->segs_out, (unsigned long long)i->segs_in, i->unacked,
            i->retransmits, i->total_retrans, i->snd_wnd, i->rcv_wnd);
}

void sn_stack_print_socks(struct sn_stack *s, FILE *out, int which)
{
    struct info_list l = {0};
    sn_stack_foreach_sock(s, collect, &l);
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), info_cmp);
    fprintf(out, "%-13s %-7s %-7s %-21s %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
            "Peer Address:Port");
    for (size_t k = 0; k < l.n; k++) {
        int listening = l.v[k].state == TCPS_LISTEN;
        if ((listening && (which & SN_SOCKS_LISTEN)) || (!listening && (which & SN_SOCKS_CONNS)))
            print_sock(&l.v[k], out);
    }
    if (l.failed)
        fprintf(out, "(out of memory: some connections are missing)\n");
    free(l.v);
}

/* Splits @req into at most 3 words in @w; returns how many. */
static int split(char *req, char *w[3])
{
    int n = 0;
    for (char *p = strtok(req, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == 3)
            return 4;
        w[n++] = p;
    }
    return n;
}

int sn_ctl_answer(struct sn_stack *s, const char *req, FILE *out)
{
    char buf[SN_CTL_MAX_REQUEST + 1];
    snprintf(buf, sizeof(buf), "%s", req);
    char *w[3] = {0};
    int n = split(buf, w);
    if (n >= 1 && n <= 2 && strcmp(w[0], "ss") == 0) {
        int which = SN_SOCKS_CONNS;
        if (n == 2 && strcmp(w[1], "-a") == 0)
            which = SN_SOCKS_CONNS | SN_SOCKS_LISTEN;
        else if (n == 2 && strcmp(w[1], "-l") == 0)
            which = SN_SOCKS_LISTEN;
        else if (n == 2)
            goto bad;
        sn_stack_print_socks(s, out, which);
        return 0;
    }
    if (n >= 1 && n <= 2 && strcmp(w[0], "netstat") == 0) {
        if (n == 2 && strcmp(w[1], "-a") != 0)
            goto bad;
        sn_stats_print(&s->st, out, n == 2);
        return 0;
    }
    if (n == 1 && strcmp(w[0], "prometheus") == 0) {
        sn_stack_print_prometheus(s, out);
        return 0;
    }
    if (n == 1 && strcmp(w[0], "help") == 0) {
        fprintf(out, "requests: ss [-l|-a], netstat [-a], prometheus, help\n");
        return 0;
    }
bad:
    fprintf(out,
            "error: unknown request '%.64s' (known: ss [-l|-a], netstat [-a], prometheus, "
            "help)\n",
            req);
    return -EINVAL;
}

/* ---- the server --------------------------------------------------------- */

struct ctl_client {
    int fd; /* -1: free */
    char in[SN_CTL_MAX_REQUEST];
    size_t in_len;
    char *out; /* the answer, once the request is complete */
    size_t out_len, out_off;
};

struct sn_ctl {
    struct sn_loop *lp;
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct ctl_client cl[SN_CTL_MAX_CLIENTS];
};

static void client_close(struct sn_ctl *ctl, struct ctl_client *c)
{
    sn_loop_del_fd(ctl->lp, c->fd);
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* The request is complete (a newline, EOF, or a full buffer): compute the
 * whole answer now, while the stack cannot change under it. */
static void client_answer(struct sn_ctl *ctl, struct ctl_client *c)
{
    char req[SN_CTL_MAX_REQUEST + 1];
    size_t n = strcspn(c->in, "\n");
    if (n > c->in_len)
        n = c->in_len;
    memcpy(req, c->in, n);
    req[n] = 0;
    FILE *f = open_memstream(&c->out, &c->out_len);
    if (!f) {
        client_close(ctl, c);
        return;
    }
    if (n == c->in_len && n == sizeof(c->in))
        fprintf(f, "error: request longer than %d bytes\n", SN_CTL_MAX_REQUEST);
    else
        sn_ctl_answer(sn_loop_stack(ctl->lp), req, f);
    if (fclose(f) != 0) {
        client_close(ctl, c);
        return;
    }
    c->out_off = 0;
    if (sn_loop_mod_fd(ctl->lp, c->fd, EPOLLOUT) < 0)
        client_close(ctl, c);
}

static void on_client(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    (void)lp;
    struct sn_ctl *ctl = user;
    struct ctl_client *c = NULL;
    for (int i = 0; i < SN_CTL_MAX_CLIENTS; i++)
        if (ctl->cl[i].fd == fd)
            c = &ctl->cl[i];
    if (!c)
        return;
    if (!c->out) {
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
        ssize_t n = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0 || (n == 0 && c->in_len == 0)) {
            client_close(ctl, c);
            return;
        }
        c->in_len += (size_t)n;
        if (n == 0 || memchr(c->in, '\n', c->in_len) || c->in_len == sizeof(c->in))
            client_answer(ctl, c);
        return;
    }
    if (events & EPOLLERR) {
        client_close(ctl, c);
        return;
    }
    while (c->out_off < c->out_len) {
        ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    client_close(ctl, c);
}

static void on_listen(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    (void)events;
    struct sn_ctl *ctl = user;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return; /* EAGAIN: all taken; anything else: try again next time */
        struct ctl_client *c = NULL;
        for (int i = 0; i < SN_CTL_MAX_CLIENTS && !c; i++)
            if (ctl->cl[i].fd < 0)
                c = &ctl->cl[i];
        if (!c || sn_loop_add_fd(lp, cfd, EPOLLIN, on_client, ctl) < 0) {
            static const char busy[] = "error: busy (too many control clients)\n";
            ssize_t ignored = send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            close(cfd);
            continue;
        }
        c->fd = cfd;
    }
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (!path[0] || strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, strlen(path));
    return 0;
}

/* Whether something listens at @sa. */
static int socket_alive(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 1; /* cannot tell: do not remove it */
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int err = errno;
    close(fd);
    return rc == 0 || err != ECONNREFUSED;
}

int sn_ctl_open(struct sn_loop *lp, const char *path, struct sn_ctl **out)
{
    struct sockaddr_un sa;
    int err = fill_addr(&sa, path);
    if (err)
        return err;
    struct sn_ctl *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    ctl->lp = lp;
    memcpy(ctl->path, path, strlen(path) + 1);
    for (int i = 0; i < SN_CTL_MAX_CLIENTS; i++)
        ctl->cl[i].fd = -1;
    ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ctl->fd < 0) {
        err = -errno;
        free(ctl);
        return err;
    }
    int rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc < 0 && errno == EADDRINUSE) {
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && !socket_alive(&sa)) {
            unlink(path); /* left by a stack that is gone */
            rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
        } else {
            errno = EADDRINUSE;
        }
    }
    if (rc < 0 || listen(ctl->fd, 16) < 0) {
        err = -errno;
        close(ctl->fd);
        free(ctl);
        return err;
    }
    err = sn_loop_add_fd(lp, ctl->fd, EPOLLIN, on_listen, ctl);
    if (err) {
        close(ctl->fd);
        unlink(path);
        free(ctl);
        return err;
    }
    *out = ctl;
    return 0;
}

void sn_ctl_close(struct sn_ctl *ctl)
{
    if (!ctl)
        return;
    for (int i = 0; i < SN_CTL_MAX_CLIENTS; i++)
        if (ctl->cl[i].fd >= 0)
            client_close(ctl, &ctl->cl[i]);
    sn_loop_del_fd(ctl->lp, ctl->fd);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl);
}

const char *sn_ctl_path(const struct sn_ctl *ctl) { return ctl->path; }

int sn_ctl_default_path(const char *dev, char *buf, size_t len)
{
    static const char dir[] = "/run/synack";
    int n;
    if ((mkdir(dir, 0755) == 0 || errno == EEXIST) && access(dir, W_OK | X_OK) == 0)
        n = snprintf(buf, len, "%s/%s.sock", dir, dev);
    else
        n = snprintf(buf, len, "/tmp/synack-%ld.sock", (long)getpid());
    return n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)
               ? -ENAMETOOLONG
               : 0;
}

/* ---- the client --------------------------------------------------------- */

int sn_ctl_request(const char *path, const char *req, FILE *out, char *err, size_t err_len)
{
    struct sockaddr_un sa;
    int rc = fill_addr(&sa, path);
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    size_t rl = strlen(req);
    char line[SN_CTL_MAX_REQUEST + 1];
    if (rl >= SN_CTL_MAX_REQUEST) {
        close(fd);
        return -E2BIG;
    }
    memcpy(line, req, rl);
    line[rl++] = '\n';
    for (size_t off = 0; off < rl;) {
        ssize_t n = send(fd, line + off, rl - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EPIPE;
            close(fd);
            return rc;
        }
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    /* The first bytes say whether it is an answer or a refusal. */
    static const char refusal[] = "error: ";
    char buf[8192];
    size_t got = 0, total = 0;
    int refused = -1; /* not yet known */
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        got += (size_t)n;
        total += (size_t)n;
        if (refused < 0 && (got >= sizeof(refusal) - 1 || n == 0))
            refused = got >= sizeof(refusal) - 1 && memcmp(buf, refusal, sizeof(refusal) - 1) == 0;
        if (refused == 0) {
            fwrite(buf, 1, got, out);
            got = 0;
        } else if (refused == 1 && (n == 0 || got == sizeof(buf))) {
            size_t m = got - (sizeof(refusal) - 1);
            while (m > 0 && (buf[sizeof(refusal) - 1 + m - 1] == '\n'))
                m--;
            if (m >= err_len)
                m = err_len ? err_len - 1 : 0;
            if (err_len) {
                memcpy(err, buf + sizeof(refusal) - 1, m);
                err[m] = 0;
            }
            rc = -EPROTO;
            break;
        }
        if (n == 0)
            break;
    }
    close(fd);
    if (rc == 0 && total == 0)
        rc = -ECONNRESET; /* closed without a word: not a synack stack */
    return rc;
}
