#!/usr/bin/env python3
"""fakeidp.py: a mock OAuth2 identity provider over HTTPS on loopback, for test/oauth.bats.

Endpoints (all under https://127.0.0.1:PORT):
  GET  /auth            authorization endpoint: checks client_id, response_type=code, a
                        loopback redirect_uri, PKCE S256; answers 302 to redirect_uri with
                        code and state (or --auth-error)
  POST /token           grant_type refresh_token | authorization_code (checks the PKCE
                        verifier) | urn:ietf:params:oauth:grant-type:device_code |
                        client_credentials (client_secret, or a private_key_jwt assertion
                        checked against --client-cert: signature, x5t#S256, aud, iss,
                        sub, exp, iat/nbf within --skew, jti not reused) |
                        urn:ietf:params:oauth:grant-type:jwt-bearer (a service account's
                        assertion checked against --sa-cert: signature, kid, iss, sub,
                        scope, aud, iat/exp); app grants get no refresh token. Their
                        refusals are worded as Entra's (AADSTS codes) and Google's.
                        Signatures are checked with python3-cryptography (imported only
                        then: run this with /usr/bin/python3 for those grants).
  POST /device          device authorization (RFC 8628 3.1)
  GET  /device/verify   the user "enters the code" (?user_code=...): approves it

Files in --dir:
  port                  the port, once listening
  access_tokens         every unexpired access token issued, one a line
                        (for fakesmtp.py --oauth-token-file)
  refresh_tokens        the refresh tokens currently valid, one a line
  requests.jsonl        one JSON object per request: n, t, method, path, query, form,
                        headers
  stats.json            the refresh grant's record: refreshes (requests with
                        grant_type refresh_token), overlaps (refreshes that began while
                        another was in progress), max_concurrent, reused (a refresh token
                        that --rotate had already replaced: a broken chain), invalid_grant
  server.log            diagnostics
  assertions.jsonl      header and claims of each JWT assertion received

Faults for the token endpoint (--fail KIND[@N], N counts token requests from 1; without
@N every request): invalid_grant, invalid_grant_ms (Microsoft's body with an AADSTS
code), invalid_client, 500, 503, slow:SECONDS, malformed (200 with a body that is not
JSON), html (502 with an HTML page), close (no answer at all), no_access_token.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.n_requests = 0
        self.n_token = 0
        self.refresh = set(a.refresh_token)
        self.access = {}            # token -> expiry (monotonic)
        self.codes = {}             # code -> dict
        self.devices = {}           # device_code -> dict
        self.jtis = set()           # client assertions seen
        self.faults = []            # (kind, n or None)
        self.retired = set()        # refresh tokens replaced by --rotate
        self.stats = {'refreshes': 0, 'overlaps': 0, 'max_concurrent': 0, 'in_flight': 0,
                      'reused': 0, 'invalid_grant': 0}
        for f in a.fail:
            kind, _, n = f.partition('@')
            self.faults.append((kind, int(n) if n else None))
        self.save()
        self.save_stats()

    def log(self, msg):
        with open(os.path.join(self.a.dir, 'server.log'), 'a') as f:
            f.write('%.3f %s\n' % (time.time(), msg))

    def write(self, name, lines):
        path = os.path.join(self.a.dir, name)
        tmp = path + '.tmp.%d' % threading.get_ident()
        with open(tmp, 'w') as f:
            for l in lines:
                f.write(l + '\n')
        os.replace(tmp, path)

    def save_stats(self):
        path = os.path.join(self.a.dir, 'stats.json')
        tmp = path + '.tmp.%d' % threading.get_ident()
        with open(tmp, 'w') as f:
            json.dump(self.stats, f)
        os.replace(tmp, path)

    def save(self):
        now = time.monotonic()
        self.write('access_tokens', [t for t, exp in self.access.items() if exp > now])
        self.write('refresh_tokens', sorted(self.refresh))

    def record(self, entry):
        with open(os.path.join(self.a.dir, 'requests.jsonl'), 'a') as f:
            f.write(json.dumps(entry) + '\n')

    def fault(self, n):
        for kind, at in self.faults:
            if at is None or at == n:
                return kind
        return None

    def new_access(self):
        size = max(self.a.token_size, 16)
        t = 'at-' + secrets.token_urlsafe(size)[:size - 3]
        self.access[t] = time.monotonic() + max(self.a.expires_in, 1)
        return t

    def new_refresh(self):
        t = 'rt-' + secrets.token_urlsafe(24)
        self.refresh.add(t)
        return t


def b64url_sha256(s):
    d = hashlib.sha256(s.encode('ascii')).digest()
    return base64.urlsafe_b64encode(d).decode('ascii').rstrip('=')


MS_INVALID_GRANT = {
    'error': 'invalid_grant',
    'error_description': 'AADSTS70008: The provided authorization code or refresh token has '
                         'expired due to inactivity. Send a new interactive authorization '
                         'request for this user and resource.\r\nTrace ID: 0a1b2c3d-0000-'
                         '4000-8000-000000000000\r\nCorrelation ID: 11111111-2222-3333-4444-'
                         '555555555555\r\nTimestamp: 2026-01-01 00:00:00Z',
    'error_codes': [70008],
    'timestamp': '2026-01-01 00:00:00Z',
    'trace_id': '0a1b2c3d-0000-4000-8000-000000000000',
    'correlation_id': '11111111-2222-3333-4444-555555555555',
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'fakeidp/1'
    st = None

    def log_message(self, fmt, *args):
        self.st.log('%s %s' % (self.address_string(), fmt % args))

    # ---- replies
    def reply(self, code, obj=None, raw=None, ctype='application/json', headers=None):
        body = raw if raw is not None else json.dumps(obj).encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Cache-Control', 'no-store')
        self.send_header('Connection', 'close')
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.st.a.chunked and body:
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            # Small, uneven chunks, with an extension and a trailer, to exercise the parser.
            i, sizes = 0, [1, 7, 300, 4096]
            k = 0
            while i < len(body):
                n = sizes[k % len(sizes)]
                k += 1
                piece = body[i:i + n]
                ext = ';x=1' if k == 2 else ''
                self.wfile.write(b'%x%s\r\n' % (len(piece), ext.encode()) + piece + b'\r\n')
                self.wfile.flush()
                i += n
            self.wfile.write(b'0\r\nX-Trailer: yes\r\n\r\n')
        else:
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def oauth_error(self, code, err, desc=None):
        obj = {'error': err}
        if desc:
            obj['error_description'] = desc
        self.reply(code, obj)

    # ---- plumbing
    def entry(self, form):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        with self.st.lock:
            self.st.n_requests += 1
            n = self.st.n_requests
        e = {'n': n, 't': time.time(), 'method': self.command, 'path': u.path, 'query': q,
             'form': form,
             'headers': {k.lower(): v for k, v in self.headers.items()}}
        self.st.record(e)
        return u.path, q

    def read_form(self):
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else b''
        ctype = self.headers.get('Content-Type', '')
        if not ctype.startswith('application/x-www-form-urlencoded'):
            return None
        return dict(urllib.parse.parse_qsl(raw.decode('utf-8'), keep_blank_values=True,
                                           strict_parsing=False))

    def do_GET(self):
        path, q = self.entry(None)
        if path == '/auth':
            return self.authorize(q)
        if path == '/device/verify':
            return self.device_verify(q)
        self.reply(404, {'error': 'not_found'})

    def do_POST(self):
        form = self.read_form()
        path, _q = self.entry(form)
        if form is None:
            return self.oauth_error(400, 'invalid_request', 'not a form')
        if path == '/token':
            return self.token(form)
        if path == '/device':
            return self.device(form)
        self.reply(404, {'error': 'not_found'})

    def client_ok(self, form):
        a = self.st.a
        if form.get('client_id') != a.client_id:
            return False
        if a.client_secret is not None and form.get('client_secret') != a.client_secret:
            return False
        return True

    # ---- authorization endpoint
    def authorize(self, q):
        a = self.st.a
        redirect = q.get('redirect_uri', '')
        u = urllib.parse.urlsplit(redirect)
        if not (u.scheme == 'http' and u.hostname in ('127.0.0.1', 'localhost', '::1')
                and u.port):
            return self.reply(400, raw=b'bad redirect_uri', ctype='text/plain')
        if q.get('client_id') != a.client_id:
            return self.reply(400, raw=b'unknown client_id', ctype='text/plain')
        if q.get('response_type') != 'code':
            return self.reply(400, raw=b'response_type must be code', ctype='text/plain')
        ch = q.get('code_challenge', '')
        if q.get('code_challenge_method') != 'S256' or len(ch) != 43:
            return self.reply(400, raw=b'PKCE S256 required', ctype='text/plain')
        params = {'state': q['state']} if 'state' in q else {}
        if a.auth_error:
            params.update({'error': a.auth_error,
                           'error_description': 'The user denied the request'})
        else:
            code = 'code-' + secrets.token_urlsafe(16)
            with self.st.lock:
                self.st.codes[code] = {'challenge': ch, 'redirect_uri': redirect,
                                       'scope': q.get('scope', '')}
            params['code'] = code
        sep = '&' if '?' in redirect else '?'
        loc = redirect + sep + urllib.parse.urlencode(params)
        self.reply(302, raw=b'', ctype='text/plain', headers={'Location': loc})

    # ---- device flow
    def device(self, form):
        a = self.st.a
        if form.get('client_id') != a.client_id:
            return self.oauth_error(400, 'invalid_client', 'unknown client')
        dc = 'dc-' + secrets.token_urlsafe(16)
        uc = '%04d-%04d' % (secrets.randbelow(10000), secrets.randbelow(10000))
        host = 'https://127.0.0.1:%d' % self.server.server_address[1]
        with self.st.lock:
            self.st.devices[dc] = {'user_code': uc, 'approved': False, 'polls': 0,
                                   'last': 0.0, 'expires': time.monotonic() +
                                   a.device_expires_in}
        self.reply(200, {'device_code': dc, 'user_code': uc,
                         'verification_uri': host + '/device/verify',
                         'verification_uri_complete': host + '/device/verify?user_code=' + uc,
                         'expires_in': a.device_expires_in, 'interval': a.device_interval})

    def device_verify(self, q):
        uc = q.get('user_code')
        with self.st.lock:
            for d in self.st.devices.values():
                if d['user_code'] == uc:
                    d['approved'] = True
                    self.reply(200, raw=b'approved\n', ctype='text/plain')
                    return
        self.reply(404, raw=b'no such code\n', ctype='text/plain')

    # ---- token endpoint
    def issue(self, refresh=None, with_refresh=True):
        st = self.st
        at = st.new_access()
        obj = {'access_token': at, 'token_type': 'Bearer', 'expires_in': st.a.expires_in,
               'scope': st.a.scope}
        if with_refresh:
            obj['refresh_token'] = refresh if refresh else st.new_refresh()
        st.save()
        return obj

    def refresh(self, form):
        """The refresh grant; counted in stats.json, held open --refresh-delay seconds so
        that two clients refreshing at once overlap here and are seen."""
        st = self.st
        a = st.a
        rt = form.get('refresh_token')
        with st.lock:
            k = st.stats
            k['refreshes'] += 1
            k['in_flight'] += 1
            if k['in_flight'] > 1:
                k['overlaps'] += 1
                st.log('refresh overlapping another (%d in flight)' % k['in_flight'])
            k['max_concurrent'] = max(k['max_concurrent'], k['in_flight'])
            st.save_stats()
        try:
            if a.refresh_delay > 0:
                time.sleep(a.refresh_delay)
            with st.lock:
                if rt not in st.refresh:
                    st.stats['invalid_grant'] += 1
                    if rt in st.retired:
                        st.stats['reused'] += 1
                        st.log('refresh with a rotated-away token: the chain is broken')
                    st.log('refresh with an invalid token')
                    return self.oauth_error(400, 'invalid_grant',
                                            'Token has been expired or revoked.')
                if a.rotate:
                    st.refresh.discard(rt)
                    st.retired.add(rt)
                    obj = self.issue()
                else:
                    obj = self.issue(with_refresh=a.return_refresh)
                    if a.return_refresh:
                        obj['refresh_token'] = rt
            return self.reply(200, obj)
        finally:
            with st.lock:
                st.stats['in_flight'] -= 1
                st.save_stats()

    def token(self, form):
        st = self.st
        a = st.a
        with st.lock:
            st.n_token += 1
            n = st.n_token
        kind = st.fault(n)
        if kind:
            st.log('token request %d: fault %s' % (n, kind))
            if kind.startswith('slow:'):
                time.sleep(float(kind[5:]))
                kind = None
            elif kind == 'close':
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            elif kind == 'invalid_grant':
                return self.oauth_error(400, 'invalid_grant',
                                        'Token has been expired or revoked.')
            elif kind == 'invalid_grant_ms':
                return self.reply(400, MS_INVALID_GRANT)
            elif kind == 'invalid_client':
                return self.oauth_error(401, 'invalid_client', 'The OAuth client was not '
                                        'found.')
            elif kind in ('500', '503'):
                return self.reply(int(kind), raw=b'Internal error\n', ctype='text/plain')
            elif kind == 'malformed':
                return self.reply(200, raw=b'{"access_token": "at-x", "expires_in": ',
                                  ctype='application/json')
            elif kind == 'html':
                return self.reply(502, raw=b'<html><body>Bad Gateway</body></html>',
                                  ctype='text/html')
            elif kind == 'no_access_token':
                return self.reply(200, {'token_type': 'Bearer', 'expires_in': 3600})
        gt = form.get('grant_type')
        if gt == 'client_credentials':
            return self.client_credentials(form)
        if gt == 'urn:ietf:params:oauth:grant-type:jwt-bearer':
            return self.jwt_bearer(form)
        if not self.client_ok(form):
            return self.oauth_error(401, 'invalid_client', 'Unauthorized')
        if gt == 'refresh_token':
            return self.refresh(form)
        if gt == 'authorization_code':
            with st.lock:
                c = st.codes.pop(form.get('code', ''), None)
                if c is None:
                    return self.oauth_error(400, 'invalid_grant', 'Bad code.')
                if form.get('redirect_uri') != c['redirect_uri']:
                    return self.oauth_error(400, 'invalid_grant', 'redirect_uri mismatch')
                v = form.get('code_verifier', '')
                if not (43 <= len(v) <= 128) or b64url_sha256(v) != c['challenge']:
                    return self.oauth_error(400, 'invalid_grant', 'Invalid code verifier.')
                obj = self.issue(with_refresh=not a.no_refresh_in_code)
            return self.reply(200, obj)
        if gt == 'urn:ietf:params:oauth:grant-type:device_code':
            with st.lock:
                d = st.devices.get(form.get('device_code', ''))
                if d is None:
                    return self.oauth_error(400, 'invalid_grant', 'unknown device_code')
                d['polls'] += 1
                now = time.monotonic()
                d['last'] = now
                if a.device_deny:
                    return self.oauth_error(400, 'access_denied', 'The user declined.')
                if now > d['expires'] or a.device_expire:
                    return self.oauth_error(400, 'expired_token', 'The code expired.')
                if d['polls'] <= a.device_slow_down:
                    return self.oauth_error(400, 'slow_down')
                if not d['approved'] and not (a.device_auto and
                                              d['polls'] > a.device_slow_down + a.device_auto):
                    return self.oauth_error(400, 'authorization_pending')
                obj = self.issue()
            return self.reply(200, obj)
        return self.oauth_error(400, 'unsupported_grant_type')


    # ---- app grants: client credentials and JWT bearer (RFC 7523)
    def audiences(self):
        port = self.server.server_address[1]
        return ('https://localhost:%d/token' % port, 'https://127.0.0.1:%d/token' % port)

    def jwt(self, token, cert_path):
        """(header, claims, None) of a verified RS256 JWT, or (header, claims, why)."""
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        def dec(p):
            return base64.urlsafe_b64decode(p + '=' * (-len(p) % 4))
        try:
            h64, c64, s64 = token.split('.')
            header, claims, sig = json.loads(dec(h64)), json.loads(dec(c64)), dec(s64)
        except (ValueError, TypeError):
            return {}, {}, 'malformed'
        with open(os.path.join(self.st.a.dir, 'assertions.jsonl'), 'a') as f:
            f.write(json.dumps({'header': header, 'claims': claims}) + '\n')
        if header.get('alg') != 'RS256':
            return header, claims, 'alg'
        cert = x509.load_pem_x509_certificate(open(cert_path, 'rb').read())
        der = cert.public_bytes(serialization.Encoding.DER)
        header['_x5t_expected'] = base64.urlsafe_b64encode(
            hashlib.sha256(der).digest()).decode().rstrip('=')
        try:
            cert.public_key().verify(sig, (h64 + '.' + c64).encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
        except InvalidSignature:
            return header, claims, 'signature'
        return header, claims, None

    def times_ok(self, c, longest):
        now, skew = time.time(), self.st.a.skew
        try:
            iat, exp, nbf = c['iat'], c['exp'], c.get('nbf', c['iat'])
        except KeyError:
            return False
        return (abs(iat - now) <= skew and nbf <= now + skew and exp > now - skew and
                exp - iat <= longest)

    def app_token(self):
        with self.st.lock:
            obj = self.issue(with_refresh=False)
        return self.reply(200, obj)

    def client_credentials(self, form):
        a = self.st.a
        if form.get('scope') != a.app_scope:
            return self.oauth_error(400, 'invalid_scope',
                                    "AADSTS70011: The provided value for the input "
                                    "parameter 'scope' is not valid.")
        if 'client_assertion' not in form:
            if form.get('client_id') != a.client_id:
                return self.oauth_error(400, 'unauthorized_client',
                                        "AADSTS700016: Application with identifier '%s' "
                                        "was not found in the directory."
                                        % form.get('client_id'))
            if a.app_secret is None or form.get('client_secret') != a.app_secret:
                return self.oauth_error(401, 'invalid_client',
                                        'AADSTS7000215: Invalid client secret provided. '
                                        'Ensure the secret being sent in the request is '
                                        'the client secret value, not the client secret '
                                        'ID.')
            return self.app_token()
        if form.get('client_assertion_type') != \
                'urn:ietf:params:oauth:client-assertion-type:jwt-bearer':
            return self.oauth_error(400, 'invalid_request', 'AADSTS50027: bad '
                                    'client_assertion_type')
        if not a.client_cert:
            return self.oauth_error(401, 'invalid_client', 'AADSTS700027: no certificate '
                                    'registered')
        h, c, why = self.jwt(form['client_assertion'], a.client_cert)
        if why is None and h.get('x5t#S256') != h.get('_x5t_expected'):
            why = 'x5t'
        if why in ('x5t', 'signature'):
            return self.oauth_error(401, 'invalid_client',
                                    'AADSTS700027: The certificate with identifier used to '
                                    'sign the client assertion is not registered on '
                                    'application.')
        if why:
            return self.oauth_error(400, 'invalid_request', 'AADSTS50027: JWT token is '
                                    'invalid or malformed (%s).' % why)
        if c.get('aud') not in self.audiences():
            return self.oauth_error(401, 'invalid_client', 'AADSTS700016: aud is not the '
                                    'token endpoint.')
        if not (c.get('iss') == c.get('sub') == a.client_id and
                form.get('client_id', a.client_id) == a.client_id):
            return self.oauth_error(401, 'invalid_client', 'AADSTS700023: iss and sub '
                                    'must be the client ID.')
        if not self.times_ok(c, 3600):
            return self.oauth_error(401, 'invalid_client', 'AADSTS700024: Client assertion '
                                    'is not within its valid time range.')
        with self.st.lock:
            if c.get('jti') in self.st.jtis or not c.get('jti'):
                return self.oauth_error(401, 'invalid_client', 'AADSTS700025: jti reused.')
            self.st.jtis.add(c['jti'])
        return self.app_token()

    def jwt_bearer(self, form):
        a = self.st.a
        if not a.sa_cert:
            return self.oauth_error(400, 'invalid_grant', 'no service account')
        h, c, why = self.jwt(form.get('assertion', ''), a.sa_cert)
        if why is None and h.get('kid') != a.sa_key_id:
            why = 'signature'
        if why == 'signature':
            return self.oauth_error(400, 'invalid_grant', 'Invalid JWT Signature.')
        if why:
            return self.oauth_error(400, 'invalid_grant', 'Invalid JWT (%s).' % why)
        if c.get('iss') != a.sa_email:
            return self.oauth_error(400, 'invalid_grant', 'Invalid issuer.')
        if c.get('aud') not in self.audiences():
            return self.oauth_error(400, 'invalid_grant', 'Invalid JWT: aud.')
        if not self.times_ok(c, 3600):
            return self.oauth_error(400, 'invalid_grant',
                                    'Invalid JWT: Token must be a short-lived token (60 '
                                    'minutes) and in a reasonable timeframe. Check your '
                                    'iat and exp values in the JWT claim.')
        if c.get('sub') != a.sa_sub:
            return self.oauth_error(400, 'invalid_grant', 'Invalid email or User ID')
        if c.get('scope') != 'https://mail.google.com/':
            return self.oauth_error(400, 'unauthorized_client',
                                    'Client is unauthorized to retrieve access tokens '
                                    'using this method, or client not authorized for any '
                                    'of the scopes requested.')
        return self.app_token()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def get_request(self):
        s, addr = self.socket.accept()
        s.settimeout(10)
        return self.ctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            Handler.st.log('handshake failed: %s' % e)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        Handler.st.log('error: %s' % (sys.exc_info()[1],))


def main():
    p = argparse.ArgumentParser(description='mock OAuth2 identity provider for tests')
    p.add_argument('--dir', required=True)
    p.add_argument('--port-file')
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--lifetime', type=float, default=60)
    p.add_argument('--client-id', default='client-1')
    p.add_argument('--client-secret')
    p.add_argument('--scope', default='https://mail.google.com/')
    p.add_argument('--refresh-token', action='append', default=[],
                   help='a valid refresh token to start with')
    p.add_argument('--rotate', action='store_true',
                   help='every refresh issues a new refresh token and revokes the old one')
    p.add_argument('--return-refresh', action='store_true',
                   help='without --rotate: send the same refresh token back')
    p.add_argument('--expires-in', type=int, default=3600)
    p.add_argument('--refresh-delay', type=float, default=0,
                   help='seconds each refresh grant takes (overlaps become visible)')
    p.add_argument('--token-size', type=int, default=40, help='access token length')
    p.add_argument('--chunked', action='store_true', help='chunked response bodies')
    p.add_argument('--fail', action='append', default=[], metavar='KIND[@N]')
    p.add_argument('--auth-error', help='the authorization endpoint answers with this error')
    p.add_argument('--no-refresh-in-code', action='store_true')
    p.add_argument('--device-interval', type=int, default=1)
    p.add_argument('--device-expires-in', type=int, default=600)
    p.add_argument('--device-slow-down', type=int, default=0,
                   help='answer the first N polls with slow_down')
    p.add_argument('--device-auto', type=int, default=0,
                   help='approve by itself after N authorization_pending answers')
    p.add_argument('--device-expire', action='store_true')
    p.add_argument('--device-deny', action='store_true')
    p.add_argument('--app-secret', help='client_credentials: the client secret')
    p.add_argument('--app-scope', default='https://outlook.office365.com/.default')
    p.add_argument('--client-cert', help='client_credentials: the registered certificate')
    p.add_argument('--sa-cert', help='jwt-bearer: the service account key\'s certificate')
    p.add_argument('--sa-email', default='mailer@proj.iam.gserviceaccount.com')
    p.add_argument('--sa-key-id', default='kid-1')
    p.add_argument('--sa-sub', default='joe@example.com', help='the mailbox delegated')
    p.add_argument('--skew', type=float, default=300,
                   help='seconds an assertion\'s iat and nbf may be off')
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)

    st = State(a)
    Handler.st = st
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = Server(('127.0.0.1', 0), Handler, ctx)
    port = srv.server_address[1]
    st.log('listening on port %d' % port)
    if a.port_file:
        tmp = a.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.replace(tmp, a.port_file)
    t = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05},
                         daemon=True)
    t.start()
    time.sleep(a.lifetime)
    st.log('exiting')
    os._exit(0)


if __name__ == '__main__':
    main()
