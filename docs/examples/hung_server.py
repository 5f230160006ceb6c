"""An HTTP service that hangs, for the README's first recipe.

GET /price answers from a table of prices.  A background thread refreshes
the table every minute, holding the table's lock while it asks an upstream
service; that upstream accepts the connection and never answers, so the
refresh never ends, the lock is never released, and every request waits.

usage: python3 hung_server.py [PORT]      (default 8000; Ctrl-C stops it)
"""
import http.server
import os
import socket
import sys
import threading
import time


class PriceTable:
    def __init__(self, upstream):
        self.lock = threading.Lock()
        self.prices = {}
        self.upstream = upstream

    def refresh(self):
        with self.lock:
            self.prices = fetch_prices(self.upstream)

    def lookup(self, item):
        with self.lock:
            return self.prices.get(item)


def fetch_prices(address):
    with socket.create_connection(address) as conn:
        conn.sendall(b"PRICES\n")
        reply = conn.recv(65536)            # no timeout: waits forever
    return dict(line.split("=", 1) for line in reply.decode().splitlines())


def refresh_every_minute(table):
    while True:
        table.refresh()
        time.sleep(60)


class Handler(http.server.BaseHTTPRequestHandler):
    table = None

    def do_GET(self):
        price = self.table.lookup(self.path.strip("/"))
        body = ("%s\n" % price).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    # The "upstream": a socket that is listened on but never accepted from,
    # so a connection to it succeeds and a read from it never returns.
    upstream = socket.socket()
    upstream.bind(("127.0.0.1", 0))
    upstream.listen(8)
    Handler.table = PriceTable(upstream.getsockname())
    threading.Thread(target=refresh_every_minute, args=(Handler.table,),
                     name="price-refresher", daemon=True).start()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("hung_server.py: pid %d, serving on 127.0.0.1:%d"
          % (os.getpid(), port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
