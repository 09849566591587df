#!/bin/bash
# Self-test of test/lib/realmta.sh: a real Postfix + Dovecot on loopback.
# Fetches the packages if needed, starts the servers with a freshly made test CA's
# certificate, sends with python3's smtplib over every port and mechanism, checks the
# delivered bytes and envelopes, stops, and checks that no process is left.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RT=$HERE/lib/realmta.sh
PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3
now_ms() { date +%s%3N; }

T=$(mktemp -d /tmp/realmta-selftest.XXXXXX)
D=$T/mta
cleanup() { bash "$RT" stop "$D" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT

t=$(now_ms)
bash "$RT" fetch
echo "fetch: $(( $(now_ms) - t )) ms"

# test CA (EC P-256) and a server certificate for localhost / 127.0.0.1
C=$T/certs
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=realmta test CA" -keyout "$C/ca.key" -out "$C/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-keyout "$C/server.key" -out "$C/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:127.0.0.1\n' >"$C/ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
	-days 2 -extfile "$C/ext" -out "$C/server.pem" 2>/dev/null

t=$(now_ms)
bash "$RT" start "$D" --cert "$C/server.pem" --key "$C/server.key"
start_ms=$(( $(now_ms) - t ))
echo "start: $start_ms ms"
cat "$D/ports"
bash "$RT" status "$D"

pyrc=0
"$PY" - "$D" "$C/ca.pem" "$T/counts" <<'PY' || pyrc=$?
import base64, hashlib, hmac, os, smtplib, ssl, sys, time

D, CA = sys.argv[1], sys.argv[2]
cfg = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(D, "ports")))
H, USER, PW = "127.0.0.1", cfg["user"], cfg["password"]
ctx = ssl.create_default_context(cafile=CA)  # verifies the chain and "localhost"
passed = failed = 0

def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail) if detail else ""))

class Scram:
    """SCRAM-SHA-1/-256 client for smtplib.SMTP.auth (no channel binding)."""
    def __init__(self, hname, user, pw):
        self.h, self.user, self.pw = hname, user, pw
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.step = 0
        self.server_ok = False
    def __call__(self, challenge=None):
        if self.step == 0:
            self.step = 1
            self.cfb = "n=%s,r=%s" % (self.user.replace("=", "=3D").replace(",", "=2C"), self.nonce)
            return "n,," + self.cfb
        if self.step == 1:
            self.step = 2
            sfirst = challenge.decode()
            a = dict(kv.split("=", 1) for kv in sfirst.split(","))
            assert a["r"].startswith(self.nonce)
            salted = hashlib.pbkdf2_hmac(self.h, self.pw.encode(), base64.b64decode(a["s"]), int(a["i"]))
            ckey = hmac.new(salted, b"Client Key", self.h).digest()
            skey = hmac.new(salted, b"Server Key", self.h).digest()
            cfwp = "c=biws,r=" + a["r"]
            msg = ",".join([self.cfb, sfirst, cfwp]).encode()
            csig = hmac.new(hashlib.new(self.h, ckey).digest(), msg, self.h).digest()
            self.ssig = base64.b64encode(hmac.new(skey, msg, self.h).digest()).decode()
            proof = bytes(x ^ y for x, y in zip(ckey, csig))
            return cfwp + ",p=" + base64.b64encode(proof).decode()
        # server-final: v=...
        self.server_ok = challenge.decode() == "v=" + self.ssig
        return ""

sent = {}  # test id -> (from, [rcpts], message bytes)
def msg(tid, extra=b""):
    return (b"From: Sender <sender@example.org>\r\nTo: rcpt@example.net\r\n"
            b"Subject: realmta self-test " + tid.encode() + b"\r\nX-Test-Id: " + tid.encode() +
            b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\nHello \xc3\xa9t\xc3\xa9 from " + tid.encode() +
            b".\r\n.leading dot line\r\n..two dots\r\n" + extra + b"last line\r\n")

def send(s, tid, frm="sender@example.org", rcpts=("rcpt@example.net",), extra=b""):
    m = msg(tid, extra)
    s.sendmail(frm, list(rcpts), m, mail_options=["BODY=8BITMIME"])
    sent[tid] = (frm, list(rcpts), m)

# 1. smtp: no AUTH before STARTTLS, plain delivery without AUTH
s = smtplib.SMTP(H, int(cfg["smtp"]), timeout=10)
s.ehlo("client.test")
check("smtp: STARTTLS offered", s.has_extn("starttls"))
check("smtp: no AUTH before STARTTLS", not s.has_extn("auth"))
check("smtp: 8BITMIME, SIZE, PIPELINING, SMTPUTF8 offered",
      all(s.has_extn(x) for x in ("8bitmime", "size", "pipelining", "smtputf8")))
