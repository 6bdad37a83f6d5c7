/* bench/benchtool.c: the kernel-side programs of `make bench` (bench/run.sh
 * compiles this into build/bench/benchtool). Every measurement uses the same
 * client against synack and against the Linux kernel; the servers here are
 * the kernel's stand-ins for synack's services.
 *
 *   benchtool sink PORT               discard server (RFC 863): read to EOF, close
 *   benchtool source PORT             chargen-like server: write until the peer goes
 *   benchtool echod PORT              echo server (RFC 862), TCP_NODELAY
 *   benchtool hold PORT [PROCS]       accept and keep every connection, idle, in
 *                                     PROCS processes (SO_REUSEPORT; default 1)
 *   benchtool send HOST PORT SECS     write SECS seconds, FIN, wait for the server's
 *                                     EOF; prints "bytes=N seconds=S gbit=G"
 *   benchtool recv HOST PORT SECS     read SECS seconds from the first byte;
 *                                     prints "bytes=N seconds=S gbit=G"
 *   benchtool echo HOST PORT N        N sequential 1-byte round trips (after 1000
 *                                     warm-up ones); prints "p50_us=.. p99_us=.."
 *   benchtool open HOST PORT N SRC[,SRC...] [FIFO]
 *                                     open N connections, source addresses
 *                                     round-robin; prints "open=N" and, with
 *                                     FIFO, reads a number M from it: open up
 *                                     to M in total and print "open=M" again;
 *                                     EOF or "0" closes them all with RST; the
 *                                     sockets are spread over child processes
 *                                     of at most 16,000 each (RLIMIT_NOFILE)
 *
 * Every socket gets the congestion control in $BENCH_CC (default reno) with
 * TCP_CONGESTION, so the kernel uses the algorithm synack uses (NewReno)
 * whatever the host's default is. Errors: one line on stderr, exit 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)
#define WBUF (128 * 1024)

static char buf[BUF];

static int status_fd = -1; /* a child of `open`: where to report failure */

static void die(const char *what)
{
    fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
    if (status_fd >= 0 && write(status_fd, "e", 1) != 1)
        exit(1);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_cc(int fd)
{
    const char *cc = getenv("BENCH_CC");
    if (!cc || !*cc)
        cc = "reno";
    if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
        die("setsockopt TCP_CONGESTION");
}

static void nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        die("setsockopt TCP_NODELAY");
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static struct sockaddr_in addr_of(const char *host, const char *port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(port));
    if (host && inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "benchtool: '%s' is not an IPv4 address\n", host);
        exit(1);
    }
    return sa;
}

static int listen_on(const char *port)
{
    struct sockaddr_in sa = addr_of(NULL, port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    set_cc(fd); /* inherited by accepted sockets */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(fd, 4096) < 0)
        die("listen");
    return fd;
}

static int connect_to(const char *host, const char *port)
{
    struct sockaddr_in sa = addr_of(host, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    set_cc(fd);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect");
    return fd;
}

static void rst_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* ---- servers (one connection at a time, forever) ---------------------- */

static _Noreturn void serve_sink(const char *port)
{
    int l = listen_on(port);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        while (read(fd, buf, BUF) > 0)
            ;
        close(fd);
    }
}

static _Noreturn void serve_source(const char *port)
{
    int l = listen_on(port);
    for (size_t i = 0; i < WBUF; i++)
        buf[i] = (char)(i % 74 == 72 ? '\r' : i % 74 == 73 ? '\n' : ' ' + (i / 74 + i % 74) % 95);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        while (write(fd, buf, WBUF) > 0)
            ;
        rst_close(fd);
    }
}

static _Noreturn void serve_echo(const char *port)
{
    int l = listen_on(port);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        nodelay(fd);
        ssize_t n;
        while ((n = read(fd, buf, BUF)) > 0) {
            ssize_t off = 0;
            while (off < n) {
                ssize_t w = write(fd, buf + off, (size_t)(n - off));
                if (w <= 0)
                    break;
                off += w;
            }
            if (off < n)
                break;
        }
        close(fd);
    }
}

