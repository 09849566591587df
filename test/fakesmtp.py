#!/usr/bin/env python3
"""fakesmtp.py -- scriptable fake SMTP server for the mailout test suites.

Python 3 stdlib only. Listens on 127.0.0.1 (default port 0 = kernel-chosen), writes the port
to --port-file (atomically), serves connections in threads, records everything in --dir.
Run with --help for the options; test/lib/fakesmtp.bash wraps it for bats.

Stage names for --reply/--disconnect/--delay/--drip/--raw-reply (case-insensitive; append @N to
restrict to the Nth connection, 1-based):
  greeting ehlo helo starttls auth mail mail:N rcpt rcpt:N rcpt:ADDR data dot bdat rset quit
  noop vrfy unknown      and for --disconnect only: middata
mail:N is the Nth MAIL on the connection, rcpt:N the Nth RCPT of the transaction.
Lookup order for one reply: most specific stage first (rcpt:ADDR, rcpt:N, rcpt), for each
the @CONN form before the general one.

Records in --dir: transcript, transcript.N, events (JSON lines), msg-K.eml/msg-K.env,
rejected-K.eml/rejected-K.env, client-cert.txt, server.log.
"""

import argparse
import base64
import codecs
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback

DEFAULT_CAPS = "PIPELINING,SIZE 10485760,8BITMIME,SMTPUTF8,DSN,ENHANCEDSTATUSCODES,CHUNKING"
OAUTH_FAIL_JSON = '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'


class Closed(Exception):
    """Connection is over (client closed, or server decided to close)."""

    def __init__(self, by):
        super().__init__(by)
        self.by = by


class AuthCancel(Exception):
    pass


class AuthBadB64(Exception):
    pass


# --------------------------------------------------------------------------- config

def split_stage(key):
    key = key.strip().lower()
    m = re.match(r'^(.*)@(\d+)$', key)
    if m:
        return m.group(1), int(m.group(2))
    return key, None


def parse_reply_value(v):
    v = v.replace('\\n', '\n')
    if ' ' in v:
        code, text = v.split(' ', 1)
    elif '\n' in v:
        code, text = v.split('\n', 1)
    else:
        code, text = v, ''
    return code, text


class Config:
    def __init__(self, a):
        self.a = a
        self.reply = {}
        self.raw = {}
        self.delay = {}
        self.drip = {}
        self.disconnect = set()
        for item in a.reply:
            if '=' not in item:
                sys.exit('fakesmtp: --reply needs STAGE=CODE TEXT: %r' % item)
            k, v = item.split('=', 1)
            self.reply[split_stage(k)] = parse_reply_value(v)
        for item in a.raw_reply:
            if '=' not in item:
                sys.exit('fakesmtp: --raw-reply needs STAGE=BYTES: %r' % item)
            k, v = item.split('=', 1)
            self.raw[split_stage(k)] = codecs.escape_decode(v.encode('latin-1'))[0]
        for item in a.delay:
            if '=' not in item:
                sys.exit('fakesmtp: --delay needs STAGE=SECONDS: %r' % item)
            k, v = item.rsplit('=', 1)
            self.delay[split_stage(k)] = float(v)
        for item in a.drip:
            if '=' not in item:
                sys.exit('fakesmtp: --drip needs STAGE=SECONDS: %r' % item)
            k, v = item.rsplit('=', 1)
            self.drip[split_stage(k)] = float(v)
        for item in a.disconnect:
            self.disconnect.add(split_stage(item))

    @staticmethod
    def _find(table, keys, conn):
        for k in keys:
            if (k, conn) in table:
                return True, table[(k, conn)] if isinstance(table, dict) else True
            if (k, None) in table:
                return True, table[(k, None)] if isinstance(table, dict) else True
        return False, None

    def get(self, what, keys, conn):
        return self._find(getattr(self, what), keys, conn)


# --------------------------------------------------------------------------- server

