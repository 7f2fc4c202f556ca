#!/usr/bin/python3
"""A hostile or broken HTTP server for the specs of the HTTP client (stdlib only, 127.0.0.1).

The request path says what to answer; anything after the mode's own segments is ignored, so a
client's base URL can point at a mode (`http://127.0.0.1:PORT/raw/<hex>/api/v2` makes every
request of a blacklist client get the same answer):

  /raw/<hex>                  the bytes <hex> as they are, then close
  /echo/<status>              that status with a text/plain body echoing the request (headers,
                              form body and all), Content-Length set
  /drip/<ms>/<count>/<hex>    the bytes <hex>, then <count> single "x" bytes inside a header
                              line, one every <ms> milliseconds, then the rest of a response
  /spaces/<n>                 a 200 whose header X-Pad is n spaces and a final "x", body "{}"
  /bigline/<kind>/<bytes>     a line of that many bytes as fast as the socket takes it: kind
                              status, header, chunk (a chunk-size line) or trailer
  /manyheaders/<n>            a 200 with n short header lines
  /wideheaders/<n>/<bytes>    a 200 with n header lines of that many bytes each

Start: `hostile_http.py --ready-file FILE`; it writes {"port": N, "pid": N} to FILE (atomically)
once listening and serves until SIGTERM, then removes FILE.
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

HEAD_LIMIT = 1 << 20


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or b"0")
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head, rest


def send_all(conn, data):
    try:
        conn.sendall(data)
        return True
    except OSError:
        return False


def big_line(conn, kind, size):
    if kind == "status":
        prefix, after = b"HTTP/1.1 200 " , b"\r\n\r\n"
    elif kind == "header":
        prefix, after = b"HTTP/1.1 200 OK\r\nX-Big: ", b"\r\nContent-Length: 2\r\n\r\n{}"
    elif kind == "chunk":
        prefix, after = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2",
                         b"\r\n{}\r\n0\r\n\r\n")
    else:   # trailer
        prefix, after = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"2\r\n{}\r\n0\r\nX-Trailer: ", b"\r\n\r\n")
    if not send_all(conn, prefix):
        return
    block = (b"0" if kind == "chunk" else b"a") * 65536
    left = size
    while left > 0:
        n = min(left, len(block))
        if not send_all(conn, block[:n]):
            return
        left -= n
    send_all(conn, after)


def answer(conn):
    head, body = read_request(conn)
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    seg = [s for s in path.split("?", 1)[0].split("/") if s]
    mode = seg[0] if seg else ""
    if mode == "raw":
        send_all(conn, bytes.fromhex(seg[1]))
    elif mode == "echo":
        text = head + b"\r\n\r\n" + body
        send_all(conn, ("HTTP/1.1 %s Echo\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n" % (seg[1], len(text))).encode() + text)
    elif mode == "drip":
        interval, count = int(seg[1]) / 1000.0, int(seg[2])
        start = b"HTTP/1.1 200 OK\r\nX-Drip: "
        if len(seg) > 3 and all(c in "0123456789abcdefABCDEF" for c in seg[3]) and seg[3]:
            start = bytes.fromhex(seg[3])
        if not send_all(conn, start):
            return
        for _ in range(count):
            time.sleep(interval)
            if not send_all(conn, b"x"):
                return
        send_all(conn, b"\r\nContent-Length: 2\r\n\r\n{}")
    elif mode == "spaces":
        send_all(conn, b"HTTP/1.1 200 OK\r\nX-Pad: " + b" " * int(seg[1])
                 + b"x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    elif mode == "bigline":
        big_line(conn, seg[1], int(seg[2]))
    elif mode == "wideheaders":
        n, size = int(seg[1]), int(seg[2])
        lines = b"".join(b"X-W%d: " % i + b"w" * size + b"\r\n" for i in range(n))
        send_all(conn, b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\n{}")
    elif mode == "manyheaders":
        lines = b"".join(b"X-H%d: v\r\n" % i for i in range(int(seg[1])))
        send_all(conn, b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\n{}")
    else:
        send_all(conn, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def serve_one(conn):
    try:
        conn.settimeout(120)
        answer(conn)
    except OSError:
        pass
    finally:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def stop(*_):
        try:
            os.remove(args.ready_file)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": listener.getsockname()[1], "pid": os.getpid()}, f)
    os.rename(tmp, args.ready_file)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
