#!/usr/bin/env bash
# A private, real PCP pmproxy (Debian's pcp, /usr/lib/pcp/bin/pmproxy) on loopback, in front of a
# private pmcd (pmcd.sh), for the pmproxy:// tests (docs/pmproxy.md#a-private-pmproxy).
#
#   pmproxy.sh start MODE PORT DIR [PMCD_PORT]   prints the pmproxy PID, writes DIR/pmproxy.pid
#   pmproxy.sh stop DIR                          SIGTERM (SIGKILL after 5 s), prints the PID
#
# MODE:
#   plain          HTTP only (secure.enabled = false)
#   tls            HTTPS and HTTP on the same port, server.pem (CA-signed, SAN localhost/127.0.0.1/…)
#   tls-wrongname  the same with wrongname.pem (SAN DNS:wrong.example only)
#   tls-rotated    the same with rotated.pem (same CA and names as server.pem, a new key)
#   require        TLS with a client certificate required (tls-verify-clients = true, the test CA)
#   custom         DIR/pmproxy.conf and DIR/tls.conf as the caller wrote them (the pki snippet test)
# PMCD_PORT is the pmcd pmproxy reads by default (its PMCD_PORT); requests can name another
# with hostspec. Only 127.0.0.1 is used. Certificates come from $SECMON_TEST_CERTS (default
# DIR/certs), made by certs.sh when missing. Redis, discovery and pmseries are off: the /pmapi/
# REST API needs none of them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PMPROXY=/usr/lib/pcp/bin/pmproxy
BIND=127.0.0.1

usage() {
	echo "usage: pmproxy.sh start plain|tls|tls-wrongname|tls-rotated|require|custom PORT DIR [PMCD_PORT]" >&2
	echo "       pmproxy.sh stop DIR" >&2
	exit 2
}

die() {
	echo "pmproxy.sh: $*" >&2
	exit 1
}

alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

is_pmproxy() {
	[[ "$(cat "/proc/$1/comm" 2>/dev/null)" == pmproxy ]]
}

listeners() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

