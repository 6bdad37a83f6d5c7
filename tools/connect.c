/* tools/connect.c: `synack connect HOST PORT`: a netcat over the stack. One
 * active open from synack to HOST:PORT; stdin goes to the connection, the
 * connection to stdout; stdin's EOF half-closes (FIN), and the command ends
 * once the peer has closed too and every byte it sent is written out.
 *
 * Everything runs in one loop hook, once per iteration of the event loop,
 * after the stack has taken its input: data moves only as far as both ends
 * let it. stdin is read only while sn_send takes what was read before
 * (backpressure: a full send buffer stops the reading until the socket is
 * writable again), and the connection is read only once stdout took the
 * last block (a slow stdout closes the receive window). stdin and stdout
 * are watched through the loop when epoll can watch them (pipes, sockets,
 * terminals); regular files and /dev/null are always ready and are read
 * and written directly. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/loop.h"
#include "core/log.h"
#include "synack/synack.h"
#include "tools/cli.h"
#include "tools/stackup.h"

#define CMD "connect"
#define IO_BUF 65536

void cmd_connect_help(FILE *out)
{
    fprintf(out,
            "usage: synack connect HOST PORT (--tap NAME | --tun NAME) --addr A.B.C.D/NN\n"
            "                      [OPTIONS]\n"
            "\n"
            "A netcat over synack: runs a stack on a TAP (Ethernet) or TUN (IPv4) device,\n"
            "opens one TCP connection from it to HOST:PORT (HOST is an IPv4 address), and\n"
            "copies stdin to the connection and the connection to stdout. The two\n"
            "directions close apart, as TCP's half-close allows: at the end of stdin\n"
            "synack sends FIN and keeps reading; when the peer's FIN comes first, synack\n"
            "keeps sending stdin until its end. It exits 0 once both sides have closed\n"
            "and everything the peer sent is written to stdout (so a server that closes\n"
            "first, like daytime, ends it only once stdin ends too: give </dev/null).\n"
            "A refused, reset or timed-out connection is one line on stderr and exit\n"
            "status 1.\n"
            "\n"
            "synack reads stdin only as fast as the connection takes it (a full send\n"
            "buffer pauses the reading) and reads the connection only as fast as stdout\n"
            "takes it (a slow reader closes the TCP window).\n"
            "\n"
            "A device that does not exist is created by synack (root or CAP_NET_ADMIN),\n"
            "so the kernel's side can only be given its address once synack has started.\n"
            "That is fine: the SYN waits in the ARP queue, and ARP and SYN are retried,\n"
            "until the kernel answers. E.g., with a server on the kernel's side:\n"
            "\n"
            "  socat -u TCP-LISTEN:5000 STDOUT > got &\n"
            "  synack connect 192.0.2.1 5000 --tap tap0 --addr 192.0.2.2/24 < file &\n"
            "  ip addr add 192.0.2.1/24 dev tap0\n"
            "\n"
            "A HOST outside the --addr subnet needs --gateway.\n"
            "\n"
            "options:\n");
    stackup_help_options(out);
    fprintf(out, "\n"
                 "SIGUSR1 prints the stack's counters on stderr (stdout carries the data);\n"
                 "SIGINT or SIGTERM aborts the connection (RST) and exits 1.\n"
                 "\n"
                 "exit status: 0 the connection closed normally, 1 connection or I/O error,\n"
                 "2 bad command line\n"
                 "\n");
    stackup_help_settings(out);
}

/* One direction's buffer: bytes [off, len) are waiting to go on. */
struct io_buf {
    uint8_t data[IO_BUF];
    size_t off, len;
};

struct conn {
    struct stackup su;
    struct sn_sock *so;
    uint32_t raddr;
    uint16_t rport;
    char peer[CLI_IP4_LEN + 8]; /* "A.B.C.D:PORT" */
    int quiet;

    /* stdin -> connection */
    int in_poll;    /* epoll can watch stdin */
    int in_watched; /* registered with the loop now */
    int in_ready;   /* epoll said readable since our last read */
    int in_eof;     /* read returned 0 */
    int shut_sent;  /* sn_shutdown(SN_SHUT_WR) done */
    struct io_buf in;

    /* connection -> stdout */
    int out_poll;
    int out_watched;
    int out_flags; /* stdout's file status flags before we set O_NONBLOCK; -1 */
    int peer_eof;  /* sn_recv returned 0 */
    struct io_buf out;

