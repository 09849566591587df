#!/usr/bin/env python3
"""The HTTPS server of test/configure.bats: files from DIR over TLS on 127.0.0.1:443.

    https_serve.py DIR CERT KEY PORTFILE

A path's query string is ignored (autoconfig's ?emailaddress=). Each request is logged
on stderr ("GET /path?query"); PORTFILE is written once it listens. It stops after 60 s."""
import http.server
import os
import ssl
import sys
import threading

root, cert, key, portfile = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sys.stderr.write('GET %s\n' % self.path)
        sys.stderr.flush()
        path = os.path.join(root, self.path.split('?', 1)[0].lstrip('/'))
        if '..' in self.path or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as f:
            body = f.read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(('127.0.0.1', 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
threading.Timer(60, srv.shutdown).start()
with open(portfile + '.tmp', 'w') as f:
    f.write('443\n')
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
