#!/usr/bin/python3
# tests/interop/http_conformance.py HOST PORT [GROUP...]: raw-socket checks
# of synack's HTTP server, run by tests/interop/http_malformed.sh from the
# kernel's side of the TAP. Each check sends bytes no ordinary client would
# (malformed HTTP/1.1, crafted HTTP/2 frames built with hyperframe/hpack),
# asserts the status code or the RFC 9113 error the server answers with,
# and then asserts that the server still serves a normal request.
#
# Groups: h1 (HTTP/1.x), slow (timeouts; needs --http-request-ms 1000
# --http-idle-ms 1500), h2 (HTTP/2 errors), goaway (prints "ready", then
# waits for the GOAWAY of a server being stopped). Prints one line per check and
# "N checks, N failed"; exits 1 if any failed.
import socket
import sys
import time

from hpack import Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

HOST = sys.argv[1]
PORT = int(sys.argv[2])
GROUPS = sys.argv[3:] or ["h1", "slow", "h2"]  # goaway only when asked

failed = 0
count = 0


def check(name, ok, detail=""):
    global failed, count
    count += 1
    if ok:
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")


def connect(timeout=5.0):
    return socket.create_connection((HOST, PORT), timeout=timeout)


def recv_all(s, limit=10_000_000, idle=3.0):
    """Reads until the server closes (or `idle` seconds of silence)."""
    s.settimeout(idle)
    data = b""
    try:
        while len(data) < limit:
            b = s.recv(65536)
            if not b:
                return data, True
            data += b
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True
    return data, False


def status(resp):
    try:
        line = resp.split(b"\r\n", 1)[0].decode()
        return int(line.split(" ")[1])
    except (IndexError, ValueError):
        return None


def exchange(raw, idle=3.0):
    s = connect()
    s.sendall(raw)
    data, closed = recv_all(s, idle=idle)
    s.close()
    return data, closed