cmd_start() {
	local mode="${1:-}" port="${2:-}" dir="${3:-}" pmcd_port="${4:-44321}"
	[[ -n "$mode" && -n "$port" && -n "$dir" ]] || usage
	case "$mode" in
		plain | tls | tls-wrongname | tls-rotated | require | custom) ;;
		*) die "unknown MODE '$mode'" ;;
	esac
	[[ "$port" =~ ^[0-9]+$ && "$port" -ge 1024 && "$port" -le 65535 ]] || die "PORT must be 1024-65535, got '$port'"
	[[ "$pmcd_port" =~ ^[0-9]+$ ]] || die "PMCD_PORT must be a port number, got '$pmcd_port'"
	[[ -x "$PMPROXY" ]] || die "pcp is not installed; run: sudo bash $here/install.sh"

	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	[[ "$dir" != *[[:space:]]* ]] || die "DIR must not contain whitespace: '$dir'"
	if [[ -f "$dir/pmproxy.pid" ]] && alive "$(cat "$dir/pmproxy.pid")" && is_pmproxy "$(cat "$dir/pmproxy.pid")"; then
		die "a pmproxy (PID $(cat "$dir/pmproxy.pid")) already runs for $dir; stop it first"
	fi
	if [[ -n "$(listeners "$port")" ]] || ss -Hltn "sport = :$port" | grep -q .; then
		die "TCP port $port is already in use; pick another port"
	fi

	local certs="${SECMON_TEST_CERTS:-$dir/certs}" cert=''
	case "$mode" in
		tls | require) cert=server ;;
		tls-wrongname) cert=wrongname ;;
		tls-rotated) cert=rotated ;;
	esac
	if [[ "$mode" != custom ]]; then
		if [[ -n "$cert" ]]; then
			bash "$here/certs.sh" "$certs" >&2 || die "making test certificates in $certs failed"
		fi
		# docs/pmproxy.md#a-private-pmproxy: a private config; secure.enabled = true plus a tls.conf
		# with a certificate turns HTTPS on (served beside HTTP on the same port).
		cat >"$dir/pmproxy.conf" <<-EOF
			[pmproxy]
			pcp.enabled = true
			http.enabled = true
			redis.enabled = false
			secure.enabled = $([[ -n "$cert" ]] && echo true || echo false)
			[discover]
			enabled = false
			[pmseries]
			enabled = false
		EOF
		: >"$dir/tls.conf"
		if [[ -n "$cert" ]]; then
			{
				echo "tls-cert-file = $certs/$cert.pem"
				echo "tls-key-file = $certs/$cert.key"
				echo "tls-ca-cert-file = $certs/ca.pem"
			} >>"$dir/tls.conf"
		fi
		if [[ "$mode" == require ]]; then
			echo "tls-verify-clients = true" >>"$dir/tls.conf"
		fi
	fi
	[[ -s "$dir/pmproxy.conf" ]] || die "no $dir/pmproxy.conf"
	[[ -f "$dir/tls.conf" ]] || die "no $dir/tls.conf"

	rm -f "$dir/pmproxy.log" "$dir/pmproxy.err" "$dir/pmproxy.out" "$dir/pmproxy.socket"
	cd "$dir"
	# -f foreground, -A no avahi, -U root keeps the user (the test's), -s a private unix socket.
	env -u PCP_SECURE_SOCKETS -u PMPROXY_PORT PMCD_PORT="$pmcd_port" PCP_TLSCONF_PATH="$dir/tls.conf" PCP_DERIVED_CONFIG= \
		setsid "$PMPROXY" -f -A -U "$(id -un)" -i "$BIND" -p "$port" -c "$dir/pmproxy.conf" \
		-s "$dir/pmproxy.socket" -l "$dir/pmproxy.log" -x "$dir/pmproxy.err" \
		</dev/null >"$dir/pmproxy.out" 2>&1 &
	local pid=$!

	local deadline=$((SECONDS + 15))
	until listeners "$port" | grep -qx "$pid"; do
		if ! alive "$pid"; then
			tail -n 20 "$dir/pmproxy.log" "$dir/pmproxy.out" >&2 2>/dev/null || true
			die "pmproxy exited during start-up ($mode on $BIND:$port)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$dir/pmproxy.log" >&2 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
			die "pmproxy ($mode on $BIND:$port) was not listening after 15 s; killed PID $pid"
		fi
		sleep 0.05
	done
	if [[ -n "$cert" || "$mode" == custom ]] && [[ -s "$dir/tls.conf" ]]; then
		# HTTPS is on once the log says OpenSSL was set up (docs/pmproxy.md#tls).
		until grep -q 'OpenSSL .* setup' "$dir/pmproxy.log" 2>/dev/null; do
			if ((SECONDS >= deadline)); then
				tail -n 20 "$dir/pmproxy.log" >&2 2>/dev/null || true
				kill -KILL "$pid" 2>/dev/null || true
				die "pmproxy ($mode) never logged its OpenSSL setup; killed PID $pid"
			fi
			sleep 0.05
		done
	fi

	echo "$pid" >"$dir/pmproxy.pid"
	echo "pmproxy.sh: started $mode pmproxy on $BIND:$port (pmcd port $pmcd_port), PID $pid, dir $dir" >&2
	echo "$pid"
}

cmd_stop() {
	local dir="${1:-}"
	[[ -n "$dir" ]] || usage
	[[ -f "$dir/pmproxy.pid" ]] || die "no $dir/pmproxy.pid: nothing to stop"
	local pid
	pid="$(cat "$dir/pmproxy.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || die "$dir/pmproxy.pid does not hold a PID"
	if ! alive "$pid" || ! is_pmproxy "$pid"; then
		rm -f "$dir/pmproxy.pid"
		die "pmproxy PID $pid (from $dir/pmproxy.pid) is not running"
	fi
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		echo "pmproxy.sh: PID $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
	fi
	alive "$pid" && die "pmproxy PID $pid is still running after SIGKILL"
	rm -f "$dir/pmproxy.pid"
	echo "pmproxy.sh: stopped pmproxy PID $pid ($dir)" >&2
	echo "$pid"
}

case "${1:-}" in
	start) shift; cmd_start "$@" ;;
	stop) shift; cmd_stop "$@" ;;
	*) usage ;;
esac