    int connected;
    int finished;
    int rc;
    uint64_t bytes_sent, bytes_received;
};

static void finish(struct conn *cn, int rc)
{
    cn->finished = 1;
    cn->rc = rc;
    sn_loop_stop(cn->su.lp);
}

/* The connection failed with @err: one line naming why. */
static void conn_error(struct conn *cn, int err)
{
    char eb[CLI_ERR_LEN];
    switch (err) {
    case -ECONNREFUSED:
        cli_fail("connection to %s refused", cn->peer);
        break;
    case -ETIMEDOUT:
        if (cn->connected)
            cli_fail("connection to %s timed out (the peer stopped acknowledging data)",
                     cn->peer);
        else
            cli_fail("connection to %s timed out (no answer to the SYN)", cn->peer);
        break;
    case -ECONNRESET:
        cli_fail("connection to %s reset by the peer", cn->peer);
        break;
    case -EHOSTUNREACH:
        cli_fail("connection to %s failed: host unreachable", cn->peer);
        break;
    default:
        cli_fail("connection to %s failed: %s", cn->peer, cli_strerror(err, eb));
        break;
    }
    finish(cn, CLI_EXIT_RUNTIME);
}

/* Our own failure (stdin, stdout): reset the connection and stop. */
static void io_error(struct conn *cn, const char *what, int err)
{
    char eb[CLI_ERR_LEN];
    cli_fail("%s: %s; connection to %s aborted", what, cli_strerror(err, eb), cn->peer);
    sn_abort(cn->so);
    cn->so = NULL;
    finish(cn, CLI_EXIT_RUNTIME);
}

/* ---- stdin and stdout through the loop ----------------------------------- */

static void on_stdio(struct sn_loop *lp, int fd, uint32_t events, void *user)
{
    (void)lp;
    (void)events; /* EPOLLHUP too: the read that follows sees the EOF */
    struct conn *cn = user;
    if (fd == STDIN_FILENO)
        cn->in_ready = 1;
    /* stdout: the hook writes; being woken is all this is for. */
}

/* Starts or stops watching stdin (for input) or stdout (for room). */
static void watch(struct conn *cn, int fd, int on)
{
    int in = fd == STDIN_FILENO;
    int *poll = in ? &cn->in_poll : &cn->out_poll;
    int *watched = in ? &cn->in_watched : &cn->out_watched;
    if (!*poll || *watched == on)
        return;
    if (!on) {
        sn_loop_del_fd(cn->su.lp, fd);
    } else if (sn_loop_add_fd(cn->su.lp, fd, in ? EPOLLIN : EPOLLOUT, on_stdio, cn) < 0) {
        *poll = 0; /* epoll refuses it after all: treat it as always ready */
        return;
    }
    *watched = on;
}

/* Whether epoll can watch @fd: pipes, sockets and terminals yes; regular
 * files and most character devices (/dev/null) no, they are always ready. */
static int pollable(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 0;
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd);
}

/* ---- moving the data ------------------------------------------------------ */

/* Puts stdout's file status flags back (blocking, as we found it). */
static void stdio_restore(struct conn *cn)
{
    if (cn->out_flags >= 0)
        fcntl(STDOUT_FILENO, F_SETFL, cn->out_flags);
}

/* Writes what cn->out holds. Returns 1 when it is all out, 0 when stdout
 * is full (then watched for room), -1 after an error. */
static int flush_stdout(struct conn *cn)
{
    struct io_buf *b = &cn->out;
    while (b->off < b->len) {
        ssize_t n = write(STDOUT_FILENO, b->data + b->off, b->len - b->off);
        if (n > 0) {
            b->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(cn, STDOUT_FILENO, 1);
            if (cn->out_poll)
                return 0;
            stdio_restore(cn); /* epoll refused it: blocking writes, then */
            continue;
        }
        io_error(cn, "cannot write to stdout", n < 0 ? -errno : -EIO);
        return -1;
    }
    b->off = b->len = 0;
    watch(cn, STDOUT_FILENO, 0);
    return 1;
}