/* @procs processes, each with its own SO_REUSEPORT listener, so that no
 * process needs more descriptors than RLIMIT_NOFILE allows. */
static _Noreturn void serve_hold(const char *port, int procs)
{
    raise_nofile();
    struct sockaddr_in sa = addr_of(NULL, port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    int ls[256];
    if (procs < 1 || procs > 256)
        procs = 1;
    for (int i = 0; i < procs; i++) { /* all bound before any accepts */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
            die("setsockopt SO_REUSEPORT");
        set_cc(fd);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            die("bind");
        if (listen(fd, 4096) < 0)
            die("listen");
        ls[i] = fd;
    }
    for (int i = 1; i < procs; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* go with the parent */
            int l = ls[i];
            for (int j = 0; j < procs; j++)
                if (j != i)
                    close(ls[j]);
            for (;;)
                if (accept(l, NULL, NULL) < 0 && errno == EMFILE) {
                    fprintf(stderr, "benchtool hold: out of file descriptors\n");
                    sleep(1);
                }
        }
    }
    for (int j = 1; j < procs; j++)
        close(ls[j]);
    for (;;)
        if (accept(ls[0], NULL, NULL) < 0 && errno == EMFILE) {
            fprintf(stderr, "benchtool hold: out of file descriptors\n");
            sleep(1);
        }
}

/* ---- clients ------------------------------------------------------------ */

static int client_send(const char *host, const char *port, double secs)
{
    int fd = connect_to(host, port);
    memset(buf, 'x', WBUF);
    uint64_t bytes = 0;
    double t0 = now_s(), end = t0 + secs;
    while (now_s() < end) {
        ssize_t n = write(fd, buf, WBUF);
        if (n <= 0)
            die("write");
        bytes += (uint64_t)n;
    }
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown");
    while (read(fd, buf, BUF) > 0) /* the server's FIN: every byte arrived */
        ;
    double dt = now_s() - t0;
    close(fd);
    printf("bytes=%llu seconds=%.3f gbit=%.3f\n", (unsigned long long)bytes, dt,
           (double)bytes * 8 / dt / 1e9);
    return 0;
}

static int client_recv(const char *host, const char *port, double secs)
{
    int fd = connect_to(host, port);
    ssize_t n = read(fd, buf, BUF);
    if (n <= 0)
        die("read");
    uint64_t bytes = 0;
    double t0 = now_s(), end = t0 + secs, t;
    while ((t = now_s()) < end) {
        n = read(fd, buf, BUF);
        if (n <= 0)
            die("read");
        bytes += (uint64_t)n;
    }
    double dt = t - t0;
    rst_close(fd);
    printf("bytes=%llu seconds=%.3f gbit=%.3f\n", (unsigned long long)bytes, dt,
           (double)bytes * 8 / dt / 1e9);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int client_echo(const char *host, const char *port, long n)
{
    int fd = connect_to(host, port);
    nodelay(fd);
    uint64_t *rtt = calloc((size_t)n, sizeof(*rtt));
    if (!rtt)
        die("calloc");
    char c = 'x';
    for (long i = -1000; i < n; i++) {
        uint64_t t0 = now_ns();
        if (write(fd, &c, 1) != 1)
            die("write");
        ssize_t r = read(fd, &c, 1);
        if (r != 1) {
            if (r == 0)
                errno = ECONNRESET;
            die("read");
        }
        if (i >= 0)
            rtt[i] = now_ns() - t0;
    }
    close(fd);
    qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
    printf("p50_us=%.2f p99_us=%.2f min_us=%.2f max_us=%.2f n=%ld\n",
           (double)rtt[n / 2] / 1e3, (double)rtt[(n * 99) / 100] / 1e3, (double)rtt[0] / 1e3,
           (double)rtt[n - 1] / 1e3, n);
    free(rtt);
    return 0;
}

/* Opens @n connections to @dst from @src[] (round-robin from index @first)
 * in a child process, so that no process needs more descriptors than its
 * limit allows (RLIMIT_NOFILE may be low and not raisable). The child
 * writes one byte to @status when they are all open (or an error line
 * and exits), then waits for EOF on @ctl and closes them all with RST. */
static pid_t open_chunk(const struct sockaddr_in *dst, const struct sockaddr_in *src, int nsrc,
                        long first, long n, int ctl, int ctl_w, int status)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid > 0)
        return pid;
    close(ctl_w);
    status_fd = status;
    int *fds = malloc(sizeof(*fds) * (size_t)n);
    if (!fds)
        die("malloc");
    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        set_cc(fd);
        const struct sockaddr_in *sa = &src[(first + i) % nsrc];
        if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
            die("bind (out of local ports? add source addresses)");
        if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
            fprintf(stderr, "benchtool open: connection %ld: ", first + i);
            die("connect");
        }
        fds[i] = fd;
    }
    if (write(status, "k", 1) != 1)
        die("write");
    char c;
    while (read(ctl, &c, 1) > 0)
        ;
    for (long i = 0; i < n; i++)
        rst_close(fds[i]);
    _exit(0);
}

