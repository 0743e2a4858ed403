#!/usr/bin/env bash
# A private, real PCP pmcd on loopback for interop tests (docs/pcp.md#a-private-pmcd, docs/pcp.md#tls-configuration).
#
#   pmcd.sh start MODE PORT DIR [BIND]   prints the pmcd PID on stdout, writes DIR/pmcd.pid
#   pmcd.sh stop DIR                     SIGTERM (SIGKILL after 5 s), prints the PID
#   pmcd.sh status DIR                   prints the PID if pmcd runs, else exits 1
#
# MODE:
#   plain            no TLS (tls.conf is an empty file, whatever /etc/pcp/tls.conf says)
#   offer            TLS offered with server.pem (CA-signed, SAN localhost/127.0.0.1/127.0.0.2/::1)
#   offer-wrongname  TLS offered with wrongname.pem (same CA, SAN DNS:wrong.example only)
#   offer-rotated    TLS offered with rotated.pem (same CA and names as server.pem, new key)
#   offer-renewed    TLS offered with renewed.pem (server.pem renewed: same CA, names and key)
#   require          TLS + client certificate required: -Q and tls-verify-clients = true. pmcd
#                    exempts exactly 127.0.0.1/::1 from -Q (docs/pcp.md#requiring-client-certificates), so BIND defaults to 127.0.0.2
#   sasl             no TLS, SASL authentication required (-S, docs/pmproxy.md#authentication): a
#                    private SASL configuration in DIR/sasl (mech_list: plain, a sasldb made by
#                    saslpasswd2 with the user $PMCD_SASL_USER and the password $PMCD_SASL_PASSWORD,
#                    both from the environment so the password is never on a command line)
# BIND defaults to 127.0.0.1 (127.0.0.2 for require); only loopback addresses are accepted.
# Certificates come from $SECMON_TEST_CERTS (default DIR/certs), made by certs.sh when missing.
# Also writes DIR/client-verify.conf: a PCP *client* tls.conf that verifies the server against
# the test CA (plus the client certificate in require mode), for
#   PCP_SECURE_SOCKETS=enforce PCP_TLSCONF_PATH=DIR/client-verify.conf pminfo -h HOST:PORT ...
# Progress and errors go to stderr. Paths must not contain whitespace (tls.conf values end at
# the first blank, docs/pcp.md#tls-configuration).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PMCD=/usr/lib/pcp/bin/pmcd
PMNSMERGE=/usr/lib/pcp/bin/pmnsmerge
PMNS_DIR=/var/lib/pcp/pmns
PMDAS=/var/lib/pcp/pmdas

usage() {
	echo "usage: pmcd.sh start plain|offer|require|offer-wrongname|offer-rotated|offer-renewed|sasl PORT DIR [BIND]" >&2
	echo "       pmcd.sh stop DIR | pmcd.sh status DIR" >&2
	exit 2
}

die() {
	echo "pmcd.sh: $*" >&2
	exit 1
}

# Process state letter from /proc (R, S, Z, ...), empty if the PID is gone.
proc_state() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	# Field 3, after the ")" that ends the command name.
	stat="${stat##*) }"
	echo "${stat%% *}"
}

