#!/usr/bin/env bash
# A private mon (Debian mon 1.3.6) behind stunnel4 requiring client certificates (docs/icinga-livestatus-mon.md#mon).
#
#   mon.sh start DIR PLAIN_PORT TLS_PORT TRAP_PORT
#       Idempotent PKI under DIR/tls (openssl, RSA 2048): ca.crt ("secmon mon CA"), server.crt
#       (CN mon-server, SAN DNS:localhost, DNS:mon-server, no IP), client.{crt,key} (CN
#       secmon-client), selfsigned.{crt,key}, foreign.{crt,key} (from another CA). Writes
#       DIR/etc/mon.cf (plain mon on 127.0.0.1:PLAIN_PORT, traps on TRAP_PORT/udp), auth.cf
#       (list/servertime/version for all; enable/disable for user "secmon", password
#       "secmon-secret" in the userfile), three services in group "local": ok-perf (exit 0,
#       summary with perfdata), load-perf (check_load through a Nagios wrapper), broken (fails on
#       purpose). Starts mon in the foreground as user mon under setsid, then stunnel (stunnel.sh)
#       on TLS_PORT with requireCert/verifyChain, waits for both, prints "MON_PID STUNNEL_PID".
#   mon.sh stop DIR
#       Stops stunnel and mon (SIGTERM to mon's process group, SIGKILL after 10 s).
set -euo pipefail

MON=/usr/sbin/mon
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
	echo "mon.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: mon.sh start DIR PLAIN_PORT TLS_PORT TRAP_PORT | stop DIR" >&2
	exit 2
}

alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