#define PAR 8

static int client_open(const char *host, const char *port, long n, char *srcs,
                       const char *fifo)
{
    raise_nofile();
    struct rlimit rl;
    long per = 16000;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur - 64 < per)
        per = (long)rl.rlim_cur - 64;
    struct sockaddr_in dst = addr_of(host, port);
    struct sockaddr_in src[64];
    int nsrc = 0;
    for (char *s = strtok(srcs, ","); s && nsrc < 64; s = strtok(NULL, ","))
        src[nsrc++] = addr_of(s, "0");
    int ctl[2], status[2];
    if (pipe(ctl) < 0 || pipe(status) < 0)
        die("pipe");
    long have = 0;
    int kids = 0;
    FILE *in = NULL;
    for (;;) {
        /* PAR children at once, each connecting one by one: the handshakes
         * overlap without more than PAR SYNs outstanding. */
        int started = 0;
        long chunk = (n - have + PAR - 1) / PAR;
        if (chunk > per)
            chunk = per;
        while (have < n) {
            long c = n - have < chunk ? n - have : chunk;
            open_chunk(&dst, src, nsrc, have, c, ctl[0], ctl[1], status[1]);
            kids++;
            started++;
            have += c;
        }
        for (; started > 0; started--) {
            char c;
            if (read(status[0], &c, 1) != 1 || c != 'k') {
                fprintf(stderr, "benchtool open: a child failed on the way to %ld connections\n", n);
                exit(1);
            }
        }
        printf("open=%ld\n", have);
        fflush(stdout);
        if (!fifo)
            break;
        if (!in && !(in = fopen(fifo, "r")))
            die(fifo);
        long m;
        if (fscanf(in, "%ld", &m) != 1 || m <= 0)
            break;
        n = m;
    }
    if (!fifo)
        pause();
    close(ctl[1]); /* the children close theirs with RST and exit */
    while (kids-- > 0)
        wait(NULL);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: benchtool sink|source|echod PORT\n"
                    "       benchtool hold PORT [PROCS]\n"
                    "       benchtool send|recv HOST PORT SECONDS\n"
                    "       benchtool echo HOST PORT N\n"
                    "       benchtool open HOST PORT N SRC[,SRC...] [FIFO]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3)
        usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "sink"))
        serve_sink(argv[2]);
    if (!strcmp(cmd, "source"))
        serve_source(argv[2]);
    if (!strcmp(cmd, "echod"))
        serve_echo(argv[2]);
    if (!strcmp(cmd, "hold"))
        serve_hold(argv[2], argc > 3 ? atoi(argv[3]) : 1);
    if (argc < 5)
        usage();
    if (!strcmp(cmd, "send"))
        return client_send(argv[2], argv[3], atof(argv[4]));
    if (!strcmp(cmd, "recv"))
        return client_recv(argv[2], argv[3], atof(argv[4]));
    if (!strcmp(cmd, "echo"))
        return client_echo(argv[2], argv[3], atol(argv[4]));
    if (!strcmp(cmd, "open") && argc >= 6)
        return client_open(argv[2], argv[3], atol(argv[4]), argv[5], argc > 6 ? argv[6] : NULL);
    usage();
    return 2;
}