/* Connection -> stdout, while stdout keeps up. */
static void pump_out(struct conn *cn)
{
    for (;;) {
        int r = flush_stdout(cn);
        if (r <= 0 || cn->peer_eof)
            return;
        ssize_t n = sn_recv(cn->so, cn->out.data, sizeof(cn->out.data));
        if (n > 0) {
            cn->out.len = (size_t)n;
            cn->bytes_received += (uint64_t)n;
        } else if (n == 0) {
            cn->peer_eof = 1;
            log_debug("the peer closed its side after %llu bytes",
                      (unsigned long long)cn->bytes_received);
        } else {
            return; /* -EAGAIN; errors are seen by the hook */
        }
    }
}

/* stdin -> connection, while the send buffer has room. */
static void pump_in(struct conn *cn)
{
    struct io_buf *b = &cn->in;
    for (;;) {
        while (b->off < b->len) {
            ssize_t n = sn_send(cn->so, b->data + b->off, b->len - b->off);
            if (n <= 0) {
                /* -EAGAIN: the send buffer is full. Stop reading stdin until
                 * the socket is writable again (the hook retries then). */
                watch(cn, STDIN_FILENO, 0);
                return;
            }
            b->off += (size_t)n;
            cn->bytes_sent += (uint64_t)n;
        }
        b->off = b->len = 0;
        if (cn->in_eof)
            return;
        if (cn->in_poll && !cn->in_ready) {
            watch(cn, STDIN_FILENO, 1);
            if (cn->in_poll)
                return; /* until epoll says there is input */
        }
        ssize_t n = read(STDIN_FILENO, b->data, sizeof(b->data));
        cn->in_ready = 0; /* pollable: one read per readiness, never blocking */
        if (n > 0) {
            b->len = (size_t)n;
        } else if (n == 0) {
            cn->in_eof = 1;
            watch(cn, STDIN_FILENO, 0);
            log_debug("end of stdin after %llu bytes", (unsigned long long)cn->bytes_sent);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            watch(cn, STDIN_FILENO, 1);
            return;
        } else {
            io_error(cn, "cannot read stdin", -errno);
            return;
        }
    }
}

/* The loop hook: runs once per iteration, after the stack took its input
 * and ran its timers, before its output is written. */
static void pump(struct sn_loop *lp, sn_time now, void *user)
{
    (void)lp;
    (void)now;
    struct conn *cn = user;
    if (cn->finished)
        return;
    int err = sn_sock_error(cn->so);
    uint32_t ev = sn_sock_events(cn->so);
    if (!cn->connected && !err) {
        if (!(ev & SN_EV_WRITABLE))
            return; /* still in SYN-SENT */
        cn->connected = 1;
        if (!cn->quiet)
            fprintf(stderr, "synack: connected to %s\n", cn->peer);
    }
    pump_out(cn);
    if (cn->finished)
        return;
    if (err) {
        conn_error(cn, err);
        return;
    }
    pump_in(cn);
    if (cn->finished)
        return;
    if (cn->in_eof && cn->in.len == 0 && !cn->shut_sent) {
        int e = sn_shutdown(cn->so, SN_SHUT_WR); /* RFC 9293 3.10.4: FIN after the data */
        if (e && e != -ENOTCONN) {
            conn_error(cn, e);
            return;
        }
        cn->shut_sent = 1;
    }
    /* Both FINs exchanged (TIME-WAIT, or CLOSED after LAST-ACK) and every
     * byte written: done. */
    if (cn->shut_sent && cn->peer_eof && cn->out.len == 0 &&
        (sn_sock_events(cn->so) & SN_EV_CLOSED))
        finish(cn, CLI_EXIT_OK);
}

/* ---- signals ------------------------------------------------------------ */

static void on_stop(struct sn_loop *lp, int signo, void *user)
{
    (void)lp;
    struct conn *cn = user;
    if (cn->finished)
        return;
    cli_fail("%s: connection to %s aborted", signo == SIGINT ? "interrupted" : "terminated",
             cn->peer);
    sn_abort(cn->so); /* its RST goes out with this iteration's output */
    cn->so = NULL;
    finish(cn, CLI_EXIT_RUNTIME);
}

static void on_usr1(struct sn_loop *lp, int signo, void *user)
{
    (void)signo;
    (void)user;
    stackup_print_counters(sn_loop_stack(lp), stderr);
}

/* ---- the command ------------------------------------------------------------ */

/* Sets up stdin and stdout: which can be watched, and stdout non-blocking
 * so a slow reader cannot stall the stack (its flags are put back at exit). */
