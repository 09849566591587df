#!/bin/sh
# Self-test of test/fakesmtp.py (and test/lib/mkcerts.sh), with Python's smtplib and
# hand-written socket clients. Prints "ok NAME" / "FAIL NAME" per case; exits 1 on a failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fakesmtp-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
certs=${MAILOUT_CERTS:-$tmp/certs}
sh "$here/lib/mkcerts.sh" "$certs"
python3 - "$here/fakesmtp.py" "$tmp" "$certs" <<'PYEOF'
import base64, hashlib, hmac, json, os, smtplib, socket, ssl, subprocess, sys, threading, time

FAKE, TMP, CERTS = sys.argv[1:4]
failures = []
counter = [0]
running = []


class Fake:
    def __init__(self, *args):
        counter[0] += 1
        self.dir = os.path.join(TMP, 'f%d' % counter[0])
        os.makedirs(self.dir)
        pf = os.path.join(self.dir, 'port')
        self.p = subprocess.Popen([sys.executable, FAKE, '--dir', self.dir, '--port-file', pf,
                                   '--lifetime', '20'] + list(args),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        running.append(self.p)
        for _ in range(500):
            if os.path.exists(pf):
                break
            time.sleep(0.01)
        self.port = int(open(pf).read())

    def stop(self):
        self.p.terminate()
        self.p.wait()

    def read(self, name, mode='rb'):
        with open(os.path.join(self.dir, name), mode) as f:
            return f.read()

    def exists(self, name):
        return os.path.exists(os.path.join(self.dir, name))

    def events(self):
        return [json.loads(l) for l in self.read('events', 'r').splitlines()]

    def wait_closed(self, n=1):
        for _ in range(300):
            if self.exists('events') and \
                    sum(1 for e in self.events() if e.get('event') == 'close') >= n:
                return
            time.sleep(0.01)
        raise AssertionError('connections did not close')


def case(fn):
    t0 = time.time()
    try:
        fn()
        print('ok   %-28s %.2fs' % (fn.__name__, time.time() - t0))
    except Exception as e:
        import traceback
        traceback.print_exc()
        print('FAIL %-28s %r' % (fn.__name__, e))
        failures.append(fn.__name__)
    sys.stdout.flush()
    return fn


def ctx_client(cert=False):
    c = ssl.create_default_context(cafile=os.path.join(CERTS, 'ca.pem'))
    if cert:
        c.load_cert_chain(os.path.join(CERTS, 'client.pem'), os.path.join(CERTS, 'client.key'))
    return c


TLSARGS = ['--tls-cert', os.path.join(CERTS, 'server.pem'),
           '--tls-key', os.path.join(CERTS, 'server.key')]
MSG = b'Subject: hi\r\n\r\nline1\r\n.dotted\r\n..two\r\nend\r\n'


class Raw:
    """Tiny line client over a socket."""

    def __init__(self, port, tls=None):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=5)
        if tls:
            self.s = tls.wrap_socket(self.s, server_hostname='localhost')
        self.f = self.s.makefile('rb')

    def reply(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                raise EOFError('server closed')
            lines.append(l)
            if len(l) < 4 or l[3:4] != b'-':
                return b''.join(lines)

    def cmd(self, b):
        self.s.sendall(b)
        return self.reply()

    def close(self):
        self.f.close()
        self.s.close()


@case
def plain_send():
    f = Fake()
    with smtplib.SMTP('127.0.0.1', f.port) as s:
        s.ehlo('client.test')
        assert s.has_extn('pipelining') and s.has_extn('chunking'), s.esmtp_features
        assert not s.has_extn('starttls')
        s.sendmail('a@x.test', ['b@y.test', 'c@y.test'], MSG)
    f.wait_closed()
    f.stop()
    assert f.read('msg-1.eml') == MSG, f.read('msg-1.eml')
    env = f.read('msg-1.env', 'r').splitlines()
    assert env[0].startswith('mail FROM:<a@x.test>') or env[0].startswith('MAIL FROM:<a@x.test>'), env
    assert env[1:] == ['rcpt TO:<b@y.test>', 'rcpt TO:<c@y.test>'], env
    t = f.read('transcript')
    assert t.startswith(b'ehlo client.test\r\n') and b'\r\n..dotted\r\n' in t and t.endswith(b'QUIT\r\n'), t
    assert f.read('transcript.1') == t
    assert b'\n' not in t.replace(b'\r\n', b'')
    assert not any(e.get('event') == 'bare-lf' for e in f.events())


@case
def pipelining_chunks():
    f = Fake()
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    c.s.sendall(b'MAIL FROM:<a@x> SIZE=10\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\nDATA\r\n')
    r = c.reply() + c.reply() + c.reply()
    assert r == b'250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n', r
    c.s.sendall(b'x' * 200000 + b'\r\n.\r\n')
    assert c.reply().startswith(b'250 ')
    c.cmd(b'QUIT\r\n')
    f.wait_closed()
    f.stop()
    ev = [e for e in f.events() if e.get('dir') == 'c2s']
    assert any(e['data'] == 'MAIL FROM:<a@x> SIZE=10\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\nDATA\r\n'
               for e in ev), ev
    assert f.read('msg-1.env', 'r') == 'MAIL FROM:<a@x> SIZE=10\nRCPT TO:<b@y> NOTIFY=NEVER\n'
    assert len(f.read('msg-1.eml')) == 200002


@case
def rejected_rcpt():
    f = Fake('--reply', 'rcpt:2=550 5.1.1 no such user', '--reply', 'rcpt:D@Y.test=551 5.1.1 not d')
    with smtplib.SMTP('127.0.0.1', f.port) as s:
        refused = s.sendmail('a@x', ['b@y.test', 'c@y.test', 'd@y.test', 'e@y.test'], MSG)
    f.stop()
    assert set(refused) == {'c@y.test', 'd@y.test'}, refused
    assert refused['c@y.test'] == (550, b'5.1.1 no such user'), refused
    env = f.read('msg-1.env', 'r').splitlines()
    assert env[1:] == ['rcpt TO:<b@y.test>', 'rcpt TO:<e@y.test>'], env


@case
def dot_reject_first_conn_multiline():
    f = Fake('--reply', 'dot@1=451 4.3.0 try\\nlater', '--reply', 'ehlo@2=250 srv\\nSIZE 100')
    try:
        with smtplib.SMTP('127.0.0.1', f.port) as s:
            s.sendmail('a@x', ['b@y'], MSG)
        raise AssertionError('no error')
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 451 and e.smtp_error == b'4.3.0 try\nlater', e
    with smtplib.SMTP('127.0.0.1', f.port) as s:
        s.ehlo()
        assert s.esmtp_features == {'size': '100'}, s.esmtp_features
        s.sendmail('a@x', ['b@y'], b'second\r\n')
    f.wait_closed(2)
    f.stop()
    assert f.read('rejected-1.eml') == MSG and f.read('msg-1.eml') == b'second\r\n'
    assert 'msg-2.eml' not in os.listdir(f.dir)
    s2c = ''.join(e['data'] for e in f.events() if e.get('dir') == 's2c' and e['conn'] == 1)
    assert '451-4.3.0 try\r\n451 later\r\n' in s2c, s2c


@case
def malformed_code_and_raw():
    f = Fake('--reply', 'greeting=2x0 hello', '--reply', 'helo=99',
             '--raw-reply', 'noop=250-a\\n250 b\\r\\n')
    c = Raw(f.port)
    assert c.reply() == b'2x0 hello\r\n'
    assert c.cmd(b'HELO me\r\n') == b'99\r\n'
    assert c.cmd(b'NOOP\r\n') == b'250-a\n250 b\r\n'
    assert c.cmd(b'FOO\r\n').startswith(b'500 ')
    assert c.cmd(b'VRFY x\r\n').startswith(b'252 ')
    c.close()
    f.stop()


@case
def no_ehlo_falls_back_to_helo():
    f = Fake('--no-ehlo')
    with smtplib.SMTP('127.0.0.1', f.port) as s:
        s.sendmail('a@x', ['b@y'], MSG)
    f.stop()
    t = f.read('transcript')
    assert b'helo ' in t and f.read('msg-1.eml') == MSG, t


@case
def starttls():
    f = Fake(*TLSARGS, '--require-tls')
    with smtplib.SMTP('127.0.0.1', f.port) as s:
        s.ehlo()
        assert s.has_extn('starttls')
        try:
            s.sendmail('a@x', ['b@y'], MSG)
            raise AssertionError('accepted MAIL without TLS')
        except smtplib.SMTPSenderRefused as e:
            assert e.smtp_code == 530
        s.starttls(context=ctx_client())
        s.ehlo()
        assert not s.has_extn('starttls')
        s.sendmail('a@x', ['b@y'], MSG)
    f.wait_closed()
    f.stop()
    ev = f.events()
    tls = [e for e in ev if e.get('event') == 'tls']
    assert tls[0]['version'] == 'TLSv1.3' and tls[0]['sni'] is None, tls  # no SNI for an IP
    assert any(e.get('dir') == 'c2s' and e['tls'] and 'MAIL' in e['data'].upper() for e in ev)
    t = f.read('transcript')
    assert b'STARTTLS\r\n' in t.upper() and t.upper().count(b'EHLO') == 2, t
    assert f.read('msg-1.eml') == MSG


@case
def starttls_tls12_max():
    f = Fake(*TLSARGS, '--tls-max', '1.2')
    with smtplib.SMTP('localhost', f.port) as s:
        s.starttls(context=ctx_client())
        s.sendmail('a@x', ['b@y'], MSG)
    f.wait_closed()
    f.stop()
    tls = [e for e in f.events() if e.get('event') == 'tls']
    assert tls[0]['version'] == 'TLSv1.2' and tls[0]['sni'] == 'localhost', tls


@case
def implicit_tls():
    f = Fake(*TLSARGS, '--implicit-tls')
    with smtplib.SMTP_SSL('localhost', f.port, context=ctx_client()) as s:
        s.ehlo()
        assert not s.has_extn('starttls')
        s.sendmail('a@x', ['b@y'], MSG)
    f.wait_closed()
    f.stop()
    assert f.read('transcript').startswith(b'ehlo ')
    assert f.read('msg-1.eml') == MSG


@case
def tls_bad_cert_rejected_by_client():
    f = Fake('--tls-cert', os.path.join(CERTS, 'expired.pem'),
             '--tls-key', os.path.join(CERTS, 'expired.key'), '--implicit-tls')
    try:
        smtplib.SMTP_SSL('localhost', f.port, context=ctx_client(), timeout=5)
        raise AssertionError('handshake succeeded')
    except ssl.SSLCertVerificationError:
        pass
    f.wait_closed()
    f.stop()
    assert any(e.get('event') == 'tls-error' for e in f.events())


@case
def inject_after_starttls():
    f = Fake(*TLSARGS, '--inject-after-starttls', '250 PIPELINING\\r\\n')
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    c.s.sendall(b'STARTTLS\r\n')
    time.sleep(0.2)
    data = c.s.recv(4096)
    assert data == b'220 2.0.0 Ready to start TLS\r\n250 PIPELINING\r\n', data
    c.close()
    f.stop()


@case
def auth_plain_login_cram():
    for mech in ('PLAIN', 'LOGIN', 'CRAM-MD5'):
        f = Fake('--auth-mechs', 'PLAIN LOGIN CRAM-MD5', '--user', 'u@x', '--password', 'p@ss w',
                 '--require-auth')
        with smtplib.SMTP('127.0.0.1', f.port) as s:
            s.ehlo()
            try:
                s.sendmail('a@x', ['b@y'], MSG)
                raise AssertionError('MAIL accepted without AUTH')
            except smtplib.SMTPSenderRefused as e:
                assert e.smtp_code == 530
            s.user, s.password = 'u@x', 'wrong'
            try:
                s.auth(mech, getattr(s, 'auth_' + mech.lower().replace('-', '_')))
                raise AssertionError('wrong password accepted')
            except smtplib.SMTPAuthenticationError as e:
                assert e.smtp_code == 535, e
            s.user, s.password = 'u@x', 'p@ss w'
            code, _ = s.auth(mech, getattr(s, 'auth_' + mech.lower().replace('-', '_')))
            assert code == 235
            s.sendmail('a@x', ['b@y'], MSG)
        f.wait_closed()
        f.stop()
        auth = [e for e in f.events() if e.get('event') == 'auth']
        assert [e['ok'] for e in auth] == [False, True] and auth[1]['user'] == 'u@x', auth
        assert f.read('msg-1.eml') == MSG


@case
def auth_plain_no_initial_response_and_override():
    f = Fake('--auth-mechs', 'PLAIN', '--user', 'u', '--password', 'p',
             '--reply', 'auth@2=454 4.7.0 temp')
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    assert c.cmd(b'AUTH PLAIN\r\n') == b'334 \r\n'
    assert c.cmd(base64.b64encode(b'\0u\0p') + b'\r\n').startswith(b'235 ')
    c.close()
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    assert c.cmd(b'AUTH PLAIN ' + base64.b64encode(b'\0u\0p') + b'\r\n') == b'454 4.7.0 temp\r\n'
    assert c.cmd(b'AUTH PLAIN\r\n') == b'334 \r\n'
    assert c.cmd(b'*\r\n') == b'454 4.7.0 temp\r\n'  # the override replaces every AUTH result
    c.close()
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    assert c.cmd(b'AUTH PLAIN\r\n') == b'334 \r\n'
    assert c.cmd(b'*\r\n').startswith(b'501 ')
    assert c.cmd(b'AUTH DIGEST-MD5\r\n').startswith(b'504 ')
    c.close()
    f.stop()


def scram_exchange(port, hname, user, pw, cnonce, expect_sfirst=None, expect_final=None,
                   extra=()):
    c = Raw(port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    bare = 'n=%s,r=%s' % (user, cnonce)
    r = c.cmd(('AUTH SCRAM-%s %s\r\n' % (hname.upper().replace('SHA', 'SHA-'),
                                         base64.b64encode(('n,,' + bare).encode()).decode())
               ).encode())
    assert r.startswith(b'334 '), r
    sfirst = base64.b64decode(r[4:].strip()).decode()
    if expect_sfirst:
        assert sfirst == expect_sfirst, sfirst
    attrs = dict(kv.split('=', 1) for kv in sfirst.split(','))
    salted = hashlib.pbkdf2_hmac(hname, pw.encode(), base64.b64decode(attrs['s']), int(attrs['i']))
    ckey = hmac.new(salted, b'Client Key', hname).digest()
    stored = hashlib.new(hname, ckey).digest()
    wp = 'c=biws,r=' + attrs['r']
    am = ','.join([bare, sfirst, wp]).encode()
    proof = bytes(a ^ b for a, b in zip(ckey, hmac.new(stored, am, hname).digest()))
    cfinal = wp + ',p=' + base64.b64encode(proof).decode()
    r = c.cmd(base64.b64encode(cfinal.encode()) + b'\r\n')
    if not r.startswith(b'334 '):
        c.close()
        return r, None
    sfinal = base64.b64decode(r[4:].strip()).decode()
    skey = hmac.new(salted, b'Server Key', hname).digest()
    good = 'v=' + base64.b64encode(hmac.new(skey, am, hname).digest()).decode()
    if expect_final:
        assert sfinal == expect_final, sfinal
    if sfinal != good:
        r = c.cmd(b'*\r\n')
        c.close()
        return r, False
    r = c.cmd(b'\r\n')
    c.close()
    return r, True


@case
def scram_rfc5802_vector():
    f = Fake('--auth-mechs', 'SCRAM-SHA-1', '--user', 'user', '--password', 'pencil',
             '--scram-salt', 'QSXCR+Q6sek8bf92', '--scram-nonce', '3rfcNHYJY1ZVvWVs7j')
    r, good = scram_exchange(
        f.port, 'sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL',
        'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
        'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')
    f.stop()
    assert good and r.startswith(b'235 '), r
    # the client-final proof in RFC 5802 must be what the server checked
    t = f.read('transcript')
    assert base64.b64encode(b'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,'
                            b'p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=') in t


@case
def scram_rfc7677_vector():
    f = Fake('--auth-mechs', 'SCRAM-SHA-256', '--user', 'user', '--password', 'pencil',
             '--scram-salt', 'W22ZaJ0SNY7soEsUEjb6gQ==',
             '--scram-nonce', '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0')
    r, good = scram_exchange(
        f.port, 'sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO',
        'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
        'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
    f.stop()
    assert good and r.startswith(b'235 '), r
    t = f.read('transcript')
    assert base64.b64encode(b'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,'
                            b'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=') in t


@case
def scram_wrong_password_and_forged():
    f = Fake('--auth-mechs', 'SCRAM-SHA-256', '--user', 'u', '--password', 'p')
    r, good = scram_exchange(f.port, 'sha256', 'u', 'wrong', 'abc')
    assert good is None and r.startswith(b'535 '), r
    r, good = scram_exchange(f.port, 'sha256', 'u', 'p', 'abc')
    assert good and r.startswith(b'235 '), r
    f.stop()
    f = Fake('--auth-mechs', 'SCRAM-SHA-1', '--user', 'u', '--password', 'p',
             '--scram-forge-signature')
    r, good = scram_exchange(f.port, 'sha1', 'u', 'p', 'abc')
    assert good is False and r.startswith(b'501 '), r
    f.stop()


@case
def xoauth2_and_oauthbearer():
    f = Fake('--auth-mechs', 'XOAUTH2 OAUTHBEARER', '--user', 'u@x', '--oauth-token', 'tok')
    for mech, tmpl in (('XOAUTH2', 'user=u@x\x01auth=Bearer %s\x01\x01'),
                       ('OAUTHBEARER', 'n,a=u@x,\x01host=localhost\x01port=25\x01auth=Bearer %s\x01\x01')):
        c = Raw(f.port)
        c.reply()
        c.cmd(b'EHLO me\r\n')
        r = c.cmd(('AUTH %s %s\r\n' % (mech, base64.b64encode((tmpl % 'bad').encode()).decode())).encode())
        assert r.startswith(b'334 ') and json.loads(base64.b64decode(r[4:]))['status'] == '401', r
        assert c.cmd(b'\r\n') == b'535 5.7.8 Username and Password not accepted\r\n'
        r = c.cmd(('AUTH %s %s\r\n' % (mech, base64.b64encode((tmpl % 'tok').encode()).decode())).encode())
        assert r.startswith(b'235 '), r
        c.close()
    f.stop()


@case
def client_cert_external():
    f = Fake(*TLSARGS, '--client-ca', os.path.join(CERTS, 'ca.pem'), '--auth-mechs', 'EXTERNAL',
             '--auth-after-tls')
    c = Raw(f.port)
    c.reply()
    assert b'AUTH' not in c.cmd(b'EHLO me\r\n')
    c.cmd(b'STARTTLS\r\n')
    c.s = ctx_client(cert=True).wrap_socket(c.s, server_hostname='localhost')
    c.f = c.s.makefile('rb')
    assert b'AUTH EXTERNAL' in c.cmd(b'EHLO me\r\n')
    assert c.cmd(b'AUTH EXTERNAL =\r\n').startswith(b'235 ')
    c.cmd(b'QUIT\r\n')
    c.close()
    f.wait_closed()
    # without a client certificate EXTERNAL fails
    c = Raw(f.port, tls=None)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    c.cmd(b'STARTTLS\r\n')
    c.s = ctx_client().wrap_socket(c.s, server_hostname='localhost')
    c.f = c.s.makefile('rb')
    c.cmd(b'EHLO me\r\n')
    assert c.cmd(b'AUTH EXTERNAL =\r\n').startswith(b'535 ')
    c.close()
    f.stop()
    assert f.read('client-cert.txt', 'r') == 'CN=client.test\n'


@case
def bdat_by_hand():
    f = Fake()
    c = Raw(f.port)
    c.reply()
    c.cmd(b'EHLO me\r\n')
    c.s.sendall(b'MAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@y>\r\nBDAT 7\r\n.a\r\nb\r\n')
    r = c.reply() + c.reply() + c.reply()
    assert r.endswith(b'250 2.0.0 Ok: 7 octets received\r\n'), r
    assert c.cmd(b'BDAT 5 LAST\r\nc\r\n.\r').startswith(b'250 ')
    assert c.cmd(b'MAIL FROM:<a@x>\r\n').startswith(b'250 ')
    assert c.cmd(b'RCPT TO:<b@y>\r\n').startswith(b'250 ')
    assert c.cmd(b'BDAT 0 LAST\r\n').startswith(b'250 ')
    c.cmd(b'QUIT\r\n')
    c.close()
    f.stop()
    assert f.read('msg-1.eml') == b'.a\r\nb\r\nc\r\n.\r', f.read('msg-1.eml')
    assert f.read('msg-2.eml') == b''


@case
def disconnect_delay_barelf():
    f = Fake('--disconnect', 'middata@1', '--delay', 'mail@2=0.3', '--disconnect', 'rcpt:2@3',
             '--max-connections', '3')
    try:
        with smtplib.SMTP('127.0.0.1', f.port) as s:
            s.sendmail('a@x', ['b@y'], b'x' * 5000 + b'\r\n')
        raise AssertionError('no disconnect')
    except smtplib.SMTPServerDisconnected:
        pass
    c = Raw(f.port)
    c.reply()
    c.cmd(b'HELO me\n')
    t0 = time.time()
    c.cmd(b'MAIL FROM:<a@x>\r\n')
    assert time.time() - t0 >= 0.3
    c.cmd(b'RCPT TO:<b@y>\r\n')
    c.cmd(b'DATA\r\n')
    assert c.cmd(b'a\nb\r\n.\n').startswith(b'250')
    c.cmd(b'QUIT\r\n')
    c.close()
    c = Raw(f.port)
    c.reply()
    c.cmd(b'HELO me\r\n')
    c.cmd(b'MAIL FROM:<a@x>\r\n')
    c.cmd(b'RCPT TO:<b@y>\r\n')
    try:
        c.cmd(b'RCPT TO:<c@y>\r\n')
        raise AssertionError('no disconnect at rcpt 2')
    except (EOFError, ConnectionError):
        pass
    assert f.p.wait(5) == 0  # --max-connections 3: exits by itself
    assert f.read('msg-1.eml') == b'a\nb\r\n'
    ev = f.events()
    assert [e['where'] for e in ev if e.get('event') == 'bare-lf'] == ['command', 'data'], ev
    assert [e['stage'] for e in ev if e.get('event') == 'disconnect'] == ['middata', 'rcpt:c@y']


@case
def drip():
    f = Fake('--drip', 'greeting=0.05')
    c = Raw(f.port)
    t0 = time.time()
    assert c.reply().startswith(b'220 ')
    assert time.time() - t0 >= 0.05 * 20, 'not dripped'
    c.cmd(b'QUIT\r\n')
    c.close()
    sends = [e for e in f.events() if e.get('dir') == 's2c']
    assert len(sends) > 20 and all(e['len'] == 1 for e in sends[:20]), sends[:3]


@case
def concurrency():
    f = Fake('--delay', 'dot=0.5')
    errs = []

    def one(i):
        try:
            with smtplib.SMTP('127.0.0.1', f.port) as s:
                s.sendmail('a@x', ['b%d@y' % i], b'msg %d\r\n' % i)
        except Exception as e:
            errs.append(e)
    t0 = time.time()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    f.stop()
    assert not errs, errs
    assert time.time() - t0 < 2, 'not concurrent'
    bodies = sorted(f.read('msg-%d.eml' % k) for k in range(1, 9))
    assert bodies == sorted(b'msg %d\r\n' % i for i in range(8)), bodies
    assert all(f.exists('transcript.%d' % k) for k in range(1, 9))


@case
def garbage_does_not_crash():
    f = Fake(*TLSARGS, '--auth-mechs', 'PLAIN SCRAM-SHA-1 XOAUTH2 CRAM-MD5')
    c = Raw(f.port)
    for l in (b'\xff\xfe\x00garbage\r\n', b'MAIL\r\n', b'RCPT\r\n', b'DATA\r\n', b'BDAT x\r\n',
              b'EHLO\r\n', b'AUTH\r\n', b'AUTH PLAIN !!!\r\n', b'AUTH SCRAM-SHA-1 Zm9v\r\n',
              b'AUTH XOAUTH2 =\r\n', b'AUTH CRAM-MD5\r\n', b'AAAA\r\n', b'STARTTLS\r\n',
              b'not a tls handshake\r\n' * 10):
        c.s.sendall(l)
        time.sleep(0.01)
    c.close()
    c = Raw(f.port)
    assert c.reply().startswith(b'220 ')
    c.close()
    f.wait_closed(2)
    f.stop()
    assert 'Traceback' not in f.read('server.log', 'r'), f.read('server.log', 'r')


for p in running:
    if p.poll() is None:
        p.kill()
print('%d failure(s)' % len(failures))
sys.exit(1 if failures else 0)
PYEOF