def one_response(s, head_only=False, buf=b""):
    """Reads exactly one HTTP/1.1 response (Content-Length or chunked),
    starting with the bytes already read in `buf`; returns the bytes read
    past it as the last element."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed before a response head")
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    fields = {}
    for ln in lines[1:]:
        k, v = ln.split(b":", 1)
        fields[k.strip().lower()] = v.strip()
    st = int(lines[0].split(b" ")[1])
    if head_only or st in (204, 304) or 100 <= st < 200:
        return st, fields, b"", rest
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += s.recv(65536)
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += s.recv(65536)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return st, fields, body, rest
    n = int(fields.get(b"content-length", b"0"))
    while len(rest) < n:
        b = s.recv(65536)
        if not b:
            break
        rest += b
    return st, fields, rest[:n], rest[n:]


def still_serving(name):
    try:
        s = connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        st, _, _, _ = one_response(s)
        s.close()
        check(f"{name}: server still serves", st == 200, f"status {st}")
    except OSError as e:
        check(f"{name}: server still serves", False, str(e))


def expect_status(name, raw, want, must_close=True):
    data, closed = exchange(raw)
    st = status(data)
    ok = st == want and (closed or not must_close)
    check(f"{name} -> {want}{' and close' if must_close else ''}", ok,
          f"got status {st}, closed={closed}: {data[:120]!r}")


# ---------------------------------------------------------------- HTTP/1.x

def group_h1():
    H = b"Host: t\r\n"
    expect_status("garbage request line", b"GARBAGE\r\n\r\n", 400)
    expect_status("binary request line", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400)
    expect_status("extra element in request line", b"GET / HTTP/1.1 x\r\n" + H + b"\r\n", 400)
    expect_status("two spaces in request line", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400)
    expect_status("HTTP/0.9 request", b"GET /\r\n\r\n", 400)
    expect_status("lower-case version", b"GET / http/1.1\r\n" + H + b"\r\n", 400)
    expect_status("HTTP/2.0 in a request line", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505)
    expect_status("HTTP/3.0", b"GET / HTTP/3.0\r\n" + H + b"\r\n", 505)
    expect_status("unknown method", b"BREW / HTTP/1.1\r\n" + H + b"\r\n", 501, must_close=False)
    expect_status("method is case-sensitive", b"get / HTTP/1.1\r\n" + H + b"\r\n", 501,
                  must_close=False)
    expect_status("over-long method", b"A" * 100 + b" / HTTP/1.1\r\n" + H + b"\r\n", 501)
    expect_status("PUT not allowed", b"PUT /x HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 405,
                  must_close=False)
    data, _ = exchange(b"DELETE / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    check("405 carries Allow", b"\r\nAllow: " in data, repr(data[:200]))
    expect_status("URI too long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414)
    expect_status("huge header", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * 70000 +
                  b"\r\n\r\n", 431)
    many = b"".join(b"X-%d: v\r\n" % i for i in range(150))
    expect_status("too many headers", b"GET / HTTP/1.1\r\n" + H + many + b"\r\n", 431)
    expect_status("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400)
    expect_status("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    expect_status("invalid Host", b"GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400)
    expect_status("HTTP/1.0 needs no Host", b"GET / HTTP/1.0\r\n\r\n", 200)
    expect_status("space before colon", b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400)
    expect_status("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n  c\r\n\r\n", 400)
    expect_status("NUL in a field", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400)
    expect_status("bare CR", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400)
    expect_status("bare LF line ends", b"GET / HTTP/1.1\n" + H.replace(b"\r\n", b"\n") +
                  b"Connection: close\n\n", 200)
    # Request smuggling shapes (RFC 9112 6.1, 6.3).
    expect_status("Content-Length and Transfer-Encoding",
                  b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    expect_status("conflicting Content-Lengths",
                  b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n"
                  b"\r\nhello!", 400)
    expect_status("Content-Length not a number",
                  b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: -5\r\n\r\n", 400)
    expect_status("chunked not last", b"POST /echo HTTP/1.1\r\n" + H +
                  b"Transfer-Encoding: chunked, identity\r\n\r\n", 400)
    expect_status("unknown transfer coding", b"POST /echo HTTP/1.1\r\n" + H +
                  b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501)
    expect_status("Transfer-Encoding in HTTP/1.0",
                  b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    for bad in [b"zz", b"-1", b"0x5", b" 5", b"5 ", b"10000000000000000", b""]:
        expect_status(f"bad chunk size {bad!r}", b"POST /echo HTTP/1.1\r\n" + H +
                      b"Transfer-Encoding: chunked\r\n\r\n" + bad + b"\r\nhello\r\n0\r\n\r\n", 400)
    expect_status("chunk data longer than its size", b"POST /echo HTTP/1.1\r\n" + H +
                  b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400)
    expect_status("body over the limit", b"POST /echo HTTP/1.1\r\n" + H +
                  b"Content-Length: 100000000\r\n\r\n", 413)
    expect_status("unknown expectation", b"POST /echo HTTP/1.1\r\n" + H +
                  b"Expect: teapot\r\nContent-Length: 1\r\n\r\nx", 417)
    expect_status("OPTIONS *", b"OPTIONS * HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", 200)
    expect_status("GET *", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400, must_close=False)
    expect_status("absolute-form target", b"GET http://t/ HTTP/1.1\r\n" + H +
                  b"Connection: close\r\n\r\n", 200)

    # 100-continue: the interim response comes before we send the body.
    s = connect()
    s.sendall(b"POST /echo HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    st, _, _, rest = one_response(s)
    check("Expect: 100-continue -> 100", st == 100, f"status {st}")
    s.sendall(b"hello")
    st, _, body, _ = one_response(s)
    check("... then 200 with the body echoed", st == 200 and body == b"hello", f"{st} {body!r}")
    s.close()

    # Pipelining: three requests in one write, answered in order.
    s = connect()
    s.sendall(b"GET /nope HTTP/1.1\r\n" + H + b"\r\n"
              b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc"
              b"HEAD / HTTP/1.1\r\n" + H + b"\r\n"
              b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
              b"2\r\nxy\r\n1;e=1\r\nz\r\n0\r\nT: 1\r\n\r\n"
              b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    got = []
    rest = b""
    try:
        for head_only in (False, False, True, False, False):
            st, f, body, rest = one_response(s, head_only, rest)
            got.append((st, body if st != 200 or head_only or len(body) < 10 else b"page",
                        f.get(b"transfer-encoding")))
    except (EOFError, OSError) as e:
        got.append(str(e))
    s.close()
    want = [(404, got[0][1] if got else None, None), (200, b"abc", None), (200, b"", None),
            (200, b"xyz", b"chunked"), (200, b"page", None)]
    check("pipelined requests answered in order (chunked both ways)", got == want,
          f"got {got}")

    # Persistence rules (RFC 9112 9.3).
    s = connect()
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data, closed = recv_all(s)
    check("HTTP/1.0 closes by default", closed and b"Connection: close" in data, repr(data[:300]))
    s.close()
    s = connect()
    s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, f, _, _ = one_response(s)
    s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st2, _, _, _ = one_response(s)
    check("HTTP/1.0 keep-alive when asked", st == 200 and st2 == 200 and
          f.get(b"connection") == b"keep-alive", f"{st} {st2} {f}")
    s.close()
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    data, closed = recv_all(s)
    check("HTTP/1.1 Connection: close honoured", closed and status(data) == 200, repr(data[:100]))
    s.close()
    still_serving("after the HTTP/1.x checks")


def group_slow():
    # Slowloris: a head trickling in is cut off with 408 (--http-request-ms 1000).
    s = connect()
    t0 = time.time()
    s.sendall(b"GET / HTTP/1.1\r\nHo")
    other = connect()
    other.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    st_other, _, _, _ = one_response(other)
    other.close()
    check("another client is served while one trickles", st_other == 200, f"{st_other}")
    for _ in range(5):
        time.sleep(0.1)
        try:
            s.sendall(b"s")
        except OSError:
            break
    data, closed = recv_all(s, idle=5)
    took = time.time() - t0
    check("slow request head -> 408 and close", status(data) == 408 and closed and took < 4,
          f"{data[:60]!r} closed={closed} after {took:.1f} s")
    s.close()
    # Idle keep-alive connection closed (--http-idle-ms 1500).
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    one_response(s)
    t0 = time.time()
    data, closed = recv_all(s, idle=6)
    took = time.time() - t0
    check("idle keep-alive connection closed", closed and data == b"" and 1 < took < 5,
          f"closed={closed} after {took:.1f} s, {data[:50]!r}")
    s.close()
    # A connection that never sends anything.
    s = connect()
    t0 = time.time()
    data, closed = recv_all(s, idle=6)
    check("silent connection closed", closed and time.time() - t0 < 5, f"closed={closed}")
    s.close()
    still_serving("after the timeout checks")


# ---------------------------------------------------------------- HTTP/2

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
          9: "COMPRESSION_ERROR"}


def raw_frame(ftype, flags, stream, payload):
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
            (stream & 0x7FFFFFFF).to_bytes(4, "big") + payload)


class H2:
    def __init__(self, settings=True):
        self.s = connect()
        self.enc = Encoder()
        self.buf = b""
        self.s.sendall(PREFACE)
        if settings:
            self.send(SettingsFrame(0))

    def send(self, frame):
        self.s.sendall(frame.serialize() if isinstance(frame, Frame) else frame)

    def headers(self, stream, hdrs, end_stream=True):
        f = HeadersFrame(stream)
        f.data = self.enc.encode(hdrs)
        f.flags.add("END_HEADERS")
        if end_stream:
            f.flags.add("END_STREAM")
        return f

    def get(self, stream, path="/"):
        return self.headers(stream, [(":method", "GET"), (":scheme", "http"), (":path", path),
                                     (":authority", "t")])

    def frames(self, until, timeout=3.0):
        """Reads frames until until(frame) is true, the connection closes or
        the timeout; returns (frames, closed)."""
        out = []
        self.s.settimeout(timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            while len(self.buf) >= 9:
                f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                f.parse_body(memoryview(self.buf[9:9 + length]))
                self.buf = self.buf[9 + length:]
                out.append(f)
                if isinstance(f, SettingsFrame) and "ACK" not in f.flags:
                    self.send(SettingsFrame(0, flags=["ACK"]))
                if until(f):
                    return out, False
            try:
                b = self.s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not b:
                return out, True
            self.buf += b
        return out, False

    def close(self):
        self.s.close()


def goaway_of(frames):
    for f in frames:
        if isinstance(f, GoAwayFrame):
            return f.error_code
    return None


def rst_of(frames, stream):
    for f in frames:
        if isinstance(f, RstStreamFrame) and f.stream_id == stream:
            return f.error_code
    return None


def expect_goaway(name, frames_to_send, want, settings=True, accept_rst=None):
    c = H2(settings)
    try:
        for fr in frames_to_send(c):
            c.send(fr)
        got, closed = c.frames(lambda f: isinstance(f, GoAwayFrame) or
                               (accept_rst is not None and isinstance(f, RstStreamFrame)))
    except OSError as e:
        check(name, False, str(e))
        return
    finally:
        c.close()
    code = goaway_of(got)
    ok = code == want
    if accept_rst is not None and code is None:
        code = rst_of(got, accept_rst)
        ok = code == want
    check(f"{name} -> {ERRORS.get(want, want)}", ok,
          f"got {ERRORS.get(code, code)}; frames {[type(f).__name__ for f in got]}, closed={closed}")


def good_h2_request(name):
    c = H2()
    try:
        c.send(c.get(1))
        got, _ = c.frames(lambda f: "END_STREAM" in f.flags and f.stream_id == 1)
        st = None
        for f in got:
            if isinstance(f, HeadersFrame) and f.stream_id == 1:
                st = f.data[:1]
        ok = any(isinstance(f, (DataFrame, HeadersFrame)) and f.stream_id == 1 and
                 "END_STREAM" in f.flags for f in got) and st == b"\x88"  # :status 200
        check(f"{name}: HTTP/2 still served", ok, f"{[type(f).__name__ for f in got]}")
    finally:
        c.close()


def group_h2():
    # RFC 9113 3.4: an invalid preface is a connection error (PROTOCOL_ERROR).
    s = connect()
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    data, closed = recv_all(s)
    s.close()
    code = None
    i = 0
    while i + 9 <= len(data):
        ln = int.from_bytes(data[i:i + 3], "big")
        if data[i + 3] == 7 and i + 17 <= len(data):
            code = int.from_bytes(data[i + 13:i + 17], "big")
        i += 9 + ln
    check("invalid connection preface -> GOAWAY PROTOCOL_ERROR", code == 1 and closed,
          f"code {code}, closed={closed}, {data[:40]!r}")
    # Not a SETTINGS frame after the preface.
    expect_goaway("preface not followed by SETTINGS", lambda c: [PingFrame(0, b"12345678")], 1,
                  settings=False)

    # RFC 9113 5.1: frames on idle streams.
    expect_goaway("DATA on an idle stream", lambda c: [DataFrame(1, b"x")], 1)
    expect_goaway("RST_STREAM on an idle stream", lambda c: [RstStreamFrame(5)], 1)
    expect_goaway("WINDOW_UPDATE on an idle stream", lambda c: [WindowUpdateFrame(7, 10)], 1)
    # RFC 9113 5.1.1: stream identifiers.
    expect_goaway("even (server-side) stream id", lambda c: [c.get(2)], 1)
    expect_goaway("decreasing stream ids", lambda c: [c.get(5), c.get(3)], 1)
    # RFC 9113 6.5.2: bad SETTINGS values.
    expect_goaway("SETTINGS_ENABLE_PUSH = 2",
                  lambda c: [raw_frame(4, 0, 0, (2).to_bytes(2, "big") + (2).to_bytes(4, "big"))], 1)
    expect_goaway("SETTINGS_INITIAL_WINDOW_SIZE = 2^31",
                  lambda c: [raw_frame(4, 0, 0, (4).to_bytes(2, "big") + (1 << 31).to_bytes(4, "big"))], 3)
    expect_goaway("SETTINGS_MAX_FRAME_SIZE = 100",
                  lambda c: [raw_frame(4, 0, 0, (5).to_bytes(2, "big") + (100).to_bytes(4, "big"))], 1)
    expect_goaway("SETTINGS with a partial entry", lambda c: [raw_frame(4, 0, 0, b"\x00\x01\x00")], 6)
    expect_goaway("SETTINGS ACK with a payload",
                  lambda c: [raw_frame(4, 1, 0, (1).to_bytes(2, "big") + (0).to_bytes(4, "big"))], 6)
    expect_goaway("SETTINGS on a stream", lambda c: [raw_frame(4, 0, 1, b"")], 1)
    # RFC 9113 4.2: a frame over SETTINGS_MAX_FRAME_SIZE (16384).
    expect_goaway("oversized frame", lambda c: [raw_frame(0, 0, 1, b"x" * 20000)], 6)
    expect_goaway("PING of 7 bytes", lambda c: [raw_frame(6, 0, 0, b"1234567")], 6)
    expect_goaway("PING on a stream", lambda c: [raw_frame(6, 0, 1, b"12345678")], 1)
    expect_goaway("RST_STREAM of 3 bytes", lambda c: [c.get(1, "/"), raw_frame(3, 0, 1, b"\0\0\0")], 6)
    # RFC 9113 4.3 / RFC 7541: bad HPACK.
    expect_goaway("bad HPACK (index out of range)",
                  lambda c: [raw_frame(1, 0x5, 1, b"\xff\xff\xff\xff\x0f")], 9)
    expect_goaway("CONTINUATION without HEADERS",
                  lambda c: [ContinuationFrame(1, b"\x82", flags=["END_HEADERS"])], 1)
    expect_goaway("HEADERS then DATA before CONTINUATION",
                  lambda c: [raw_frame(1, 0x1, 1, c.enc.encode([(":method", "GET")])),
                             DataFrame(1, b"x")], 1)
    # RFC 9113 6.9: flow control.
    expect_goaway("WINDOW_UPDATE of 0 on the connection", lambda c: [WindowUpdateFrame(0, 0)], 1)
    expect_goaway("connection window over 2^31-1",
                  lambda c: [WindowUpdateFrame(0, 0x7FFFFFFF)], 3)
    # A stream error: RST_STREAM, and the connection keeps working. Each
    # request is valid but for the one thing named (with :authority: RFC
    # 9113 8.3.1, which nghttp2 requires).
    base = [(":method", "GET"), (":scheme", "http"), (":authority", "t")]
    for name, hdrs in [
        ("missing :path", base),
        ("unknown pseudo-header", base + [(":path", "/"), (":foo", "x")]),
        ("upper-case field name", base + [(":path", "/"), ("X-Up", "x")]),
        ("pseudo-header after a field", base + [("x", "y"), (":path", "/")]),
        ("connection-specific field", base + [(":path", "/"), ("connection", "keep-alive")]),
        ("TE other than trailers", base + [(":path", "/"), ("te", "gzip")]),
        ("duplicate :path", base + [(":path", "/"), (":path", "/")]),
    ]:
        c = H2()
        try:
            c.send(c.headers(1, hdrs))
            c.send(c.get(3))
            got, closed = c.frames(lambda f: f.stream_id == 3 and "END_STREAM" in f.flags)
            code = rst_of(got, 1)
            served = any(f.stream_id == 3 and "END_STREAM" in f.flags for f in got)
            check(f"{name} -> RST_STREAM PROTOCOL_ERROR, next stream served",
                  code == 1 and served and goaway_of(got) is None,
                  f"rst {code}, goaway {goaway_of(got)}, stream 3 served={served}")
        finally:
            c.close()
    # DATA beyond the declared content-length: a stream error.
    c = H2()
    try:
        c.send(c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"),
                             (":authority", "t"), ("content-length", "2")], end_stream=False))
        c.send(DataFrame(1, b"abcdef", flags=["END_STREAM"]))
        got, _ = c.frames(lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
        check("DATA longer than content-length -> RST_STREAM PROTOCOL_ERROR",
              rst_of(got, 1) == 1, f"{[(type(f).__name__, getattr(f, 'error_code', None)) for f in got]}")
    finally:
        c.close()
    # Frames on a closed stream (RFC 9113 5.1: STREAM_CLOSED).
    c = H2()
    try:
        c.send(c.get(1))
        c.frames(lambda f: f.stream_id == 1 and "END_STREAM" in f.flags)
        c.send(DataFrame(1, b"late"))
        got, _ = c.frames(lambda f: isinstance(f, (GoAwayFrame, RstStreamFrame)))
        code = goaway_of(got) if goaway_of(got) is not None else rst_of(got, 1)
        check("DATA on a closed stream -> STREAM_CLOSED", code == 5,
              f"{[(type(f).__name__, getattr(f, 'error_code', None)) for f in got]}")
    finally:
        c.close()
    # HEADERS reopening a stream that finished (RFC 9113 5.1: closed).
    c = H2()
    try:
        c.send(c.get(1))
        c.send(c.get(3))
        c.frames(lambda f: f.stream_id == 3 and "END_STREAM" in f.flags)
        c.send(c.get(1))
        got, _ = c.frames(lambda f: isinstance(f, (GoAwayFrame, RstStreamFrame)))
        code = goaway_of(got) if goaway_of(got) is not None else rst_of(got, 1)
        check("HEADERS on a closed stream -> STREAM_CLOSED", code == 5,
              f"{[(type(f).__name__, getattr(f, 'error_code', None)) for f in got]}")
    finally:
        c.close()
    # Request bodies count against --http-max-body (1000000 here) for the
    # whole connection: two 600 kB uploads at once cannot both be held.
    c = H2()
    try:
        for sid in (1, 3):
            c.send(c.headers(sid, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"),
                                   (":authority", "t")], end_stream=False))
        chunk = b"u" * 15000
        for i in range(40):
            for sid in (1, 3):
                c.send(DataFrame(sid, chunk, flags=["END_STREAM"] if i == 39 else []))
        statuses = {}

        def status_of(f):
            if isinstance(f, HeadersFrame) and f.stream_id in (1, 3):
                statuses[f.stream_id] = f.data[:1]
            return len(statuses) == 2
        got, _ = c.frames(status_of, timeout=5)
        # HPACK static table: 0x88 is ":status 200"; 413 is a literal.
        codes = sorted(b"200" if v == b"\x88" else b"other" for v in statuses.values())
        check("two 600 kB HTTP/2 uploads over a 1 MB limit -> one 200, one 413",
              codes == [b"200", b"other"], f"{statuses} {[(type(f).__name__, f.stream_id, getattr(f, 'error_code', None)) for f in got][:12]}")
    finally:
        c.close()
    # Concurrency: many streams at once on one connection.
    c = H2()
    try:
        for sid in range(1, 60, 2):
            c.send(c.get(sid))
        done = set()
        got, _ = c.frames(lambda f: (done.add(f.stream_id) if "END_STREAM" in f.flags else None)
                          or len(done) == 30, timeout=5)
        check("30 concurrent streams all answered", len(done) == 30, f"{len(done)} answered")
        # PING is answered with the same payload.
        c.send(PingFrame(0, b"synack!!"))
        got, _ = c.frames(lambda f: isinstance(f, PingFrame) and "ACK" in f.flags)
        check("PING answered", any(isinstance(f, PingFrame) and "ACK" in f.flags and
                                   f.opaque_data == b"synack!!" for f in got), "no PING ACK")
    finally:
        c.close()
    good_h2_request("after the HTTP/2 checks")
    still_serving("after the HTTP/2 checks")


def group_goaway():
    # Run while the server is being stopped: an open HTTP/2 connection must
    # get GOAWAY (NO_ERROR) before the server goes (RFC 9113 6.8).
    c = H2()
    try:
        c.send(c.get(1))
        c.frames(lambda f: f.stream_id == 1 and "END_STREAM" in f.flags)
        print("ready", flush=True)
        got, closed = c.frames(lambda f: isinstance(f, GoAwayFrame), timeout=20)
        code = goaway_of(got)
        last = [f.last_stream_id for f in got if isinstance(f, GoAwayFrame)]
        check("GOAWAY NO_ERROR on shutdown, last stream 1", code == 0 and last == [1],
              f"code {code}, last {last}")
    finally:
        c.close()


for g in GROUPS:
    {"h1": group_h1, "slow": group_slow, "h2": group_h2, "goaway": group_goaway}[g]()
print(f"{count} checks, {failed} failed")
sys.exit(1 if failed else 0)