static void stdio_setup(struct conn *cn)
{
    cn->in_poll = pollable(STDIN_FILENO);
    cn->out_poll = pollable(STDOUT_FILENO) && !isatty(STDOUT_FILENO);
    cn->out_flags = -1;
    if (cn->out_poll) {
        int fl = fcntl(STDOUT_FILENO, F_GETFL);
        if (fl >= 0 && fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) == 0)
            cn->out_flags = fl;
        else
            cn->out_poll = 0; /* blocking writes, then */
    }
    /* A reader that went away is an error we report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
}

static int run(struct conn *cn, const struct stackup_opts *o)
{
    int rc = stackup_start(CMD, o, &cn->su);
    if (rc)
        return rc;
    rc = CLI_EXIT_RUNTIME;
    char eb[CLI_ERR_LEN];
    int err = sn_loop_on_signal(cn->su.lp, SIGINT, on_stop, cn);
    if (!err)
        err = sn_loop_on_signal(cn->su.lp, SIGTERM, on_stop, cn);
    if (!err)
        err = sn_loop_on_signal(cn->su.lp, SIGUSR1, on_usr1, cn);
    if (!err)
        err = sn_loop_add_hook(cn->su.lp, pump, cn);
    if (err) {
        cli_fail("cannot set up the event loop: %s", cli_strerror(err, eb));
        goto out;
    }

    char where[160];
    if (!o->quiet)
        fprintf(stderr, "synack: connecting to %s from %s\n", cn->peer,
                stackup_describe(&cn->su, o, where, sizeof(where)));
    /* The SYN goes out with the loop's first iteration, or waits in the ARP
     * queue until the kernel's side has an address and answers. */
    err = sn_connect(cn->su.stack, cn->raddr, cn->rport, 0, sn_loop_now(cn->su.lp), &cn->so);
    if (err) {
        cli_fail("cannot connect to %s: %s", cn->peer, cli_strerror(err, eb));
        goto out;
    }
    stdio_setup(cn);
    err = sn_loop_run(cn->su.lp);
    stdio_restore(cn);
    if (err) {
        cli_fail("device %s failed: %s", cn->su.link->name, cli_strerror(err, eb));
        goto out;
    }
    log_debug("%llu bytes sent, %llu bytes received", (unsigned long long)cn->bytes_sent,
              (unsigned long long)cn->bytes_received);
    if (o->verbose)
        stackup_print_counters(cn->su.stack, stderr);
    stackup_log_loop_stats(&cn->su);
    rc = cn->rc;
out:
    if (cn->so)
        sn_close(cn->so);
    stackup_stop(&cn->su);
    return rc;
}

int cmd_connect_main(int argc, char **argv)
{
    struct stackup_opts o;
    int rc = stackup_parse(CMD, cmd_connect_help, argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.n_args < 2)
        return cli_usage_cmd(CMD, "give HOST and PORT");
    if (o.n_args > 2)
        return cli_usage_cmd(CMD, "unexpected argument '%s'", o.args[2]);

    static struct conn cn; /* two 64 KiB buffers: not on the stack */
    memset(&cn, 0, sizeof(cn));
    cn.quiet = o.quiet;
    uint32_t port;
    if (cli_parse_ip4(o.args[0], &cn.raddr) < 0)
        return cli_usage("HOST: '%s' is not an IPv4 address, e.g. 192.0.2.1 (synack has no "
                         "DNS resolver)",
                         o.args[0]);
    if (cli_parse_u32(o.args[1], 1, 65535, &port) < 0)
        return cli_usage("PORT: '%s' is not a number from 1 to 65535", o.args[1]);
    cn.rport = (uint16_t)port;
    uint32_t mask = o.prefix_len ? ~0u << (32 - o.prefix_len) : 0;
    if (cn.raddr == o.addr)
        return cli_usage("HOST: %s is synack's own address (--addr)", o.args[0]);
    if ((cn.raddr & mask) != (o.addr & mask) && !o.gateway)
        return cli_usage("HOST: %s is not inside %s; give --gateway to reach it", o.args[0],
                         o.addr_arg);
    char ip[CLI_IP4_LEN];
    snprintf(cn.peer, sizeof(cn.peer), "%s:%u", cli_fmt_ip4(cn.raddr, ip), cn.rport);
    return run(&cn, &o);
}
