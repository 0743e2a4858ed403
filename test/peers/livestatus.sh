#!/usr/bin/env bash
# Livestatus over TLS the way a Checkmk site serves it (docs/icinga-livestatus-mon.md#checkmk-tls): stunnel in front of the
# plain Livestatus port, with the site's own CA. The Livestatus server is Icinga 2's livestatus
# feature (icinga2.sh start … LIVESTATUS_PORT), as Debian has no Checkmk (docs/icinga-livestatus-mon.md#livestatus-server).
#
#   livestatus.sh pki DIR
#       Idempotent: a Checkmk-style site "secmon" under DIR/site (openssl, RSA 2048):
#       site/etc/ssl/ca.pem               CA key + certificate in one file ("Site 'secmon' local CA")
#       site/etc/ssl/sites/secmon.pem     key + site certificate (CN/SAN secmon only) + CA
#       site/var/ssl/ca-certificates.crt  the trust store clients use
#       client/secmon-client.{crt,key}    client certificate from the site CA
#       client/foreign-client.{crt,key}   client certificate from an unrelated CA
#   livestatus.sh start DIR LIVESTATUS_PORT TLS_PORT MTLS_PORT
#       stunnel (via stunnel.sh) on 127.0.0.1: TLS_PORT = server authentication only (Checkmk's
#       live-tls), MTLS_PORT = a client certificate from the site CA is required. Prints the PID.
#   livestatus.sh stop DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
	echo "livestatus.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: livestatus.sh pki DIR | start DIR LIVESTATUS_PORT TLS_PORT MTLS_PORT | stop DIR" >&2
	exit 2
}

issue() {
	# issue CA_CERT CA_KEY OUT_BASE CN SAN_LINE EKU
	local ca="$1" cakey="$2" out="$3" cn="$4" san="$5" eku="$6"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$out.key" -out "$out.csr" -subj "/O=Checkmk Site secmon/CN=$cn" 2>/dev/null
	openssl x509 -req -in "$out.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial -days 30 -out "$out.crt" \
		-extfile <(printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s\n' "$eku" "$san") 2>/dev/null
	rm -f "$out.csr"
	chmod 0600 "$out.key"
}

pki() {
	local d="$1"
	mkdir -p "$d"
	d="$(cd "$d" && pwd)"
	exec 8>"$d/.pki.lock"
	flock 8
	[[ -s "$d/pki.done" ]] && return 0
	local s="$d/site" c="$d/client" t="$d/tmp"
	mkdir -p "$s/etc/ssl/sites" "$s/var/ssl" "$c" "$t"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/ca.key" -out "$t/ca.crt" -days 30 \
		-subj "/CN=Site 'secmon' local CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	cat "$t/ca.key" "$t/ca.crt" >"$s/etc/ssl/ca.pem"
	chmod 0600 "$s/etc/ssl/ca.pem"
	cp "$t/ca.crt" "$s/var/ssl/ca-certificates.crt"
	issue "$t/ca.crt" "$t/ca.key" "$t/site" secmon 'subjectAltName=DNS:secmon' serverAuth
	cat "$t/site.key" "$t/site.crt" "$t/ca.crt" >"$s/etc/ssl/sites/secmon.pem"
	chmod 0600 "$s/etc/ssl/sites/secmon.pem"
	issue "$t/ca.crt" "$t/ca.key" "$c/secmon-client" secmon-client 'subjectAltName=DNS:secmon-client' clientAuth
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/foreign-ca.key" -out "$t/foreign-ca.crt" -days 30 \
		-subj "/CN=Some other CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
	issue "$t/foreign-ca.crt" "$t/foreign-ca.key" "$c/foreign-client" secmon-client 'subjectAltName=DNS:secmon-client' clientAuth
	rm -f "$t/ca.key" "$t/foreign-ca.key"
	date -u +%FT%TZ >"$d/pki.done"
	echo "livestatus.sh: site PKI ready in $d" >&2
}

start() {
	local d="$1" live="$2" tlsport="$3" mtls="$4" p
	for p in "$live" "$tlsport" "$mtls"; do
		[[ "$p" =~ ^[0-9]+$ ]] || die "bad port '$p'"
	done
	[[ -s "$d/pki.done" ]] || pki "$d"
	d="$(cd "$d" && pwd)"
	local s="$d/site"
	cat >"$d/services.conf" <<-EOF
		cert = $s/etc/ssl/sites/secmon.pem
		sslVersionMin = TLSv1.2
		socket = l:TCP_NODELAY=1
		socket = r:TCP_NODELAY=1

		; Checkmk's live-tls: server authentication only
		[live-tls]
		accept = 127.0.0.1:$tlsport
		connect = 127.0.0.1:$live
		TIMEOUTclose = 0

		; stricter: a client certificate from the site CA is required
		[live-mtls]
		accept = 127.0.0.1:$mtls
		connect = 127.0.0.1:$live
		CAfile = $s/var/ssl/ca-certificates.crt
		requireCert = yes
		verifyChain = yes
		TIMEOUTclose = 0
	EOF
	bash "$here/stunnel.sh" start "$d"
}

case "${1:-}" in
	pki)
		[[ $# -eq 2 ]] || usage
		pki "$2"
		;;
	start)
		[[ $# -eq 5 ]] || usage
		start "$2" "$3" "$4" "$5"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		bash "$here/stunnel.sh" stop "$2"
		;;
	*) usage ;;
esac
