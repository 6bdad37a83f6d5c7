#!/usr/bin/python3
"""tests/interop/tcpclient.py: the Linux kernel's side of the TCP interop
tests, as a client of synack's services (tests/interop/tcp_*.sh run it
inside the test's namespace). Standard library only.

  tcpclient.py echo HOST PORT FILE      send FILE, read the echo back at the
                                        same time, half-close at the end
  tcpclient.py discard HOST PORT FILE   send FILE, half-close, wait for the
                                        server to close
  tcpclient.py chargen HOST PORT NBYTES read NBYTES and check RFC 864's
                                        rotating 72-character lines
  tcpclient.py concurrent HOST PORT N   N echo connections at once, each with
                                        its own payload, read back exactly
  tcpclient.py serve PORT FILE          accept one connection on PORT (any
                                        address); send FILE to it while
                                        reading what it sends into a sha256;
                                        half-close when FILE is sent
  tcpclient.py reset PORT NBYTES        accept one connection on PORT, read
                                        NBYTES, then reset it (RST)

Each command prints one "key=value ..." line (bytes, sha256, seconds) and
exits 0, or prints "error: ..." on stderr and exits 1. Every socket has a
60 s timeout, so a stalled transfer fails instead of hanging.
"""
import hashlib
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 16
TIMEOUT = 60


def fail(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(1)


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def send_file(s, path, result):
    """Sends the file, then half-closes; result gets bytes and sha256."""
    h = hashlib.sha256()
    n = 0
    try:
        with open(path, "rb") as f:
            while True:
                b = f.read(CHUNK)
                if not b:
                    break
                s.sendall(b)
                h.update(b)
                n += len(b)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        result["error"] = "sending: %s after %d bytes" % (e, n)
    result["bytes"] = n
    result["sha256"] = h.hexdigest()


def recv_all(s):
    """Reads to EOF; returns (bytes, sha256)."""
    h = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            return n, h.hexdigest()
        h.update(b)
        n += len(b)


def report(**kv):
    print(" ".join("%s=%s" % (k, v) for k, v in kv.items()), flush=True)


def exchange(s, path, what):
    """Sends the file (then half-closes) while reading to EOF; returns
    (sent bytes, sent sha256, received bytes, received sha256)."""
    sent = {}
    th = threading.Thread(target=send_file, args=(s, path, sent))
    th.start()
    try:
        n, digest = recv_all(s)
    except OSError as e:
        fail("%s: receiving: %s" % (what, e))
    th.join()
    s.close()
    if "error" in sent:
        fail("%s: %s" % (what, sent["error"]))
    return sent["bytes"], sent["sha256"], n, digest


def cmd_echo(host, port, path):
    t0 = time.monotonic()
    sent, sent_sha, n, digest = exchange(connect(host, port), path, "echo")
    report(sent=sent, sent_sha256=sent_sha, received=n, received_sha256=digest,
           seconds="%.2f" % (time.monotonic() - t0))


def cmd_discard(host, port, path):
    t0 = time.monotonic()
    s = connect(host, port)
    sent = {}
    send_file(s, path, sent)
    if "error" in sent:
        fail("discard: " + sent["error"])
    try:
        n, _ = recv_all(s)  # discard sends nothing; EOF once it read all
    except OSError as e:
        fail("discard: waiting for the server to close: %s" % e)
    s.close()
    secs = time.monotonic() - t0
    report(sent=sent["bytes"], sent_sha256=sent["sha256"], received=n,
           seconds="%.2f" % secs)


def chargen_line(i):
    """RFC 864: line i starts at printable character i mod 95."""
    return bytes(32 + (i + k) % 95 for k in range(72)) + b"\r\n"


def cmd_chargen(host, port, nbytes):
    want = int(nbytes)
    period = b"".join(chargen_line(i) for i in range(95))  # 95 lines repeat
    t0 = time.monotonic()
    s = connect(host, port)
    got = 0
    try:
        while got < want:
            b = s.recv(min(CHUNK, want - got))
            if not b:
                fail("chargen: EOF after %d bytes" % got)
            off = got % len(period)
            exp = (period[off:] + period * (len(b) // len(period) + 2))[:len(b)]
            if b != exp:
                bad = next(i for i in range(len(b)) if b[i] != exp[i])
                fail("chargen: byte %d is %r, expected %r" % (got + bad, b[bad:bad + 1],
                                                             exp[bad:bad + 1]))
            got += len(b)
    except OSError as e:
        fail("chargen: receiving: %s after %d bytes" % (e, got))
    s.close()
    report(received=got, seconds="%.2f" % (time.monotonic() - t0))


def cmd_concurrent(host, port, count):
    count = int(count)
    errors = []
    done = []
    lock = threading.Lock()
    start = threading.Barrier(count, timeout=TIMEOUT)

    def one(i):
        # A payload of its own: the connection number, then bytes that
        # depend on it, 1000 to 20000 bytes long.
        size = 1000 + (i * 7919) % 19000
        payload = (b"conn %06d " % i + bytes((i + k) % 251 for k in range(size)))
        try:
            start.wait()
            s = connect(host, port)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            buf = bytearray()
            while True:
                b = s.recv(CHUNK)
                if not b:
                    break
                buf += b
            s.close()
            if bytes(buf) != payload:
                diff = next((k for k in range(min(len(buf), len(payload)))
                             if buf[k] != payload[k]), min(len(buf), len(payload)))
                raise ValueError("sent %d bytes, got %d back, first difference at byte %d"
                                 % (len(payload), len(buf), diff))
            with lock:
                done.append(i)
        except (OSError, ValueError, threading.BrokenBarrierError) as e:
            with lock:
                errors.append("connection %d: %s" % (i, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    for e in errors[:10]:
        print("error: " + e, file=sys.stderr)
    report(ok=len(done), failed=len(errors), seconds="%.2f" % secs)
    if errors or len(done) != count:
        sys.exit(1)


def accept_one(port, what):
    """Listens on PORT (any address), says so, and returns the first
    connection and its peer."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("listening on port %s" % port, flush=True)
    try:
        s, peer = ls.accept()
    except OSError as e:
        fail("%s: accept: %s" % (what, e))
    ls.close()
    s.settimeout(TIMEOUT)
    return s, "%s:%d" % peer


def cmd_serve(port, path):
    s, peer = accept_one(port, "serve")
    t0 = time.monotonic()
    sent, sent_sha, n, digest = exchange(s, path, "serve")
    report(peer=peer, sent=sent, sent_sha256=sent_sha, received=n, received_sha256=digest,
           seconds="%.2f" % (time.monotonic() - t0))


def cmd_reset(port, nbytes):
    """Accepts one connection, reads NBYTES from it, then resets it: an
    abortive close (SO_LINGER with timeout 0 makes close() send RST)."""
    s, peer = accept_one(port, "reset")
    got = 0
    try:
        while got < int(nbytes):
            b = s.recv(CHUNK)
            if not b:
                break
            got += len(b)
    except OSError as e:
        fail("reset: %s" % e)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    report(peer=peer, received=got, reset=1)


COMMANDS = {"echo": (cmd_echo, 3), "discard": (cmd_discard, 3),
            "chargen": (cmd_chargen, 3), "concurrent": (cmd_concurrent, 3),
            "serve": (cmd_serve, 2), "reset": (cmd_reset, 2)}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS or \
            len(sys.argv) != 2 + COMMANDS[sys.argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    COMMANDS[sys.argv[1]][0](*sys.argv[2:])