class Server:
    def __init__(self, a):
        self.a = a
        self.cfg = Config(a)
        self.dir = a.dir
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.Lock()
        self.transcript = open(os.path.join(self.dir, 'transcript'), 'ab')
        self.events = open(os.path.join(self.dir, 'events'), 'ab')
        self.logf = open(os.path.join(self.dir, 'server.log'), 'a')
        self.msg_count = 0
        self.rej_count = 0
        self.finished = 0
        self.sni = {}
        self.caps = [c.strip() for c in a.caps.split(',') if c.strip()] if a.caps else []
        self.auth_mechs = a.auth_mechs.upper().split() if a.auth_mechs else []
        self.ctx = None
        if a.tls_cert:
            self.ctx = self.make_ctx()

    def make_ctx(self):
        a = self.a
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key or None)
        vers = {'1.0': ssl.TLSVersion.TLSv1, '1.1': ssl.TLSVersion.TLSv1_1,
                '1.2': ssl.TLSVersion.TLSv1_2, '1.3': ssl.TLSVersion.TLSv1_3}
        if a.tls_min:
            ctx.minimum_version = vers[a.tls_min]
        if a.tls_max:
            ctx.maximum_version = vers[a.tls_max]
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED if a.require_client_cert else ssl.CERT_OPTIONAL

        def sni_cb(sslobj, name, _ctx):
            with self.lock:
                self.sni[id(sslobj)] = name
            return None
        ctx.sni_callback = sni_cb
        return ctx

    def log(self, msg):
        with self.lock:
            self.logf.write('%s %s\n' % (time.strftime('%H:%M:%S'), msg))
            self.logf.flush()

    def event(self, obj):
        line = (json.dumps(obj, separators=(',', ':')) + '\n').encode()
        with self.lock:
            self.events.write(line)
            self.events.flush()

    def record_c2s(self, conn, data):
        with self.lock:
            self.transcript.write(data)
            self.transcript.flush()
            conn.tfile.write(data)
            conn.tfile.flush()
        self.event({'conn': conn.n, 'dir': 'c2s', 'tls': conn.tls,
                    'data': data.decode('latin-1'), 'len': len(data)})

    def next_msg(self, accepted):
        with self.lock:
            if accepted:
                self.msg_count += 1
                return self.msg_count
            self.rej_count += 1
            return self.rej_count

    def write_file(self, name, data):
        path = os.path.join(self.dir, name)
        tmp = path + '.tmp'
        with open(tmp, 'wb') as f:
            f.write(data)
        os.rename(tmp, path)


