#!/usr/bin/env bash
# certs.sh DIR: makes a throwaway test PKI in DIR (only the files that are missing).
#   ca.pem/.key            "secmon test CA"
#   server.pem/.key        CN=collector, SAN localhost 127.0.0.1 127.0.0.2 ::1, serverAuth, signed by ca
#   wrongname.pem/.key     signed by ca, SAN DNS:wrong.example only
#   rotated.pem/.key       like server, signed by ca, but a NEW key (a "changed" certificate)
#   renewed.pem            like server, signed by ca, with server.key (no key of its own): a renewal,
#                          new serial and validity, same key and names
#   other-ca.pem/.key      an unrelated CA
#   client.pem/.key        CN=secmon client, clientAuth, signed by ca
#   other-client.pem/.key  client cert signed by other-ca
# Keys are 0600. Safe to run concurrently on the same DIR (flock).
# NEVER use these outside tests: the keys sit unencrypted in a temp directory.
set -euo pipefail

dir="${1:?usage: certs.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

exec 9>"$dir/.certs.lock"
flock 9

umask 077
days=3650
work="$(mktemp -d "$dir/.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Writes NAME.key atomically (new RSA 2048 key; node-forge cannot parse EC keys) unless it exists.
key() {
	[[ -s "$dir/$1.key" ]] && return 0
	# A certificate without its key is useless: make it again with the new key.
	rm -f "$dir/$1.pem"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$1.key" 2>/dev/null
	chmod 600 "$work/$1.key"
	mv "$work/$1.key" "$dir/$1.key"
}

# ca NAME SUBJECT: a self-signed CA.
ca() {
	key "$1"
	[[ -s "$dir/$1.pem" ]] && return 0
	fresh+=" $1 "
	openssl req -x509 -new -key "$dir/$1.key" -subj "$2" -days "$days" -sha256 \
		-addext 'basicConstraints=critical,CA:TRUE' \
		-addext 'keyUsage=critical,keyCertSign,cRLSign' \
		-addext 'subjectKeyIdentifier=hash' \
		-out "$work/$1.pem"
	mv "$work/$1.pem" "$dir/$1.pem"
}

# leaf NAME CA SUBJECT EKU SAN(or empty) [KEY [DAYS]]: a certificate signed by CA, for KEY.key
# (default NAME.key).
leaf() {
	local name="$1" issuer="$2" subject="$3" eku="$4" san="$5" keyname="${6:-$1}" valid="${7:-$days}"
	key "$keyname"
	# A new CA invalidates what the old one signed.
	if [[ "$fresh" == *" $issuer "* ]]; then rm -f "$dir/$name.pem"; fi
	# A certificate for another's key must still hold that key (it may have been made anew).
	if [[ "$keyname" != "$name" && -s "$dir/$name.pem" ]] \
		&& [[ "$(openssl x509 -noout -pubkey -in "$dir/$name.pem")" != "$(openssl pkey -in "$dir/$keyname.key" -pubout)" ]]; then
		rm -f "$dir/$name.pem"
	fi
	[[ -s "$dir/$name.pem" ]] && return 0
	{
		echo 'basicConstraints=critical,CA:FALSE'
		echo 'keyUsage=critical,digitalSignature,keyEncipherment'
		echo "extendedKeyUsage=$eku"
		echo 'subjectKeyIdentifier=hash'
		echo 'authorityKeyIdentifier=keyid'
		if [[ -n "$san" ]]; then echo "subjectAltName=$san"; fi
	} >"$work/$name.ext"
	openssl req -new -key "$dir/$keyname.key" -subj "$subject" -out "$work/$name.csr"
	openssl x509 -req -in "$work/$name.csr" -CA "$dir/$issuer.pem" -CAkey "$dir/$issuer.key" \
		-CAcreateserial -CAserial "$work/$issuer.srl" -days "$valid" -sha256 \
		-extfile "$work/$name.ext" -out "$work/$name.pem" 2>/dev/null
	chmod 644 "$work/$name.pem"
	mv "$work/$name.pem" "$dir/$name.pem"
}

fresh=''
server_san='DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1'

ca ca '/CN=secmon test CA'
ca other-ca '/CN=secmon other test CA'
leaf server ca '/CN=collector' serverAuth "$server_san"
leaf wrongname ca '/CN=wrong.example' serverAuth 'DNS:wrong.example'
leaf rotated ca '/CN=collector' serverAuth "$server_san"
# -days differs from server.pem's (a later expiry), so the validity differs even when both are made in one second.
leaf renewed ca '/CN=collector' serverAuth "$server_san" server 3660
leaf client ca '/CN=secmon client' clientAuth ''
leaf other-client other-ca '/CN=secmon other client' clientAuth ''
chmod 644 "$dir/ca.pem" "$dir/other-ca.pem"
chmod 600 "$dir"/*.key
