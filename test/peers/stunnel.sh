#!/usr/bin/env bash
# A throwaway stunnel 5 (Debian stunnel4) on loopback for the PKI interop tests (docs/icinga-livestatus-mon.md#stunnel).
#
#   stunnel.sh start DIR   DIR/services.conf holds the service sections ([name] accept/connect/cert…);
#                          writes DIR/stunnel.conf (global options + those sections), starts stunnel in
#                          the foreground under setsid, waits until every accept port listens, prints the PID
#   stunnel.sh stop DIR    SIGTERM to that PID (SIGKILL after 5 s), waits until it is gone
#
# Only loopback accept addresses are allowed (127.x.y.z or [::1]). The log is DIR/stunnel.log.
# Readiness is read from the listen table (ss), never probed with a connection.
set -euo pipefail

STUNNEL=/usr/bin/stunnel4
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	echo "usage: stunnel.sh start DIR | stunnel.sh stop DIR" >&2
	exit 2
}

die() {
	echo "stunnel.sh: $*" >&2
	exit 1
}

alive() {
	# A zombie counts as gone (state Z in /proc/PID/stat, after the ")" of the command name).
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

is_stunnel() {
	grep -q stunnel "/proc/$1/cmdline" 2>/dev/null
}

start() {
	local dir="$1"
	[[ -x "$STUNNEL" ]] || die "stunnel4 is not installed; run: sudo bash $here/install.sh"
	[[ -s "$dir/services.conf" ]] || die "$dir/services.conf is missing: write the service sections there first"
	dir="$(cd "$dir" && pwd)"
	if [[ -s "$dir/stunnel.pid.secmon" ]] && alive "$(cat "$dir/stunnel.pid.secmon")"; then
		die "a stunnel from $dir is still running (pid $(cat "$dir/stunnel.pid.secmon")); stop it first: $0 stop $dir"
	fi

	# Accept ports: every "accept = [host:]port" line; refuse anything but loopback.
	local ports=() line value host port
	while IFS= read -r line; do
		value="${line#*=}"
		value="${value//[[:space:]]/}"
		port="${value##*:}"
		host="${value%:*}"
		[[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port of '$line' in services.conf"
		if [[ "$host" == "$value" || ! ( "$host" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || "$host" == "::1" || "$host" == "[::1]" ) ]]; then
			die "accept address '$value' is not loopback; use 127.0.0.1:PORT"
		fi
		if ss -Hltn "sport = :$port" | grep -q .; then
			die "port $port is already in use; pick another"
		fi
		ports+=("$port")
	done < <(grep -E '^[[:space:]]*accept[[:space:]]*=' "$dir/services.conf")
	[[ ${#ports[@]} -gt 0 ]] || die "no 'accept =' line in $dir/services.conf"

	{
		echo "; written by stunnel.sh: global options, then $dir/services.conf"
		echo "foreground = yes"
		echo "pid = $dir/stunnel.pid"
		echo "output = $dir/stunnel.log"
		echo "syslog = no"
		echo "debug = info"
		echo
		cat "$dir/services.conf"
	} >"$dir/stunnel.conf"
	: >"$dir/stunnel.log"

	# setsid: its own session, so a test runner's signals do not reach it; foreground: $! is the PID.
	setsid "$STUNNEL" "$dir/stunnel.conf" </dev/null >"$dir/stunnel.out" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/stunnel.pid.secmon"

	local i ready
	for ((i = 0; i < 200; i++)); do
		if ! alive "$pid"; then
			echo "stunnel.sh: stunnel exited during start-up; its output and log:" >&2
			cat "$dir/stunnel.out" "$dir/stunnel.log" >&2 2>/dev/null || true
			rm -f "$dir/stunnel.pid.secmon"
			exit 1
		fi
		ready=1
		for port in "${ports[@]}"; do
			if ! ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"; then
				ready=0
				break
			fi
		done
		if [[ $ready == 1 ]]; then
			echo "stunnel.sh: started stunnel PID $pid on port(s) ${ports[*]}, dir $dir" >&2
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	cat "$dir/stunnel.log" >&2 2>/dev/null || true
	die "stunnel (PID $pid) did not listen on ${ports[*]} within 10 s; killed it"
}

stop() {
	local dir="$1" pid
	[[ -s "$dir/stunnel.pid.secmon" ]] || die "no $dir/stunnel.pid.secmon: nothing to stop"
	pid="$(cat "$dir/stunnel.pid.secmon")"
	[[ "$pid" =~ ^[0-9]+$ ]] || die "$dir/stunnel.pid.secmon does not hold a PID"
	if alive "$pid" && is_stunnel "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
		if alive "$pid"; then
			echo "stunnel.sh: stunnel PID $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$dir/stunnel.pid.secmon"
	echo "stunnel.sh: stopped stunnel PID $pid ($dir)" >&2
	echo "$pid"
}

case "${1:-}" in
	start)
		[[ $# -eq 2 ]] || usage
		start "$2"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		stop "$2"
		;;
	*) usage ;;
esac