class Conn:
    def __init__(self, srv, sock, n):
        self.srv = srv
        self.a = srv.a
        self.cfg = srv.cfg
        self.sock = sock
        self.n = n
        self.buf = bytearray()
        self.pos = 0
        self.tls = False
        self.helo = False
        self.authed = False
        self.client_cert = None
        self.nmail = 0
        self.auth_sent = []
        self.auth_pw = None
        self.tfile = open(os.path.join(srv.dir, 'transcript.%d' % n), 'ab')
        self.reset_txn()

    def reset_txn(self):
        self.mail = None
        self.rcpts = []
        self.nrcpt = 0
        self.chunks = None
        self.bdat_failed = False

    # ---- I/O
    def recv(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionError, ssl.SSLError, OSError) as e:
            self.srv.event({'conn': self.n, 'event': 'recv-error', 'error': str(e)})
            raise Closed('error')
        if not data:
            raise Closed('client')
        self.srv.record_c2s(self, data)
        return data

    def readline(self):
        while True:
            i = self.buf.find(b'\n', self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i + 1])
                self.pos = i + 1
                return line
            if self.pos:
                del self.buf[:self.pos]
                self.pos = 0
            self.buf += self.recv()

    def readexact(self, n, middata=False, got=0):
        out = []
        while n > 0:
            avail = len(self.buf) - self.pos
            if avail == 0:
                del self.buf[:]
                self.pos = 0
                self.buf += self.recv()
                continue
            take = min(avail, n)
            out.append(bytes(self.buf[self.pos:self.pos + take]))
            self.pos += take
            n -= take
            got += take
            if middata and got >= 1024:
                self.srv.event({'conn': self.n, 'event': 'disconnect', 'stage': 'middata'})
                raise Closed('server')
        return b''.join(out)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (ConnectionError, ssl.SSLError, OSError) as e:
            self.srv.event({'conn': self.n, 'event': 'send-error', 'error': str(e)})
            raise Closed('error')
        self.srv.event({'conn': self.n, 'dir': 's2c', 'tls': self.tls,
                        'data': data.decode('latin-1'), 'len': len(data)})

    def send_drip(self, data, pause):
        """A reply one byte at a time, pause seconds apart (a relay that drips)."""
        for i in range(len(data)):
            if i:
                time.sleep(pause)
            self.send(data[i:i + 1])

    @staticmethod
    def fmt(code, text):
        if text == '':
            return (code + '\r\n').encode('latin-1', 'replace')
        lines = text.split('\n')
        out = []
        for i, l in enumerate(lines):
            sep = ' ' if i == len(lines) - 1 else '-'
            out.append('%s%s%s\r\n' % (code, sep, l))
        return ''.join(out).encode('utf-8')

    def respond(self, keys, code, text, before=None, extra=b''):
        """Send the reply for a stage (honouring delay/disconnect/override/raw).
        before(code) is called just before sending. Returns the code sent."""
        found, d = self.cfg.get('delay', keys, self.n)
        if found:
            time.sleep(d)
        found, _ = self.cfg.get('disconnect', keys, self.n)
        if found:
            self.srv.event({'conn': self.n, 'event': 'disconnect', 'stage': keys[0]})
            raise Closed('server')
        found, drip = self.cfg.get('drip', keys, self.n)
        send = self.send if not found else lambda data: self.send_drip(data, drip)
        found, raw = self.cfg.get('raw', keys, self.n)
        if found:
            code = raw[:3].decode('latin-1')
            if before:
                before(code)
            send(raw + extra)
        else:
            found, ov = self.cfg.get('reply', keys, self.n)
            if found:
                code, text = ov
            if before:
                before(code)
            send(self.fmt(code, text) + extra)
        if code.startswith('421'):
            raise Closed('server')
        return code

    # ---- main loop
    def run(self):
        srv = self.srv
        srv.event({'conn': self.n, 'event': 'connect'})
        by = 'server'
        try:
            if self.a.implicit_tls:
                self.start_tls()
            self.respond(['greeting'], '220', 'localhost ESMTP fakesmtp')
            while True:
                line = self.readline()
                self.command(line)
        except Closed as e:
            by = e.by
        except Exception:
            srv.log('conn %d: exception\n%s' % (self.n, traceback.format_exc()))
            by = 'exception'
        finally:
            try:
                self.sock.close()
            except Exception:
                pass
            self.tfile.close()
            srv.event({'conn': self.n, 'event': 'close', 'by': by})

    def start_tls(self):
        srv = self.srv
        if self.pos < len(self.buf):
            srv.event({'conn': self.n, 'event': 'plaintext-after-starttls',
                       'data': bytes(self.buf[self.pos:]).decode('latin-1')})
        del self.buf[:]
        self.pos = 0
        try:
            s = srv.ctx.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
            self.sock = s
            s.do_handshake()
        except (ssl.SSLError, OSError) as e:
            srv.event({'conn': self.n, 'event': 'tls-error', 'error': str(e)})
            raise Closed('tls-error')
        self.tls = True
        with srv.lock:
            sni = srv.sni.pop(id(s), None)
        ev = {'conn': self.n, 'event': 'tls', 'version': s.version(),
              'cipher': s.cipher()[0], 'sni': sni}
        cert = s.getpeercert()
        if cert:
            short = {'commonName': 'CN', 'organizationName': 'O', 'countryName': 'C',
                     'organizationalUnitName': 'OU', 'localityName': 'L',
                     'stateOrProvinceName': 'ST', 'emailAddress': 'emailAddress'}
            subj = ','.join('%s=%s' % (short.get(k, k), v)
                            for rdn in cert.get('subject', ()) for k, v in rdn)
            self.client_cert = subj
            ev['client_cert'] = subj
            srv.write_file('client-cert.txt', (subj + '\n').encode())
        srv.event(ev)

    def command(self, raw):
        a = self.a
        if not raw.endswith(b'\r\n'):
            self.srv.event({'conn': self.n, 'event': 'bare-lf', 'where': 'command'})
        line = raw.rstrip(b'\r\n').decode('utf-8', 'surrogateescape')
        verb = line.split(' ', 1)[0].upper()
        arg = line[len(verb) + 1:] if ' ' in line else ''
        if verb == 'EHLO':
            if a.no_ehlo:
                self.respond(['ehlo'], '502', '5.5.2 Error: command not recognized')
                return
            lines = ['localhost Hello %s' % arg] + list(self.srv.caps)
            if self.srv.ctx and not a.implicit_tls and not a.no_starttls_cap and not self.tls:
                lines.append('STARTTLS')
            if self.srv.auth_mechs and (self.tls or not a.auth_after_tls):
                lines.append('AUTH ' + ' '.join(self.srv.auth_mechs))
            if self.respond(['ehlo'], '250', '\n'.join(lines)).startswith('2'):
                self.helo = True
                self.reset_txn()
        elif verb == 'HELO':
            if self.respond(['helo'], '250', 'localhost').startswith('2'):
                self.helo = True
                self.reset_txn()
        elif verb == 'STARTTLS':
            if self.srv.ctx is None or self.tls:
                self.respond(['starttls'], '502', '5.5.1 STARTTLS not available')
                return
            inj = b''
            if a.inject_after_starttls:
                inj = codecs.escape_decode(a.inject_after_starttls.encode('latin-1'))[0]
            code = self.respond(['starttls'], '220', '2.0.0 Ready to start TLS', extra=inj)
            if code.startswith('2'):
                self.start_tls()
                self.helo = False
                self.authed = False
                self.reset_txn()
        elif verb == 'AUTH':
            self.do_auth(arg)
        elif verb == 'MAIL':
            if self.mail is not None:
                d = ('503', '5.5.1 Error: nested MAIL command')
            elif not self.helo:
                d = ('503', '5.5.1 Error: send HELO/EHLO first')
            elif a.require_tls and not self.tls:
                d = ('530', '5.7.0 Must issue a STARTTLS command first')
            elif a.require_auth and not self.authed:
                d = ('530', '5.7.0 Authentication required')
            else:
                d = ('250', '2.1.0 Ok')
            self.nmail += 1
            if self.respond(['mail:%d' % self.nmail, 'mail'], *d).startswith('2'):
                self.reset_txn()
                self.mail = line
                self.chunks = []
        elif verb == 'RCPT':
            if self.mail is None:
                self.respond(['rcpt'], '503', '5.5.1 Error: need MAIL command')
                return
            self.nrcpt += 1
            m = re.search(r'<([^>]*)>', arg)
            addr = (m.group(1) if m else arg.split(':', 1)[-1].strip()).lower()
            keys = ['rcpt:' + addr, 'rcpt:%d' % self.nrcpt, 'rcpt']
            if self.respond(keys, '250', '2.1.5 Ok').startswith('2'):
                self.rcpts.append(line)
        elif verb == 'DATA':
            self.do_data()
        elif verb == 'BDAT':
            self.do_bdat(arg)
        elif verb == 'RSET':
            self.respond(['rset'], '250', '2.0.0 Ok')
            self.reset_txn()
        elif verb == 'NOOP':
            self.respond(['noop'], '250', '2.0.0 Ok')
        elif verb == 'VRFY':
            self.respond(['vrfy'], '252', '2.0.0 Cannot VRFY user, but will accept message')
        elif verb == 'QUIT':
            self.respond(['quit'], '221', '2.0.0 Bye')
            raise Closed('server')
        else:
            self.respond(['unknown'], '500', '5.5.2 Error: command not recognized')

    # ---- messages
    def store(self, code, body):
        ok = code.startswith('2')
        k = self.srv.next_msg(ok)
        base = ('msg-%d' if ok else 'rejected-%d') % k
        env = '\n'.join([self.mail] + self.rcpts) + '\n'
        self.srv.write_file(base + '.env', env.encode('utf-8', 'surrogateescape'))
        self.srv.write_file(base + '.eml', body)
        self.srv.event({'conn': self.n, 'event': 'message', 'file': base + '.eml',
                        'accepted': ok, 'size': len(body)})

    def finish(self, body):
        try:
            self.respond(['dot'], '250', '2.0.0 Ok: queued',
                         before=lambda code: self.store(code, body))
        finally:
            self.reset_txn()

    def do_data(self):
        if self.mail is None:
            d = ('503', '5.5.1 Error: need RCPT command')
        elif not self.rcpts:
            d = ('554', '5.5.1 Error: no valid recipients')
        else:
            d = ('354', 'End data with <CR><LF>.<CR><LF>')
        code = self.respond(['data'], *d)
        if not code.startswith('3'):
            return
        middata, _ = self.cfg.get('disconnect', ['middata'], self.n)
        parts = []
        total = 0
        bare = False
        while True:
            line = self.readline()
            if line == b'.\r\n' or line == b'.\n':
                if line == b'.\n':
                    bare = True
                break
            if not line.endswith(b'\r\n'):
                bare = True
            if line.startswith(b'.'):
                line = line[1:]
            parts.append(line)
            total += len(line)
            if middata and total >= 1024:
                self.srv.event({'conn': self.n, 'event': 'disconnect', 'stage': 'middata'})
                raise Closed('server')
        if bare:
            self.srv.event({'conn': self.n, 'event': 'bare-lf', 'where': 'data'})
        if middata:
            self.srv.event({'conn': self.n, 'event': 'disconnect', 'stage': 'middata'})
            raise Closed('server')
        if self.mail is None:
            self.mail = '(no MAIL)'
        self.finish(b''.join(parts))

    def do_bdat(self, arg):
        m = re.match(r'^\s*(\d+)(\s+LAST)?\s*$', arg, re.I)
        if not m:
            self.respond(['bdat'], '501', '5.5.4 Syntax: BDAT size [LAST]')
            return
        size = int(m.group(1))
        last = bool(m.group(2))
        middata, _ = self.cfg.get('disconnect', ['middata'], self.n)
        got = sum(len(c) for c in self.chunks) if self.chunks else 0
        data = self.readexact(size, middata, got)
        if self.mail is None or self.bdat_failed:
            self.respond(['bdat'], '503', '5.5.1 Error: need MAIL command')
            return
        if not self.rcpts:
            self.respond(['bdat'], '554', '5.5.1 Error: no valid recipients')
            self.bdat_failed = True
            return
        self.chunks.append(data)
        if last:
            if middata:
                self.srv.event({'conn': self.n, 'event': 'disconnect', 'stage': 'middata'})
                raise Closed('server')
            self.finish(b''.join(self.chunks))
        else:
            code = self.respond(['bdat'], '250', '2.0.0 Ok: %d octets received' % size)
            if not code.startswith('2'):
                self.bdat_failed = True

    # ---- AUTH
    def challenge(self, s):
        self.send(b'334 ' + s.encode('latin-1') + b'\r\n')
        line = self.readline()
        if not line.endswith(b'\r\n'):
            self.srv.event({'conn': self.n, 'event': 'bare-lf', 'where': 'auth'})
        line = line.rstrip(b'\r\n')
        self.auth_sent.append(line.decode('latin-1'))
        if line == b'*':
            raise AuthCancel()
        return line

    @staticmethod
    def b64d(s):
        if isinstance(s, str):
            s = s.encode('latin-1')
        try:
            return base64.b64decode(s, validate=True)
        except Exception:
            raise AuthBadB64()

    @staticmethod
    def b64e(b):
        if isinstance(b, str):
            b = b.encode('utf-8')
        return base64.b64encode(b).decode('ascii')

    def do_auth(self, arg):
        a = self.a
        mechs = self.srv.auth_mechs
        if not mechs or (a.auth_after_tls and not self.tls):
            self.respond(['auth'], '503', '5.5.1 Error: authentication not enabled')
            return
        if self.authed:
            self.respond(['auth'], '503', '5.5.1 Error: already authenticated')
            return
        if self.mail is not None:
            self.respond(['auth'], '503', '5.5.1 Error: MAIL transaction in progress')
            return
        parts = arg.split()
        if not parts:
            self.respond(['auth'], '501', '5.5.4 Syntax: AUTH mechanism')
            return
        mech = parts[0].upper()
        initial = None
        if len(parts) > 1:
            initial = b'' if parts[1] == '=' else parts[1].encode('latin-1')
        if mech not in mechs:
            self.respond(['auth'], '504', '5.5.4 Unrecognized authentication type')
            return
        fail = ('535', '5.7.8 Authentication credentials invalid')
        user = None
        self.auth_sent = ['AUTH ' + arg]
        self.auth_pw = None
        try:
            fn = getattr(self, 'auth_' + mech.replace('-', '_'))
            ok, user, fail = fn(initial, fail)
        except AuthCancel:
            self.srv.event({'conn': self.n, 'event': 'auth', 'mech': mech, 'ok': False,
                            'cancelled': True})
            self.respond(['auth'], '501', '5.7.0 Authentication aborted')
            return
        except AuthBadB64:
            self.srv.event({'conn': self.n, 'event': 'auth', 'mech': mech, 'ok': False,
                            'error': 'bad base64'})
            self.respond(['auth'], '501', '5.5.2 Cannot decode response')
            return
        if not ok and a.auth_echo:
            # A careless relay: its refusal quotes what the client sent, and the password.
            fail = (fail[0], '\n'.join(['5.7.8 you sent: ' + l for l in self.auth_sent] +
                                       ['5.7.8 password %r is wrong' % self.auth_pw,
                                        fail[1]]))
        d = ('235', '2.7.0 Authentication successful') if ok else fail
        code = self.respond(['auth'], *d)
        self.authed = code.startswith('2')
        self.srv.event({'conn': self.n, 'event': 'auth', 'mech': mech, 'user': user,
                        'ok': self.authed})

    def check(self, user, pw):
        a = self.a
        return user == a.user and pw == a.password

    def auth_PLAIN(self, initial, fail):
        resp = initial if initial is not None else self.challenge('')
        parts = self.b64d(resp).decode('utf-8', 'replace').split('\0')
        if len(parts) != 3:
            return False, None, fail
        self.auth_pw = parts[2]
        return self.check(parts[1], parts[2]), parts[1], fail

    def auth_LOGIN(self, initial, fail):
        if initial:
            u = initial
        else:
            u = self.challenge('VXNlcm5hbWU6')
        user = self.b64d(u).decode('utf-8', 'replace')
        pw = self.b64d(self.challenge('UGFzc3dvcmQ6')).decode('utf-8', 'replace')
        self.auth_pw = pw
        return self.check(user, pw), user, fail

    def auth_CRAM_MD5(self, initial, fail):
        chal = '<%d.%d@fakesmtp>' % (os.getpid() + self.n, int(time.time() * 1000))
        resp = self.b64d(self.challenge(self.b64e(chal))).decode('utf-8', 'replace')
        if ' ' not in resp:
            return False, None, fail
        user, digest = resp.rsplit(' ', 1)
        pw = self.a.password.encode('utf-8')
        want = hmac.new(pw, chal.encode(), hashlib.md5).hexdigest()
        ok = user == self.a.user and hmac.compare_digest(want, digest)
        return ok, user, fail

    def auth_SCRAM_SHA_1(self, initial, fail):
        return self.scram(initial, fail, 'sha1')

    def auth_SCRAM_SHA_256(self, initial, fail):
        return self.scram(initial, fail, 'sha256')

    def scram(self, initial, fail, hname):
        a = self.a
        resp = initial if initial is not None else self.challenge('')
        cfirst = self.b64d(resp).decode('utf-8', 'replace')
        try:
            cb, authzid, bare = cfirst.split(',', 2)
            if cb not in ('n', 'y'):
                self.srv.log('scram: unsupported channel binding %r' % cb)
                return False, None, fail
            attrs = dict(kv.split('=', 1) for kv in bare.split(','))
            user = attrs['n'].replace('=2C', ',').replace('=3D', '=')
            cnonce = attrs['r']
        except (ValueError, KeyError):
            self.srv.log('scram: bad client-first %r' % cfirst)
            return False, None, fail
        gs2 = cb + ',' + authzid + ','
        snonce = a.scram_nonce or self.b64e(os.urandom(18)).replace('/', '_')
        salt = base64.b64decode(a.scram_salt) if a.scram_salt else os.urandom(16)
        it = a.scram_iter
        sfirst = 'r=%s%s,s=%s,i=%d' % (cnonce, snonce, self.b64e(salt), it)
        cfinal = self.b64d(self.challenge(self.b64e(sfirst))).decode('utf-8', 'replace')
        if ',p=' not in cfinal:
            return False, user, fail
        without_proof, proof_b64 = cfinal.rsplit(',p=', 1)
        try:
            fattrs = dict(kv.split('=', 1) for kv in without_proof.split(','))
            proof = base64.b64decode(proof_b64)
        except Exception:
            return False, user, fail
        if fattrs.get('r') != cnonce + snonce or fattrs.get('c') != self.b64e(gs2):
            self.srv.log('scram: nonce or channel-binding mismatch')
            return False, user, fail
        pw = a.password.encode('utf-8')
        salted = hashlib.pbkdf2_hmac(hname, pw, salt, it)
        ckey = hmac.new(salted, b'Client Key', hname).digest()
        stored = hashlib.new(hname, ckey).digest()
        authmsg = (bare + ',' + sfirst + ',' + without_proof).encode('utf-8')
        csig = hmac.new(stored, authmsg, hname).digest()
        if len(proof) != len(csig):
            return False, user, fail
        got_ckey = bytes(x ^ y for x, y in zip(proof, csig))
        if hashlib.new(hname, got_ckey).digest() != stored or \
                user != a.user:
            return False, user, fail
        skey = hmac.new(salted, b'Server Key', hname).digest()
        ssig = hmac.new(skey, authmsg, hname).digest()
        if a.scram_forge_signature:
            ssig = bytes(b ^ 0x55 for b in ssig)
        self.challenge(self.b64e('v=' + self.b64e(ssig)))
        return True, user, fail

    def oauth_fail(self, fail):
        # --oauth-reject microsoft: Office 365 sends no error challenge, just 535 5.7.3.
        if self.a.oauth_reject == 'microsoft':
            return ('535', '5.7.3 Authentication unsuccessful [AM0PR10CA0001.EURPRD10.PROD.'
                    'OUTLOOK.COM 2026-01-01T00:00:00.000Z 08DC000000000000]')
        try:
            self.challenge(self.b64e(OAUTH_FAIL_JSON))
        except AuthCancel:
            pass
        return ('535', '5.7.8 Username and Password not accepted')

    def token_ok(self, user, token):
        a = self.a
        if a.oauth_token_file is not None:
            # Tokens a mock identity provider issued, one a line, re-read for each AUTH.
            try:
                with open(a.oauth_token_file, encoding='utf-8') as f:
                    valid = set(l.strip() for l in f if l.strip())
            except OSError:
                valid = set()
            return user == a.user and token is not None and token in valid
        want = a.oauth_token if a.oauth_token is not None else a.password
        return user == a.user and token is not None and token == want

    def auth_XOAUTH2(self, initial, fail):
        resp = initial if initial is not None else self.challenge('')
        s = self.b64d(resp).decode('utf-8', 'replace')
        user = token = None
        for f in s.split('\x01'):
            if f.startswith('user='):
                user = f[5:]
            elif f.lower().startswith('auth=bearer '):
                token = f[12:]
        if self.token_ok(user, token):
            return True, user, fail
        return False, user, self.oauth_fail(fail)

    def auth_OAUTHBEARER(self, initial, fail):
        resp = initial if initial is not None else self.challenge('')
        s = self.b64d(resp).decode('utf-8', 'replace')
        user = token = None
        fields = s.split('\x01')
        for g in fields[0].split(','):
            if g.startswith('a='):
                user = g[2:].replace('=2C', ',').replace('=3D', '=')
        for f in fields[1:]:
            if f.lower().startswith('auth=bearer '):
                token = f[12:]
        if self.token_ok(user, token):
            return True, user, fail
        return False, user, self.oauth_fail(fail)

    def auth_EXTERNAL(self, initial, fail):
        resp = initial if initial is not None else self.challenge('')
        authz = self.b64d(resp).decode('utf-8', 'replace')
        return self.client_cert is not None, authz or self.client_cert, fail


