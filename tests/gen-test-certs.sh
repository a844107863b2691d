#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generates the certificates the TLS tests use, into OUTDIR:
#
#   ca.pem                  the trusted test CA
#   server.pem              localhost, 127.0.0.1, ::1; signed by ca.pem
#   server-key.pem          the key of every server certificate below
#   untrusted.pem           localhost, 127.0.0.1; signed by other-ca.pem (not trusted)
#   wronghost.pem           wrong.invalid only; signed by ca.pem
#   expired.pem             localhost, 127.0.0.1; expired in 2020; signed by ca.pem
#   notyet.pem              localhost, 127.0.0.1; valid from 2090; signed by ca.pem
#   client-ca.pem           the CA a server requiring client certificates trusts
#   client.pem              a client certificate signed by client-ca.pem
#   client-key.pem          its key
#   client-key-enc.pem      the same key as encrypted PKCS #8, password "gmulti-secret"
#
# ECDSA keys keep it fast. Needs certtool (GnuTLS, package gnutls-bin).
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"

if ! command -v certtool >/dev/null 2>&1; then
  echo "$0: certtool not found (install gnutls-bin)" >&2
  exit 1
fi

# certtool is chatty on stderr; show what it said only when something failed.
log=certtool.log
: > "$log"
trap 'status=$?; [ $status -ne 0 ] && cat "$log" >&2; rm -f "$log" ./*.tmpl; exit $status' EXIT

key () {
  certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
    --outfile "$1" 2>>"$log"
}

# template NAME, then lines of template text on stdin
template () {
  cat > "$1.tmpl"
}

ca () { # NAME CN
  key "$1-key.pem"
  template "$1" <<EOF
cn = "$2"
ca
cert_signing_key
crl_signing_key
expiration_days = 3650
EOF
  certtool --generate-self-signed --load-privkey "$1-key.pem" \
    --template "$1.tmpl" --outfile "$1.pem" 2>>"$log"
}

signed () { # NAME ISSUER KEY
  certtool --generate-certificate --load-privkey "$3" \
    --load-ca-certificate "$2.pem" --load-ca-privkey "$2-key.pem" \
    --template "$1.tmpl" --outfile "$1.pem" 2>>"$log"
}

server_template () { # NAME EXTRA-LINE
  template "$1" <<EOF
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
ip_address = "::1"
tls_www_server
signing_key
encryption_key
$2
EOF
}

ca ca "gmulti test CA"
ca other-ca "gmulti untrusted test CA"
ca client-ca "gmulti test client CA"

key server-key.pem
key client-key.pem

server_template server "expiration_days = 3650"
signed server ca server-key.pem

server_template untrusted "expiration_days = 3650"
signed untrusted other-ca server-key.pem

server_template expired 'activation_date = "2019-01-01 00:00:00 UTC"
expiration_date = "2020-01-01 00:00:00 UTC"'
signed expired ca server-key.pem

server_template notyet 'activation_date = "2090-01-01 00:00:00 UTC"
expiration_date = "2091-01-01 00:00:00 UTC"'
signed notyet ca server-key.pem

template wronghost <<EOF
cn = "wrong.invalid"
dns_name = "wrong.invalid"
tls_www_server
signing_key
encryption_key
expiration_days = 3650
EOF
signed wronghost ca server-key.pem

template client <<EOF
cn = "gmulti test client"
tls_www_client
signing_key
expiration_days = 3650
EOF
signed client client-ca client-key.pem

# The client key again, encrypted with a password (PKCS #8, PBES2). certtool always
# derives the key with 600,000 PBKDF2 rounds, which under valgrind takes longer than a
# connect timeout; openssl is told to use few (the test is about the password, not the
# key derivation's strength).
if command -v openssl >/dev/null 2>&1; then
  openssl pkcs8 -topk8 -in client-key.pem -v2 aes-128-cbc -iter 2048 \
    -passout pass:gmulti-secret -out client-key-enc.pem 2>>"$log"
else
  certtool --load-privkey client-key.pem --to-p8 --password gmulti-secret \
    --outfile client-key-enc.pem 2>>"$log"
fi
