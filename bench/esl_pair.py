#!/usr/bin/env python3
"""esl_pair.py - bridges parked channels two by two over the event socket, for
bench/bridged_calls.sh: subscribes to CHANNEL_PARK and sends `uuid_bridge A B`
for the channels whose caller numbers are bench<2k-1> and bench<2k> (SIPp's call
numbers), as soon as both parked. Exits 0 once PAIRS bridges succeeded, 1 after
TIMEOUT_S seconds. Prints one figure per line.

With ROOM_SIZE, each parked channel bench<n> is sent to conference room
8<(n-1) / ROOM_SIZE> instead (`uuid_transfer <uuid> 8<room>`, an extension of
bench/common.sh), and PAIRS counts members.

    esl_pair.py ESL_PORT PASSWORD PAIRS TIMEOUT_S [ROOM_SIZE]
"""
import socket
import sys
import time
import urllib.parse


class Reader:
    """ESL frames from a socket: (headers, body); None when nothing came for a second."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        if not chunk:
            raise EOFError
        self.buf += chunk
        return True

    def frame(self):
        while b"\n\n" not in self.buf:
            if not self._fill():
                return None
        head, rest = self.buf.split(b"\n\n", 1)
        hdrs = {}
        for line in head.decode().split("\n"):
            if ": " in line:
                k, v = line.split(": ", 1)
                hdrs[k] = v
        n = int(hdrs.get("Content-Length", "0"))
        while len(rest) < n:
            if not self._fill():
                return None
            head, rest = self.buf.split(b"\n\n", 1)
        self.buf = rest[n:]
        return hdrs, rest[:n].decode(errors="replace")

    def wait(self):
        while True:
            f = self.frame()
            if f:
                return f


def main():
    port, pw, pairs, timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    room_size = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    verb = "uuid_transfer" if room_size else "uuid_bridge"
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(1.0)
    deadline = time.time() + timeout
    rd = Reader(sock)
    rd.wait()                                    # auth/request
    sock.sendall(("auth %s\n\n" % pw).encode())
    if "+OK" not in rd.wait()[0].get("Reply-Text", ""):
        print("esl_pair: authentication failed", file=sys.stderr)
        return 2
    sock.sendall(b"event plain CHANNEL_PARK\n\n")
    rd.wait()
    # The caller starts placing calls only now, or the first parks go unseen.
    print("esl_pair: subscribed", file=sys.stderr, flush=True)
    parked, bridged, failed = {}, 0, 0
    t0 = time.time()
    while bridged < pairs and time.time() < deadline:
        try:
            f = rd.frame()
        except EOFError:
            break
        if not f:
            continue
        hdrs, body = f
        ctype = hdrs.get("Content-Type", "")
        if ctype == "text/event-plain":
            ev = {}
            for line in body.split("\n"):
                if ": " in line:
                    k, v = line.split(": ", 1)
                    ev[k] = urllib.parse.unquote(v)
            num = ev.get("Caller-Caller-ID-Number", "")
            if ev.get("Event-Name") == "CHANNEL_PARK" and num.startswith("bench"):
                n = int(num[5:])
                if room_size:
                    sock.sendall(("api uuid_transfer %s 8%d XML default\n\n" %
                                  (ev["Unique-ID"], (n - 1) // room_size)).encode())
                    continue
                key = (n + 1) // 2
                other = parked.pop(key, None)
                if other is None:
                    parked[key] = (n, ev["Unique-ID"])
                else:
                    a, b = sorted([other, (n, ev["Unique-ID"])])
                    sock.sendall(("api uuid_bridge %s %s\n\n" % (a[1], b[1])).encode())
        elif ctype == "api/response":
            if body.startswith("+OK"):
                bridged += 1
            else:
                failed += 1
                print("esl_pair: %s: %s" % (verb, body.strip()), file=sys.stderr)
    what = "members_joined" if room_size else "pairs_bridged"
    print("%-20s %d" % (what, bridged))
    print("%-20s %d" % ("transfer_failures" if room_size else "bridge_failures", failed))
    print("%-20s %.1f" % ("joining_seconds" if room_size else "bridging_seconds",
                          time.time() - t0))
    return 0 if bridged >= pairs else 1


if __name__ == "__main__":
    sys.exit(main())