# --------------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description='scriptable fake SMTP server for tests')
    p.add_argument('--dir', required=True, help='output directory')
    p.add_argument('--port-file', help='write the listening port here')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--lifetime', type=float, default=60)
    p.add_argument('--max-connections', type=int, default=0)
    p.add_argument('--caps', default=DEFAULT_CAPS)
    p.add_argument('--no-ehlo', action='store_true')
    p.add_argument('--reply', action='append', default=[], metavar='STAGE[@CONN]=CODE TEXT')
    p.add_argument('--raw-reply', action='append', default=[], metavar='STAGE[@CONN]=BYTES',
                   help='send BYTES verbatim (backslash escapes \\r \\n \\xNN decoded)')
    p.add_argument('--disconnect', action='append', default=[], metavar='STAGE[@CONN]')
    p.add_argument('--delay', action='append', default=[], metavar='STAGE[@CONN]=SECONDS')
    p.add_argument('--drip', action='append', default=[], metavar='STAGE[@CONN]=SECONDS',
                   help='send the reply one byte at a time, SECONDS apart')
    p.add_argument('--inject-after-starttls', metavar='BYTES',
                   help='backslash escapes decoded, e.g. "250 PIPELINING\\r\\n"')
    p.add_argument('--tls-cert')
    p.add_argument('--tls-key')
    p.add_argument('--implicit-tls', action='store_true')
    p.add_argument('--no-starttls-cap', action='store_true')
    p.add_argument('--tls-min', choices=['1.0', '1.1', '1.2', '1.3'])
    p.add_argument('--tls-max', choices=['1.0', '1.1', '1.2', '1.3'])
    p.add_argument('--client-ca')
    p.add_argument('--require-client-cert', action='store_true')
    p.add_argument('--require-tls', action='store_true')
    p.add_argument('--auth-mechs')
    p.add_argument('--auth-after-tls', action='store_true',
                   help='advertise/accept AUTH only after TLS is up')
    p.add_argument('--user', default='user')
    p.add_argument('--password', default='secret')
    p.add_argument('--oauth-token')
    p.add_argument('--oauth-token-file', help='accept any token listed in this file '
                   '(one a line, re-read for each AUTH; for test/fakeidp.py)')
    p.add_argument('--oauth-reject', choices=['gmail', 'microsoft'], default='gmail',
                   help='how a bad XOAUTH2/OAUTHBEARER token is refused')
    p.add_argument('--require-auth', action='store_true')
    p.add_argument('--auth-echo', action='store_true',
                   help='a failed AUTH is refused with a reply that quotes every line the '
                   'client sent in the exchange and the PLAIN/LOGIN password')
    p.add_argument('--scram-forge-signature', action='store_true')
    p.add_argument('--scram-salt', help='base64 salt (default random)')
    p.add_argument('--scram-nonce', help='server nonce part (default random)')
    p.add_argument('--scram-iter', type=int, default=4096)
    a = p.parse_args()
    if a.implicit_tls and not a.tls_cert:
        p.error('--implicit-tls needs --tls-cert')

    srv = Server(a)
    fam = socket.AF_INET6 if ':' in a.host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(128)
    ls.settimeout(0.1)
    port = ls.getsockname()[1]
    srv.log('listening on %s port %d' % (a.host, port))
    if a.port_file:
        tmp = a.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.rename(tmp, a.port_file)

    deadline = time.monotonic() + a.lifetime
    accepted = 0
    done = []

    def worker(c):
        try:
            c.run()
        finally:
            with srv.lock:
                done.append(c.n)

    while time.monotonic() < deadline:
        if a.max_connections and accepted >= a.max_connections:
            if ls is not None:
                ls.close()
                ls = None
            with srv.lock:
                if len(done) >= a.max_connections:
                    break
            time.sleep(0.02)
            continue
        try:
            s, _addr = ls.accept()
        except socket.timeout:
            continue
        except OSError as e:
            srv.log('accept: %s' % e)
            time.sleep(0.05)
            continue
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        accepted += 1
        t = threading.Thread(target=worker, args=(Conn(srv, s, accepted),), daemon=True)
        t.start()
    srv.log('exiting')
    os._exit(0)


if __name__ == '__main__':
    main()