pki() {
	local t="$1"
	mkdir -p "$t"
	exec 7>"$t/.lock"
	flock 7
	[[ -s "$t/done" ]] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/ca.key" -out "$t/ca.crt" -days 30 -subj "/CN=secmon mon CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/other-ca.key" -out "$t/other-ca.crt" -days 30 -subj "/CN=other CA" \
		-addext basicConstraints=critical,CA:TRUE 2>/dev/null
	local name ca san eku
	for name in server client foreign; do
		case "$name" in
			server) ca=ca; san='DNS:localhost,DNS:mon-server'; eku=serverAuth; cn=mon-server ;;
			client) ca=ca; san='DNS:secmon-client'; eku=clientAuth; cn=secmon-client ;;
			foreign) ca=other-ca; san='DNS:secmon-client'; eku=clientAuth; cn=secmon-client ;;
		esac
		openssl req -new -newkey rsa:2048 -nodes -keyout "$t/$name.key" -out "$t/$name.csr" -subj "/CN=$cn" 2>/dev/null
		openssl x509 -req -in "$t/$name.csr" -CA "$t/$ca.crt" -CAkey "$t/$ca.key" -CAcreateserial -days 30 -out "$t/$name.crt" \
			-extfile <(printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$eku" "$san") 2>/dev/null
		rm -f "$t/$name.csr"
	done
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/selfsigned.key" -out "$t/selfsigned.crt" -days 30 -subj "/CN=secmon-client" 2>/dev/null
	rm -f "$t/ca.key" "$t/other-ca.key"
	chmod 0600 "$t"/*.key
	date -u +%FT%TZ >"$t/done"
}

write_config() {
	local w="$1" plain="$2" trap="$3"
	mkdir -p "$w/etc" "$w/mon.d" "$w/log" "$w/state" "$w/run"
	local hash
	hash="$(openssl passwd -6 secmon-secret)"
	echo "secmon : $hash" >"$w/etc/userfile"
	cat >"$w/etc/auth.cf" <<-'EOF'
		command section
		list:		all
		servertime:	all
		version:	all
		protid:		all
		quit:		all
		checkauth:	all
		disable:	secmon
		enable:		secmon
	EOF
	# Monitors: first output line is the summary, exit 0 = OK (docs/icinga-livestatus-mon.md#mon-protocol).
	cat >"$w/mon.d/ok-perf.monitor" <<-'EOF'
		#!/bin/sh
		echo "all fine|answer=42;50;60;0;100 'wait time'=250ms"
		echo "details follow"
		exit 0
	EOF
	cat >"$w/mon.d/fail.monitor" <<-'EOF'
		#!/bin/sh
		echo "localhost: failing on purpose"
		exit 1
	EOF
	cat >"$w/mon.d/nagios-plugin.monitor" <<-'EOF'
		#!/bin/sh
		# Runs a Nagios plugin; its "text|perfdata" line becomes mon's summary, its exit code mon's.
		out="$("$@" 2>&1)"
		rc=$?
		printf '%s\n' "$out" | head -n 1
		echo "nagios_rc=$rc"
		[ "$rc" -eq 0 ] && exit 0
		exit 1
	EOF
	chmod 0755 "$w/mon.d"/*.monitor
	cat >"$w/etc/mon.cf" <<-EOF
		serverbind = 127.0.0.1
		serverport = $plain
		trapbind = 127.0.0.1
		trapport = $trap
		clientallow = 127.0.0.1
		mondir = $w/mon.d
		logdir = $w/log
		statedir = $w/state
		authfile = $w/etc/auth.cf
		authtype = userfile
		userfile = $w/etc/userfile
		randstart = 1s
		dtlogging = no
		maxprocs = 20
		histlength = 100

		hostgroup local localhost

		watch local
		    service ok-perf
		        description reports perfdata in its summary
		        interval 2s
		        monitor ok-perf.monitor ;;
		        period wd {Sun-Sat}
		    service load-perf
		        description check_load wrapped, summary carries Nagios perfdata
		        interval 2s
		        monitor nagios-plugin.monitor /usr/lib/nagios/plugins/check_load -w 1000,1000,1000 -c 2000,2000,2000 ;;
		        period wd {Sun-Sat}
		    service broken
		        description fails on purpose
		        interval 2s
		        monitor fail.monitor ;;
		        period wd {Sun-Sat}
	EOF
	chown -R mon:mon "$w/etc" "$w/mon.d" "$w/log" "$w/state" "$w/run"
}

start() {
	local w="$1" plain="$2" tlsport="$3" trap="$4" p
	[[ -x "$MON" ]] || die "mon is not installed; run: sudo bash $here/install.sh"
	for p in "$plain" "$tlsport" "$trap"; do
		[[ "$p" =~ ^[0-9]+$ ]] || die "bad port '$p'"
	done
	mkdir -p "$w"
	w="$(cd "$w" && pwd)"
	if [[ -s "$w/mon.pid.secmon" ]] && alive "$(cat "$w/mon.pid.secmon")"; then
		die "a mon from $w is still running (pid $(cat "$w/mon.pid.secmon")); stop it first: $0 stop $w"
	fi
	if ss -Hltn "sport = :$plain" | grep -q .; then
		die "port $plain is already in use; pick another"
	fi
	if ss -Hlun "sport = :$trap" | grep -q .; then
		die "udp port $trap is already in use; pick another"
	fi
	pki "$w/tls"
	write_config "$w" "$plain" "$trap"
	chmod 0755 "$w"

	# setpriv execs mon directly (no helper process), so $! is mon's PID and process group.
	setsid setpriv --reuid=mon --regid=mon --init-groups "$MON" -c "$w/etc/mon.cf" -P "$w/run/mon.pid" -l all \
		</dev/null >"$w/mon.out" 2>&1 &
	local pid=$! i
	echo "$pid" >"$w/mon.pid.secmon"
	for ((i = 0; i < 200; i++)); do
		if ! alive "$pid"; then
			echo "mon.sh: mon exited during start-up; its output:" >&2
			cat "$w/mon.out" >&2 || true
			rm -f "$w/mon.pid.secmon"
			exit 1
		fi
		ss -Hltn "sport = :$plain" | grep -q . && break
		sleep 0.05
	done
	if ! ss -Hltn "sport = :$plain" | grep -q .; then
		kill -KILL -- "-$pid" 2>/dev/null || true
		die "mon (PID $pid) did not listen on $plain within 10 s; killed it"
	fi

	cat >"$w/services.conf" <<-EOF
		[mon-tls]
		accept = 127.0.0.1:$tlsport
		connect = 127.0.0.1:$plain
		cert = $w/tls/server.crt
		key = $w/tls/server.key
		CAfile = $w/tls/ca.crt
		requireCert = yes
		verifyChain = yes
		sslVersionMin = TLSv1.2
		TIMEOUTclose = 0
	EOF
	local spid
	if ! spid="$(bash "$here/stunnel.sh" start "$w")"; then
		kill -TERM -- "-$pid" 2>/dev/null || true
		rm -f "$w/mon.pid.secmon"
		die "stunnel did not start; mon stopped"
	fi
	echo "mon.sh: started mon PID $pid (plain 127.0.0.1:$plain) and stunnel PID $spid (TLS 127.0.0.1:$tlsport), dir $w" >&2
	echo "$pid $spid"
}

stop() {
	local w="$1" pid
	if [[ -s "$w/stunnel.pid.secmon" ]]; then
		bash "$here/stunnel.sh" stop "$w" >/dev/null
	fi
	[[ -s "$w/mon.pid.secmon" ]] || die "no $w/mon.pid.secmon: nothing to stop"
	pid="$(cat "$w/mon.pid.secmon")"
	[[ "$pid" =~ ^[0-9]+$ ]] || die "$w/mon.pid.secmon does not hold a PID"
	if alive "$pid"; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 200; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
		if alive "$pid"; then
			echo "mon.sh: mon PID $pid ignored SIGTERM for 10 s, sending SIGKILL" >&2
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
	fi
	# Monitors still running in mon's process group go too.
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$w/mon.pid.secmon"
	echo "mon.sh: stopped mon PID $pid ($w)" >&2
	echo "$pid"
}

case "${1:-}" in
	start)
		[[ $# -eq 5 ]] || usage
		start "$2" "$3" "$4" "$5"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		stop "$2"
		;;
	*) usage ;;
esac