# True while PID exists and is not a zombie (docs/pcp.md#a-private-pmcd: a stopped pmcd can stay Z a while).
alive() {
	local state
	state="$(proc_state "$1")"
	[[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# True if PID is a pmcd process (guards against a recycled PID in a stale pid file).
is_pmcd() {
	[[ "$(cat "/proc/$1/comm" 2>/dev/null)" == pmcd ]]
}

# PIDs listening on TCP PORT (any address), one per line.
listeners() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

running_pid() {
	local dir="$1" pid
	[[ -f "$dir/pmcd.pid" ]] || return 1
	pid="$(cat "$dir/pmcd.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	alive "$pid" && is_pmcd "$pid" || return 1
	echo "$pid"
}

is_loopback() {
	[[ "$1" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || "$1" == ::1 ]]
}

show_log() {
	local dir="$1"
	for f in "$dir/pmcd.err" "$dir/pmcd.log" "$dir/pmcd.out"; do
		if [[ -s "$f" ]]; then
			echo "--- $f (last 20 lines)" >&2
			tail -n 20 "$f" >&2
		fi
	done
}

cmd_start() {
	local mode="${1:-}" port="${2:-}" dir="${3:-}" bind="${4:-}"
	[[ -n "$mode" && -n "$port" && -n "$dir" ]] || usage
	case "$mode" in
		plain | offer | require | offer-wrongname | offer-rotated | offer-renewed | sasl) ;;
		*) die "unknown MODE '$mode' (plain, offer, require, offer-wrongname, offer-rotated, offer-renewed, sasl)" ;;
	esac
	[[ "$port" =~ ^[0-9]+$ && "$port" -ge 1024 && "$port" -le 65535 ]] || die "PORT must be 1024-65535, got '$port'"
	if [[ -z "$bind" ]]; then
		if [[ "$mode" == require ]]; then bind=127.0.0.2; else bind=127.0.0.1; fi
	fi
	is_loopback "$bind" || die "BIND must be a loopback address (127.x.y.z or ::1), got '$bind'"
	if [[ "$mode" == require && ( "$bind" == 127.0.0.1 || "$bind" == ::1 ) ]]; then
		echo "pmcd.sh: warning: pmcd never requires a client certificate from $bind (docs/pcp.md#requiring-client-certificates); use 127.0.0.2" >&2
	fi
	[[ -x "$PMCD" && -x "$PMNSMERGE" ]] || die "pcp is not installed; run: sudo bash $here/install.sh"

	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	[[ "$dir" != *[[:space:]]* ]] || die "DIR must not contain whitespace: '$dir'"
	local certs="${SECMON_TEST_CERTS:-$dir/certs}"
	[[ "$certs" != *[[:space:]]* ]] || die "certificate directory must not contain whitespace: '$certs'"

	local old
	if old="$(running_pid "$dir")"; then
		die "a pmcd (PID $old) already runs for $dir; stop it first: $0 stop $dir"
	fi
	rm -f "$dir/pmcd.pid"

	local busy
	busy="$(listeners "$port")"
	if [[ -n "$busy" ]] || ss -Hltn "sport = :$port" | grep -q .; then
		die "TCP port $port is already in use${busy:+ (PID $busy)}; pick another port"
	fi

	# docs/pcp.md#a-private-pmcd: the system PMNS does not exist until the init script's Rebuild ran,
	# so build a private one: pmcd + linux + sample (domain 29).
	if [[ ! -s "$dir/pmns.root" ]]; then
		printf '#define SAMPLE 29\nroot { sample }\n#include "%s/sample/pmns"\n' "$PMDAS" >"$dir/root_sample"
		rm -f "$dir/pmns.root.tmp"
		"$PMNSMERGE" -a "$PMNS_DIR/root_pmcd" "$PMNS_DIR/root_linux" "$dir/root_sample" "$dir/pmns.root.tmp" >&2 ||
			die "pmnsmerge failed building $dir/pmns.root"
		mv "$dir/pmns.root.tmp" "$dir/pmns.root"
	fi

	# docs/pcp.md#a-private-pmcd: pmcd and linux as DSOs (no extra process), sample as a pipe PMDA.
	cat >"$dir/pmcd.conf" <<-EOF
		pmcd	2	dso	pmcd_init	$PMDAS/pmcd/pmda_pmcd.so
		linux	60	dso	linux_init	$PMDAS/linux/pmda_linux.so
		sample	29	pipe	binary	$PMDAS/sample/pmdasample -d 29
		[access]
		disallow ".*" : store;
		disallow ":*" : store;
		allow "local:*" : all;
	EOF

	local cert='' key='' extra=()
	case "$mode" in
		offer | require) cert=server ;;
		offer-wrongname) cert=wrongname ;;
		offer-rotated) cert=rotated ;;
		offer-renewed) cert=renewed key=server ;;
	esac
	if [[ -n "$cert" || ! -s "$certs/ca.pem" ]]; then
		bash "$here/certs.sh" "$certs" || die "making test certificates in $certs failed"
	fi

	# docs/pcp.md#tls-configuration: tls-cert-file alone turns TLS on; an empty file keeps pmcd plain even if
	# /etc/pcp/tls.conf is edited.
	: >"$dir/tls.conf"
	if [[ -n "$cert" ]]; then
		{
			echo "tls-cert-file = $certs/$cert.pem"
			echo "tls-key-file = $certs/${key:-$cert}.key"
		} >>"$dir/tls.conf"
	fi
	if [[ "$mode" == require ]]; then
		{
			echo "tls-ca-cert-file = $certs/ca.pem"
			echo "tls-verify-clients = true"
		} >>"$dir/tls.conf"
		extra+=(-Q)
	fi

	# docs/pmproxy.md#authentication: pmcd -S refuses clients without SASL credentials; libpcp
	# reads the SASL configuration (pmcd.conf, after the program's name) from
	# $PCP_SASL2_CONFIG_PATH, so nothing under /etc/sasl2 is touched.
	local sasl_env=()
	if [[ "$mode" == sasl ]]; then
		[[ -n "${PMCD_SASL_USER:-}" && -n "${PMCD_SASL_PASSWORD:-}" ]] || die "sasl mode needs PMCD_SASL_USER and PMCD_SASL_PASSWORD in the environment"
		[[ "$PMCD_SASL_USER" =~ ^[A-Za-z0-9._-]+$ ]] || die "PMCD_SASL_USER must be letters, digits, '.', '_' or '-', got '$PMCD_SASL_USER'"
		command -v saslpasswd2 >/dev/null || die "saslpasswd2 is missing (Debian's sasl2-bin); run: sudo bash $here/install.sh"
		rm -rf "$dir/sasl"
		mkdir -m 755 "$dir/sasl"
		printf 'mech_list: plain\nsasldb_path: %s\n' "$dir/sasl/pmcd.db" >"$dir/sasl/pmcd.conf"
		printf '%s' "$PMCD_SASL_PASSWORD" | saslpasswd2 -p -c -f "$dir/sasl/pmcd.db" -a pmcd "$PMCD_SASL_USER" ||
			die "saslpasswd2 could not add $PMCD_SASL_USER to $dir/sasl/pmcd.db"
		# pmcd started as root runs as user pcp (PCP_USER), which must read the sasldb.
		if [[ "$(id -u)" == 0 ]] && getent passwd pcp >/dev/null; then
			chgrp "$(id -gn pcp)" "$dir/sasl/pmcd.db"
			chmod 640 "$dir/sasl/pmcd.db"
		fi
		sasl_env=(PCP_SASL2_CONFIG_PATH="$dir/sasl")
		extra+=(-S)
	fi

	# Client side: in a client's tls.conf, tls-verify-clients = true means "verify the server"
	# (docs/pcp.md#tls-configuration); there is never a host-name check (docs/pcp.md#host-names).
	{
		echo "# PCP client tls.conf for the $mode pmcd on $bind:$port (test CA)"
		echo "tls-ca-cert-file = $certs/ca.pem"
		echo "tls-verify-clients = true"
		if [[ "$mode" == require ]]; then
			echo "tls-client-cert-file = $certs/client.pem"
			echo "tls-client-key-file = $certs/client.key"
		fi
	} >"$dir/client-verify.conf"

	rm -f "$dir/pmcd.log" "$dir/pmcd.log.prev" "$dir/pmcd.err" "$dir/pmcd.out" "$dir/pmcd.socket" "$dir/sample.log"
	# pmdasample runs as user pcp and writes sample.log in its working directory (pmcd's);
	# nothing secret lives in DIR (keys stay in the 0700 certificate directory).
	chmod 755 "$dir"

	# docs/pcp.md#a-private-pmcd: -f keeps pmcd in the foreground (no /run/pcp/pmcd.pid, so instances
	# coexist), -A no avahi; -p ports add to $PMCD_PORT, hence the env -u. setsid detaches it
	# from the caller's terminal and process group; stdio goes to files so callers that wait
	# for our stdout to close (Node execFile) do not wait for pmcd.
	cd "$dir"
	env -u PCP_SECURE_SOCKETS -u PMCD_PORT -u PMCD_SOCKET -u PMCD_LOCAL -u PMCD_SASL_USER -u PMCD_SASL_PASSWORD \
		PCP_TLSCONF_PATH="$dir/tls.conf" PCP_DERIVED_CONFIG= ${sasl_env[@]+"${sasl_env[@]}"} \
		setsid "$PMCD" -f -A -p "$port" -i "$bind" ${extra[@]+"${extra[@]}"} \
		-c "$dir/pmcd.conf" -n "$dir/pmns.root" \
		-l "$dir/pmcd.log" -s "$dir/pmcd.socket" -x "$dir/pmcd.err" \
		</dev/null >"$dir/pmcd.out" 2>&1 &
	local pid=$!

	# Ready when the log says `pmcd: PID = N` and N listens on the port (about 0.2 s).
	# Never probe with a TLS handshake: a stalled one freezes pmcd (docs/pcp.md#tls-upgrade).
	local deadline=$((SECONDS + 15)) logged=''
	while :; do
		if ! alive "$pid"; then
			show_log "$dir"
			die "pmcd exited during start-up ($mode on $bind:$port); see the log above"
		fi
		if [[ -z "$logged" ]] && logged="$(grep -o 'pmcd: PID = [0-9]*' "$dir/pmcd.log" 2>/dev/null | head -n 1 | grep -o '[0-9]*$')"; then
			if [[ "$logged" != "$pid" ]]; then
				echo "pmcd.sh: warning: log says PID $logged, started $pid" >&2
			fi
		fi
		if [[ -n "$logged" ]] && listeners "$port" | grep -qx "$pid"; then
			break
		fi
		if ((SECONDS >= deadline)); then
			show_log "$dir"
			kill -KILL "$pid" 2>/dev/null || true
			die "pmcd ($mode on $bind:$port) was not ready after 15 s; killed PID $pid"
		fi
		sleep 0.05
	done

	echo "$pid" >"$dir/pmcd.pid"
	echo "$mode" >"$dir/mode"
	echo "pmcd.sh: started $mode pmcd on $bind:$port, PID $pid, dir $dir" >&2
	echo "$pid"
}

