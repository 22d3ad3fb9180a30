"""A small, strict client of tocsind's event stream (GET /api/v1/stream) over
a plain socket, for the tests and the stream benchmark: it decodes HTTP/1.1
chunked framing and Server-Sent Events itself, so a test controls exactly
when bytes are read (a slow consumer simply stops calling it)."""
import json
import socket
import time


class StreamClosed(Exception):
    pass


class Event:
    def __init__(self, name, eid, data):
        self.name = name
        self.id = eid
        self.data = data

    def json(self):
        return json.loads(self.data)

    def __repr__(self):
        return f"Event({self.name!r}, id={self.id!r}, {self.data[:80]!r})"


def connect(addr, rcvbuf=None, timeout=10, ssl_ctx=None):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET6 if host.startswith("[") else socket.AF_INET,
                      socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host.strip("[]"), int(port)))
    if ssl_ctx:
        s = ssl_ctx.wrap_socket(s, server_hostname=host.strip("[]"))
    return s


class Stream:
    """Opens GET /api/v1/stream?query with key (None: no Authorization)."""

    def __init__(self, addr, key, query="", headers=None, rcvbuf=None, timeout=10,
                 ssl_ctx=None):
        self.sock = connect(addr, rcvbuf=rcvbuf, timeout=timeout, ssl_ctx=ssl_ctx)
        h = [f"GET /api/v1/stream{'?' + query if query else ''} HTTP/1.1", "Host: hub",
             "Accept: text/event-stream"]
        if key:
            h.append(f"Authorization: Bearer {key}")
        for k, v in (headers or {}).items():
            h.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
        self.raw = b""
        self.data = b""
        self.heartbeats = 0
        self.ended = False
        self.closed = False
        self.last_id = None
        head = self._read_until(b"\r\n\r\n", timeout)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.body = b""
        if self.status != 200:
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n:
                self._recv(timeout)
            self.body = self.raw[:n]

    def error(self):
        return json.loads(self.body)

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            b = self.sock.recv(1 << 16)
        except ConnectionResetError:
            b = b""
        if not b:
            self.closed = True
            raise StreamClosed()
        self.raw += b

    def _read_until(self, sep, timeout):
        end = time.monotonic() + timeout
        while sep not in self.raw:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no response header")
            self._recv(left)
        head, _, self.raw = self.raw.partition(sep)
        return head

    def _dechunk(self):
        if not self.chunked:
            self.data += self.raw
            self.raw = b""
            return
        while True:
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            size = int(self.raw[:i].split(b";")[0], 16)
            if size == 0:
                self.ended = True
                self.raw = b""
                return
            if len(self.raw) < i + 2 + size + 2:
                return
            self.data += self.raw[i + 2:i + 2 + size]
            self.raw = self.raw[i + 2 + size + 2:]

    def _parse_one(self):
        """The next complete event from self.data, or None."""
        while True:
            i = self.data.find(b"\n\n")
            if i < 0:
                return None
            block, self.data = self.data[:i], self.data[i + 2:]
            name, eid, data = "message", None, []
            for line in block.split(b"\n"):
                if line.startswith(b":"):
                    self.heartbeats += line.startswith(b": heartbeat")
                    continue
                f, _, v = line.partition(b":")
                v = v[1:] if v.startswith(b" ") else v
                if f == b"event":
                    name = v.decode()
                elif f == b"id":
                    eid = v.decode()
                elif f == b"data":
                    data.append(v.decode())
            if data:
                if eid is not None:
                    self.last_id = eid
                return Event(name, eid, "\n".join(data))

    def next(self, timeout=5.0):
        """The next event, None after timeout seconds; StreamClosed at the end."""
        end = time.monotonic() + timeout
        while True:
            self._dechunk()  # bytes that came with the response header
            ev = self._parse_one()
            if ev:
                return ev
            if self.ended:
                raise StreamClosed()
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                self._recv(left)
            except (socket.timeout, TimeoutError):
                return None
            self._dechunk()

    def events(self, n, timeout=10.0, names=None):
        """n events (of the given names, others skipped); asserts they come in time."""
        out = []
        end = time.monotonic() + timeout
        while len(out) < n:
            ev = self.next(max(0.01, end - time.monotonic()))
            if ev is None:
                raise AssertionError(f"{len(out)} of {n} events in {timeout} s: {out[-3:]}")
            if names is None or ev.name in names:
                out.append(ev)
        return out

    def quiet(self, seconds, names=None):
        """Asserts no event (of names) comes for seconds; returns those that did."""
        got = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                ev = self.next(end - time.monotonic())
            except StreamClosed:
                break
            if ev and (names is None or ev.name in names):
                got.append(ev)
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
