#!/bin/sh
# mkcerts.sh DIR -- test certificates for the mailout test suites.
#
# Idempotent and cached: if DIR/.complete exists nothing is done. Concurrent
# callers are serialised with flock on DIR.lock. All keys are EC P-256 (PKCS#8 PEM).
#
#   ca.pem / ca.key             test CA ("mailout test CA"); clients trust this one
#   server.pem / server.key     CN=localhost, SAN DNS:localhost, DNS:127.0.0.1,
#                               IP:127.0.0.1, IP:::1; signed by ca; valid now
#   expired.pem / expired.key   as server, but valid 2020-01-01 .. 2021-01-01 (in the past)
#   future.pem / future.key     as server, but valid 2045-01-01 .. 2046-01-01 (not yet valid)
#   wronghost.pem / .key        CN=wrong.example, SAN DNS:wrong.example only; signed by ca
#   selfsigned.pem / .key       as server (localhost SANs) but self-signed, not by ca
#   other-ca.pem / other-ca.key a second CA that clients do NOT trust
#   untrusted.pem / .key        as server (localhost SANs) but signed by other-ca
#   ip-only.pem / ip-only.key   CN=ip-only.test, SAN IP:127.0.0.1 only (no DNS entries); signed by ca
#                               (mbedTLS 2.28 does not match IP SANs in a host name check)
#   client.pem / client.key     client certificate CN=client.test (EKU clientAuth); signed by ca
#
# openssl 3.0's "x509 -req" has no -not_before/-not_after, so every leaf is issued
# with "openssl ca" (which has -startdate/-enddate) from a throw-away CA database.
set -eu

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -e "$dir/.complete" ] && exit 0

exec 9>"$dir.lock"
flock 9
[ -e "$dir/.complete" ] && exit 0

work=$(mktemp -d "$dir/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

cat >req.cnf <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_selfsigned ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1
EOF

cat >ext.cnf <<'EOF'
[ localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
[ wronghost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
authorityKeyIdentifier = keyid
[ iponly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF

genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

mkca() { # name CN
    genkey "$1.key"
    openssl req -new -x509 -config req.cnf -extensions v3_ca -key "$1.key" \
        -subj "/CN=$2" -days 3650 -sha256 -out "$1.pem"
}

# issue NAME CN EXTSECTION CA STARTDATE ENDDATE
issue() {
    genkey "$1.key"
    openssl req -new -config req.cnf -key "$1.key" -subj "/CN=$2" -out "$1.csr"
    rm -rf "db-$1"; mkdir "db-$1"; : >"db-$1/index.txt"
    openssl rand -hex 8 | sed 's/^./4/' >"db-$1/serial"
    cat >"db-$1/ca.cnf" <<EOF
[ ca ]
default_ca = d
[ d ]
database = db-$1/index.txt
new_certs_dir = db-$1
serial = db-$1/serial
default_md = sha256
policy = p
unique_subject = no
email_in_dn = no
copy_extensions = none
[ p ]
commonName = supplied
EOF
    openssl ca -batch -notext -config "db-$1/ca.cnf" -cert "$4.pem" -keyfile "$4.key" \
        -in "$1.csr" -out "$1.pem" -startdate "$5" -enddate "$6" \
        -extfile ext.cnf -extensions "$3" 2>/dev/null >/dev/null
}

now=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)

mkca ca "mailout test CA"
mkca other-ca "mailout other (untrusted) CA"
issue server    localhost     localhost ca       "$now" "$later"
issue expired   localhost     localhost ca       20200101000000Z 20210101000000Z
issue future    localhost     localhost ca       20450101000000Z 20460101000000Z
issue wronghost wrong.example wronghost ca       "$now" "$later"
issue untrusted localhost     localhost other-ca "$now" "$later"
issue ip-only   ip-only.test  iponly    ca       "$now" "$later"
issue client    client.test   client    ca       "$now" "$later"
genkey selfsigned.key
openssl req -new -x509 -config req.cnf -extensions v3_selfsigned -key selfsigned.key \
    -subj "/CN=localhost" -days 3650 -sha256 -out selfsigned.pem

for n in ca other-ca server expired future wronghost untrusted ip-only client selfsigned; do
    mv -f "$n.pem" "$n.key" "$dir/"
done
chmod 600 "$dir"/*.key
: >"$dir/.complete"