cmd_stop() {
	local dir="${1:-}"
	[[ -n "$dir" ]] || usage
	[[ -f "$dir/pmcd.pid" ]] || die "no $dir/pmcd.pid: nothing to stop"
	local pid
	pid="$(cat "$dir/pmcd.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || die "$dir/pmcd.pid does not hold a PID"
	if ! alive "$pid" || ! is_pmcd "$pid"; then
		rm -f "$dir/pmcd.pid"
		die "pmcd PID $pid (from $dir/pmcd.pid) is not running"
	fi

	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		echo "pmcd.sh: pmcd PID $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
	fi
	# setsid made pmcd a process-group leader; its pipe PMDA (pmdasample) is in that group and
	# normally exits when pmcd closes the pipe. Make sure nothing of ours is left behind.
	local left
	for ((i = 0; i < 20; i++)); do
		left="$(pgrep -g "$pid" | grep -vx "$pid" || true)"
		[[ -n "$left" ]] || break
		sleep 0.05
	done
	if [[ -n "$left" ]]; then
		echo "pmcd.sh: stopping leftover PMDA process(es) $(echo $left) of pmcd PID $pid" >&2
		kill -KILL $left 2>/dev/null || true
	fi
	alive "$pid" && die "pmcd PID $pid is still running after SIGKILL"
	rm -f "$dir/pmcd.pid"
	echo "pmcd.sh: stopped pmcd PID $pid ($dir)" >&2
	echo "$pid"
}

cmd_status() {
	local dir="${1:-}" pid
	[[ -n "$dir" ]] || usage
	if pid="$(running_pid "$dir")"; then
		echo "$pid"
	else
		echo "pmcd.sh: no pmcd running for $dir" >&2
		exit 1
	fi
}

case "${1:-}" in
	start) shift; cmd_start "$@" ;;
	stop) shift; cmd_stop "$@" ;;
	status) shift; cmd_status "$@" ;;
	*) usage ;;
esac
