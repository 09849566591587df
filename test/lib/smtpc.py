"""smtpc.py -- SMTP clients for test/listen.bats (Python's smtplib and raw sockets).

  smtpc.py --port P send [--source IP] [--from A] [--to B]... [--subject S] [--size N]
                         [--user U --password P [--mech PLAIN|LOGIN]] [--starttls CAFILE]
      one message through smtplib; prints "250" or the refusal code and text
  smtpc.py --port P raw [--source IP] [--wait S] HEXBYTES...
      greeting, then each chunk sent and the replies printed until a pause
  smtpc.py --port P hold N [--source IP]
      open N connections, print each greeting line, keep them 3 s
  smtpc.py --port P queue N [--release S]
      open N connections 0.1 s apart, then print for each "I CODE SECONDS": its first reply
      code and how long after its connect it came; with --release, connection 0 sends QUIT
      S seconds after its greeting (else all are held 3 s)
  smtpc.py --port P again N
      N messages one after another from one process, each in its own session, the next
      connection made as soon as the 221 to QUIT is read; prints one code a session
  smtpc.py --port P load CLIENTS MESSAGES OUTFILE
      CLIENTS concurrent sessions of MESSAGES messages each; OUTFILE gets one line per
      message: "TOKEN CODE"
"""
import argparse, re, smtplib, socket, sys, threading, time


def conn(a):
    s = smtplib.SMTP(timeout=30, source_address=(a.source, 0) if a.source else None)
    s.connect('127.0.0.1', a.port)
    return s


def send(a):
    try:
        s = conn(a)
        s.ehlo('device.test')
        if a.starttls:
            import ssl
            ctx = ssl.create_default_context(cafile=a.starttls)
            s._host = '127.0.0.1'	# connect() does not set it: the name to verify
            s.starttls(context=ctx)
            s.ehlo('device.test')
        if a.user is not None:
            if a.mech:
                s.user, s.password = a.user, a.password
                s.auth(a.mech, getattr(s, 'auth_' + a.mech.lower()))
            else:
                s.login(a.user, a.password)
        body = ('From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n' % (a.sender, a.to[0], a.subject)
                + 'x' * a.size + '\r\nend\r\n')
        s.sendmail(a.sender, a.to, body.encode())
        s.quit()
        print('250')
    except smtplib.SMTPRecipientsRefused as e:
        for r, (code, text) in e.recipients.items():
            print(code, text.decode())
    except smtplib.SMTPResponseException as e:
        print(e.smtp_code, e.smtp_error.decode())
    except smtplib.SMTPServerDisconnected as e:
        print('disconnected', e)


def raw(a):
    s = socket.create_connection(('127.0.0.1', a.port), 10,
                                 source_address=(a.source, 0) if a.source else None)
    s.settimeout(a.wait)
    out = b''
    # Read until the reply that ends this step: a 220 greeting first; after the client's
    # bytes, the end of the connection; else a pause of --wait.
    for chunk in [b''] + [bytes.fromhex(h) for h in a.chunks]:
        if chunk:
            s.sendall(chunk)
        start = len(out)
        while True:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                out += b'<closed>\n'
                break
            out += d
            lines = out[start:].split(b'\r\n')
            if not chunk and len(lines) > 1 and re.match(rb'220 ', lines[-2]):
                break
    sys.stdout.write(out.decode('latin-1').replace('\r\n', '\n'))


def hold(a):
    socks = []
    for _ in range(a.n):
        s = socket.create_connection(('127.0.0.1', a.port), 10,
                                     source_address=(a.source, 0) if a.source else None)
        s.settimeout(5)
        f = s.makefile('rb')
        print(f.readline().decode().strip())
        socks.append((s, f))
        sys.stdout.flush()
    time.sleep(3)


def queue(a):
    socks, res = [], {}

    def first(i, s, t0):
        try:
            line = s.makefile('rb').readline().decode()
        except OSError as e:
            line = type(e).__name__
        res[i] = (line[:3] or 'closed', time.monotonic() - t0)
        if i == 0 and a.release is not None:
            time.sleep(a.release)
            s.sendall(b'QUIT\r\n')

    th = []
    for i in range(a.n):
        s = socket.create_connection(('127.0.0.1', a.port), 10)
        s.settimeout(8)
        socks.append(s)
        th.append(threading.Thread(target=first, args=(i, s, time.monotonic())))
        th[-1].start()
        time.sleep(0.1)
    for t in th:
        t.join()
    for i in range(a.n):
        print('%d %s %.2f' % (i, res[i][0], res[i][1]))
    sys.stdout.flush()
    time.sleep(0 if a.release is not None else 3)


def again(a):
    body = b'From: <printer@example.org>\r\nTo: <ops@example.com>\r\nSubject: again\r\n\r\nx\r\n'
    for _ in range(a.n):
        try:
            s = smtplib.SMTP('127.0.0.1', a.port, 'device.test', timeout=30)
            s.sendmail('printer@example.org', ['ops@example.com'], body)
            s.quit()
            print('250')
        except smtplib.SMTPConnectError as e:
            print(e.smtp_code)
        except (smtplib.SMTPException, OSError) as e:
            print(type(e).__name__)
        sys.stdout.flush()


def load(a):
    lock = threading.Lock()
    out = open(a.outfile, 'w')

    def client(c):
        try:
            s = smtplib.SMTP('127.0.0.1', a.port, timeout=60)
            s.ehlo('load.test')
        except Exception as e:
            with lock:
                for m in range(a.messages):
                    out.write('c%d-m%d %s\n' % (c, m, 'noconn'))
            return
        for m in range(a.messages):
            tok = 'c%d-m%d' % (c, m)
            body = 'From: <load@example.org>\r\nTo: <sink@example.net>\r\nSubject: %s\r\n\r\n%s\r\n' % (tok, tok)
            try:
                s.sendmail('load@example.org', ['sink@example.net'], body.encode())
                code = 250
            except smtplib.SMTPResponseException as e:
                code = e.smtp_code
            except Exception:
                code = 'lost'
            with lock:
                out.write('%s %s\n' % (tok, code))
                out.flush()
        try:
            s.quit()
        except Exception:
            pass

    ts = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()


p = argparse.ArgumentParser()
p.add_argument('--port', type=int, required=True)
sub = p.add_subparsers(dest='cmd', required=True)
q = sub.add_parser('send')
q.add_argument('--source')
q.add_argument('--from', dest='sender', default='printer@example.org')
q.add_argument('--to', action='append', default=[])
q.add_argument('--subject', default='scan')
q.add_argument('--size', type=int, default=10)
q.add_argument('--user')
q.add_argument('--password', default='')
q.add_argument('--mech', choices=['PLAIN', 'LOGIN'])
q.add_argument('--starttls', metavar='CAFILE')
q = sub.add_parser('raw')
q.add_argument('--source')
q.add_argument('--wait', type=float, default=1.5)
q.add_argument('chunks', nargs='*')
q = sub.add_parser('queue')
q.add_argument('n', type=int)
q.add_argument('--release', type=float)
q = sub.add_parser('again')
q.add_argument('n', type=int)
q = sub.add_parser('hold')
q.add_argument('n', type=int)
q.add_argument('--source')
q = sub.add_parser('load')
q.add_argument('clients', type=int)
q.add_argument('messages', type=int)
q.add_argument('outfile')
a = p.parse_args()
if a.cmd == 'send' and not a.to:
    a.to = ['boss@example.net']
{'send': send, 'raw': raw, 'hold': hold, 'queue': queue, 'again': again, 'load': load}[a.cmd](a)