send(s, "plain-smtp", rcpts=("a@example.net", "b@example.com"))
send(s, "null-sender", frm="")
s.quit()
s = smtplib.SMTP(H, int(cfg["smtp"]), timeout=10)
s.starttls(context=ctx); s.ehlo("client.test")
check("smtp: AUTH after STARTTLS", s.has_extn("auth"))
s.quit()

# 2. submission: STARTTLS required, AUTH required, each mechanism
s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
s.ehlo("client.test")
check("submission: STARTTLS offered, no AUTH in clear", s.has_extn("starttls") and not s.has_extn("auth"))
code, _ = s.mail("sender@example.org")
check("submission: MAIL before STARTTLS refused (530)", code == 530, code)
s.close()
s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
s.starttls(context=ctx); s.ehlo("client.test")
mechs = set(s.esmtp_features.get("auth", "").upper().split())
check("submission: mechanisms offered", {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"} <= mechs, mechs)
s.mail("sender@example.org")
code, _ = s.rcpt("rcpt@example.net")
check("submission: RCPT without AUTH refused (554)", code == 554, code)
s.close()
for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
    s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
    s.starttls(context=ctx); s.ehlo("client.test")
    s.user, s.password = USER, PW
    code, resp = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
    check("submission: AUTH %s" % mech, code == 235, (code, resp))
    send(s, "sub-" + mech)
    s.quit()
for mech, hname in (("SCRAM-SHA-1", "sha1"), ("SCRAM-SHA-256", "sha256")):
    s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
    s.starttls(context=ctx); s.ehlo("client.test")
    sc = Scram(hname, USER, PW)
    try:
        code, resp = s.auth(mech, sc)
    except smtplib.SMTPException as e:
        code, resp = -1, e
    check("submission: AUTH %s (server signature verified)" % mech, code == 235 and sc.server_ok, (code, resp))
    if code == 235:
        send(s, "sub-" + mech)
    s.quit()

# 3. wrong password: 535 without delay, repeatedly
for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
    s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
    s.starttls(context=ctx); s.ehlo("client.test")
    s.user, s.password = USER, "wrong-pw"
    t0 = time.monotonic()
    try:
        s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
        code = 235
    except smtplib.SMTPAuthenticationError as e:
        code = e.smtp_code
    dt = time.monotonic() - t0
    check("submission: wrong password with %s -> 535 in %.0f ms" % (mech, dt * 1000), code == 535 and dt < 0.3, (code, dt))
    s.quit()
s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
s.starttls(context=ctx); s.ehlo("client.test")
t0 = time.monotonic()
try:
    s.auth("SCRAM-SHA-256", Scram("sha256", USER, "wrong-pw")); code = 235
except smtplib.SMTPAuthenticationError as e:
    code = e.smtp_code
dt = time.monotonic() - t0
check("submission: wrong password with SCRAM-SHA-256 -> 535 in %.0f ms" % (dt * 1000), code == 535 and dt < 0.3, (code, dt))
s.quit()

for i in range(5):  # no growing penalty for repeated failures, unknown users too
    s = smtplib.SMTP(H, int(cfg["submission"]), timeout=10)
    s.starttls(context=ctx); s.ehlo("client.test")
    t0 = time.monotonic()
    try:
        s.login("nobody-%d@example.test" % i if i % 2 else USER, "wrong-pw"); code = 235
    except smtplib.SMTPAuthenticationError as e:
        code = e.smtp_code
    dt = time.monotonic() - t0
    check("submission: repeated failure %d -> 535 in %.0f ms" % (i + 1, dt * 1000), code == 535 and dt < 0.3, (code, dt))
    s.quit()

# 4. smtps: implicit TLS + AUTH
s = smtplib.SMTP_SSL(H, int(cfg["smtps"]), context=ctx, timeout=10)
s.ehlo("client.test")
check("smtps: AUTH offered", s.has_extn("auth"))
s.login(USER, PW)
send(s, "smtps")
s.quit()

# 5. plainauth: AUTH PLAIN without any TLS
s = smtplib.SMTP(H, int(cfg["plainauth"]), timeout=10)
s.ehlo("client.test")
check("plainauth: no STARTTLS, AUTH offered", not s.has_extn("starttls") and s.has_extn("auth"))
s.login(USER, PW)
send(s, "plainauth")
s.quit()

# 6. delivered bytes and envelopes
deliv = os.path.join(D, "delivered")
deadline = time.monotonic() + 15
while time.monotonic() < deadline and len([f for f in os.listdir(deliv) if f.endswith(".eml")]) < len(sent):
    time.sleep(0.05)
got = {}
for f in sorted(os.listdir(deliv)):
    if f.endswith(".eml"):
        body = open(os.path.join(deliv, f), "rb").read()
        env = open(os.path.join(deliv, f[:-4] + ".env")).read().splitlines()
        tid = [l for l in body.split(b"\n") if l.startswith(b"X-Test-Id: ")][0][11:].decode()
        got[tid] = (f, body, env)
check("all %d messages delivered once" % len(sent), sorted(got) == sorted(sent), (sorted(got), sorted(sent)))
expect_auth = {"sub-PLAIN": "PLAIN", "sub-LOGIN": "LOGIN", "sub-CRAM-MD5": "CRAM-MD5",
               "sub-SCRAM-SHA-1": "SCRAM-SHA-1", "sub-SCRAM-SHA-256": "SCRAM-SHA-256",
               "smtps": None, "plainauth": None}
for tid, (frm, rcpts, m) in sorted(sent.items()):
    if tid not in got:
        continue
    f, body, env = got[tid]
    want = m.replace(b"\r\n", b"\n")
    check("%s: delivered bytes == sent bytes (LF line endings)" % tid, body == want, (body, want))
    check("%s: envelope from/to" % tid,
          ("from=" + frm) in env and sorted(l for l in env if l.startswith("to=")) == sorted("to=" + r for r in rcpts), env)
    rcv = [l for l in env if l.startswith("received=")]
    check("%s: Postfix's Received header moved to the envelope" % tid,
          len(rcv) == 1 and "by realmta.test (Postfix)" in rcv[0], rcv)
    if tid in expect_auth:
        check("%s: authenticated as %s" % (tid, USER), "sasl_username=" + USER in env, env)
        if expect_auth[tid]:
            check("%s: sasl_method=%s" % (tid, expect_auth[tid]), "sasl_method=" + expect_auth[tid] in env, env)
    else:
        check("%s: not authenticated" % tid, "sasl_username=" in env, env)
    want = {"plain-smtp": "ESMTP", "null-sender": "ESMTP", "plainauth": "ESMTPA"}.get(tid, "ESMTPSA")
    check("%s: with=%s" % (tid, want), "with=" + want in env, env)

open(sys.argv[3], "w").write("%d %d\n" % (passed, failed))
sys.exit(1 if failed else 0)
PY

RUNDIR=$(sed -n 's/^runtime=//p' "$D/ports")
SIDS=$(cat "$D/.sids")
t=$(now_ms)
bash "$RT" stop "$D"
stop_ms=$(( $(now_ms) - t ))
echo "stop: $stop_ms ms"

passed=0 failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
left=""
for f in /proc/[0-9]*/stat; do
	{ read -r line <"$f"; } 2>/dev/null || continue
	# shellcheck disable=SC2206
	fields=(${line##*) })
	[ "${fields[0]}" = Z ] && continue
	for s in $SIDS; do [ "${fields[3]}" = "$s" ] && left="$left ${f//[^0-9]/}"; done
done
for p in /proc/[0-9]*; do
	exe=$(readlink "$p/exe" 2>/dev/null) || continue
	case $exe in "$HERE/.cache/realmta/"*) grep -qs -- "$RUNDIR" "$p/cmdline" && left="$left ${p#/proc/}" ;; esac
done
if [ -n "$left" ]; then bad "processes left after stop:$left"; else ok "no process left after stop"; fi
if [ -e "$RUNDIR" ]; then bad "run directory $RUNDIR left"; else ok "run directory removed"; fi
if [ -e "$D/delivered/1.eml" ] && [ ! -L "$D/delivered" ]; then ok "delivered messages kept in DIR"; else bad "delivered messages not kept"; fi
if [ "$start_ms" -lt 10000 ]; then ok "start took $start_ms ms"; else bad "start took $start_ms ms"; fi
if bash "$RT" status "$D"; then bad "status says running after stop"; else ok "status says stopped"; fi
if [ -s "$T/counts" ]; then
	read -r p f <"$T/counts"
	passed=$((passed + p)) failed=$((failed + f))
fi
[ "$pyrc" -eq 0 ] || [ "$failed" -gt 0 ] || bad "the python client exited with $pyrc"
echo "timings: start ${start_ms} ms, stop ${stop_ms} ms"
echo "realmta_selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
