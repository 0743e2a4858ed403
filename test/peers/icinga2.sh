#!/usr/bin/env bash
# A private Icinga 2 (Debian icinga2 2.13.6) on loopback for the icinga:// and livestatus:// tests
# (docs/icinga-livestatus-mon.md#icinga-2, docs/icinga-livestatus-mon.md#livestatus). Nothing in /etc/icinga2 or /var/lib/icinga2 is touched: every path is moved
# with -D constants (docs/icinga-livestatus-mon.md#running-icinga2).
#
#   icinga2.sh pki PKIDIR
#       Idempotent (flock): the Icinga CA made by `icinga2 pki new-ca`, the master certificate
#       (CN/SAN icinga2-master, `pki new-cert` + `pki sign-csr`), and client certificates:
#       client/secmon-client.{crt,key}  signed by the Icinga CA; ApiUser "secmon-cert" (client_cn)
#       client/other-client.{crt,key}   signed by the Icinga CA; no ApiUser has this CN
#       client/selfsigned.{crt,key}     self-signed, CN secmon-client (not from the CA)
#       RSA keys of 4096 bits take seconds each, so this is done once and reused.
#   icinga2.sh start DIR PKIDIR PORT [LIVESTATUS_PORT]
#       Writes DIR/etc (constants, zones, api, checker, demo objects, ApiUsers, optionally a TCP
#       LivestatusListener on 127.0.0.1:LIVESTATUS_PORT), copies the CA and master certificate,
#       starts `icinga2 daemon` in the foreground under setsid (it drops to user nagios), waits
#       until the API port (and the Livestatus port) listen, prints the PID (the process group).
#   icinga2.sh stop DIR
#       SIGTERM to that process group, SIGKILL after 10 s; waits until it is gone.
#
# ApiUsers: secmon-cert (client_cn secmon-client: status, hosts, services, events/CheckResult),
# secmon-enrolled (client_cn secmon-agent: no events permission), secmon-pw (password
# "secmon-pw-secret"). TicketSalt is in DIR/etc/constants.conf (and printed by `ticket`).
#   icinga2.sh ticket DIR CN   prints the ticket for CN (`icinga2 pki ticket`)
#   icinga2.sh sign DIR        signs every pending certificate request (`icinga2 ca sign`)
set -euo pipefail

ICINGA2=/usr/sbin/icinga2
USER_NAME=nagios
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
	echo "icinga2.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: icinga2.sh pki PKIDIR | start DIR PKIDIR PORT [LIVESTATUS_PORT] | stop DIR | ticket DIR CN | sign DIR" >&2
	exit 2
}

alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

defines() {
	local w="$1"
	echo "-DConfigDir=$w/etc -DDataDir=$w/lib -DLogDir=$w/log -DCacheDir=$w/cache -DSpoolDir=$w/spool -DInitRunDir=$w/run"
}

pki() {
	local p="$1"
	[[ -x "$ICINGA2" ]] || die "icinga2 is not installed; run: sudo bash $here/install.sh"
	mkdir -p "$p"
	p="$(cd "$p" && pwd)"
	exec 9>"$p/.lock"
	flock 9
	if [[ -s "$p/done" ]]; then
		return 0
	fi
	# The icinga2 CLI drops to nagios: its working tree must belong to nagios.
	local w="$p/icinga"
	mkdir -p "$w/etc" "$w/lib" "$w/log" "$w/cache" "$w/spool" "$w/run" "$p/client"
	chown -R "$USER_NAME:$USER_NAME" "$w"
	# shellcheck disable=SC2046
	"$ICINGA2" pki new-ca $(defines "$w") >"$p/pki.log" 2>&1 || { cat "$p/pki.log" >&2; die "icinga2 pki new-ca failed"; }
	local certs="$w/lib/certs"
	mkdir -p "$certs"
	chown "$USER_NAME:$USER_NAME" "$certs"
	# shellcheck disable=SC2046
	"$ICINGA2" pki new-cert $(defines "$w") --cn icinga2-master --key "$certs/icinga2-master.key" --csr "$certs/icinga2-master.csr" >>"$p/pki.log" 2>&1 \
		|| { cat "$p/pki.log" >&2; die "icinga2 pki new-cert failed"; }
	# shellcheck disable=SC2046
	"$ICINGA2" pki sign-csr $(defines "$w") --csr "$certs/icinga2-master.csr" --cert "$certs/icinga2-master.crt" >>"$p/pki.log" 2>&1 \
		|| { cat "$p/pki.log" >&2; die "icinga2 pki sign-csr failed"; }
	cp "$w/lib/ca/ca.crt" "$p/ca.crt"

	# Client certificates with openssl (RSA 2048: fast), signed by the Icinga CA's key.
	local c="$p/client" name
	for name in secmon-client other-client; do
		openssl req -new -newkey rsa:2048 -nodes -keyout "$c/$name.key" -out "$c/$name.csr" -subj "/CN=$name" 2>/dev/null
		openssl x509 -req -in "$c/$name.csr" -CA "$w/lib/ca/ca.crt" -CAkey "$w/lib/ca/ca.key" -CAcreateserial \
			-days 30 -out "$c/$name.crt" -extfile <(printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=DNS:%s\n' "$name") 2>/dev/null
	done
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/selfsigned.key" -out "$c/selfsigned.crt" -subj "/CN=secmon-client" -days 30 2>/dev/null
	chmod 0600 "$c"/*.key
	date -u +%FT%TZ >"$p/done"
	echo "icinga2.sh: PKI ready in $p" >&2
}

write_config() {
	local w="$1" port="$2" live="$3"
	local e="$w/etc"
	mkdir -p "$e/conf.d" "$e/features-enabled" "$w/lib" "$w/log" "$w/cache" "$w/spool" "$w/run"
	local salt
	if [[ -s "$w/salt" ]]; then
		salt="$(cat "$w/salt")"
	else
		salt="$(openssl rand -hex 16)"
		echo "$salt" >"$w/salt"
	fi
	cat >"$e/constants.conf" <<-EOF
		const PluginDir = "/usr/lib/nagios/plugins"
		const ManubulonPluginDir = "/usr/lib/nagios/plugins"
		const PluginContribDir = "/usr/lib/nagios/plugins"
		const NodeName = "icinga2-master"
		const ZoneName = "master"
		const TicketSalt = "$salt"
	EOF
	cat >"$e/zones.conf" <<-EOF
		object Endpoint NodeName { }
		object Zone ZoneName { endpoints = [ NodeName ] }
	EOF
	cat >"$e/icinga2.conf" <<-EOF
		include "constants.conf"
		include "zones.conf"
		include <itl>
		include <plugins>
		include "features-enabled/*.conf"
		include_recursive "conf.d"
	EOF
	cat >"$e/features-enabled/api.conf" <<-EOF
		object ApiListener "api" {
		  bind_host = "127.0.0.1"
		  bind_port = $port
		  ticket_salt = TicketSalt
		}
	EOF
	echo 'object CheckerComponent "checker" { }' >"$e/features-enabled/checker.conf"
	cat >"$e/features-enabled/mainlog.conf" <<-EOF
		object FileLogger "main-log" {
		  severity = "information"
		  path = LogDir + "/icinga2.log"
		}
	EOF
	if [[ -n "$live" ]]; then
		cat >"$e/features-enabled/livestatus.conf" <<-EOF
			object LivestatusListener "livestatus-tcp" {
			  socket_type = "tcp"
			  bind_host = "127.0.0.1"
			  bind_port = "$live"
			}
		EOF
	fi
	cat >"$e/conf.d/secmon-api-users.conf" <<-EOF
		object ApiUser "secmon-cert" {
		  client_cn = "secmon-client"
		  permissions = [ "status/query", "objects/query/Host", "objects/query/Service", "events/CheckResult" ]
		}
		object ApiUser "secmon-enrolled" {
		  client_cn = "secmon-agent"
		  permissions = [ "status/query", "objects/query/Host", "objects/query/Service" ]
		}
		object ApiUser "secmon-pw" {
		  password = "secmon-pw-secret"
		  permissions = [ "status/query", "objects/query/Host", "objects/query/Service", "events/CheckResult" ]
		}
	EOF
	# Short intervals so that every object has a check result a few seconds after start.
	cat >"$e/conf.d/secmon.conf" <<-'EOF'
		object Host "secmon-local" {
		  check_command = "dummy"
		  vars.dummy_state = 0
		  vars.dummy_text = "host is up (dummy)|rta=0.5ms;100;200;0 pl=0%;20;60;0;100"
		  check_interval = 2s
		  retry_interval = 2s
		}
		object Host "web-01" {
		  check_command = "dummy"
		  vars.dummy_state = 2
		  vars.dummy_text = "web-01 is down (dummy)"
		  check_interval = 2s
		  retry_interval = 2s
		}
		object Service "load" {
		  host_name = "secmon-local"
		  check_command = "load"
		  check_interval = 2s
		  retry_interval = 2s
		}
		object Service "disk-root" {
		  host_name = "secmon-local"
		  check_command = "disk"
		  vars.disk_partitions = [ "/" ]
		  check_interval = 2s
		  retry_interval = 2s
		}
		object Service "icinga" {
		  host_name = "secmon-local"
		  check_command = "icinga"
		  check_interval = 2s
		  retry_interval = 2s
		}
		object Service "temperature" {
		  host_name = "web-01"
		  check_command = "dummy"
		  vars.dummy_state = 1
		  vars.dummy_text = {{ "room temperature 23.5 C|'temp'=23.5C;28;29;0;50 humidity=50%;80;90;0;100 requests=" + Math.floor(get_time()) + "c 'fan speed'=1200;;;0; wait=250ms" }}
		  check_interval = 2s
		  retry_interval = 2s
		}
	EOF
}

start() {
	local w="$1" p="$2" port="$3" live="${4:-}"
	[[ -x "$ICINGA2" ]] || die "icinga2 is not installed; run: sudo bash $here/install.sh"
	[[ -s "$p/done" ]] || die "no PKI in $p; run first: $0 pki $p"
	[[ "$port" =~ ^[0-9]+$ ]] || die "bad port '$port'"
	[[ -z "$live" || "$live" =~ ^[0-9]+$ ]] || die "bad Livestatus port '$live'"
	mkdir -p "$w"
	w="$(cd "$w" && pwd)"
	p="$(cd "$p" && pwd)"
	if [[ -s "$w/icinga2.pid.secmon" ]] && alive "$(cat "$w/icinga2.pid.secmon")"; then
		die "an icinga2 from $w is still running (pid $(cat "$w/icinga2.pid.secmon")); stop it first: $0 stop $w"
	fi
	local q
	for q in $port $live; do
		if ss -Hltn "sport = :$q" | grep -q .; then
			die "port $q is already in use; pick another"
		fi
	done
	write_config "$w" "$port" "$live"
	mkdir -p "$w/lib/ca" "$w/lib/certs"
	cp "$p/icinga/lib/ca/ca.crt" "$p/icinga/lib/ca/ca.key" "$w/lib/ca/"
	cp "$p/icinga/lib/certs/icinga2-master.crt" "$p/icinga/lib/certs/icinga2-master.key" "$w/lib/certs/"
	cp "$p/ca.crt" "$w/lib/certs/ca.crt"
	# The daemon runs as nagios: it must own its tree (and /tmp-like parents must be traversable).
	chown -R "$USER_NAME:$USER_NAME" "$w"
	chmod 0700 "$w/lib/ca"
	: >"$w/icinga2.out"

	# shellcheck disable=SC2046
	setsid "$ICINGA2" daemon -c "$w/etc/icinga2.conf" $(defines "$w") </dev/null >"$w/icinga2.out" 2>&1 &
	local pid=$!
	echo "$pid" >"$w/icinga2.pid.secmon"
	local i ready
	for ((i = 0; i < 600; i++)); do
		if ! alive "$pid"; then
			echo "icinga2.sh: icinga2 exited during start-up; its output:" >&2
			tail -n 40 "$w/icinga2.out" >&2 || true
			rm -f "$w/icinga2.pid.secmon"
			exit 1
		fi
		ready=1
		for q in $port $live; do
			ss -Hltn "sport = :$q" | grep -q . || ready=0
		done
		if [[ $ready == 1 ]]; then
			echo "icinga2.sh: started icinga2 PID $pid (API 127.0.0.1:$port${live:+, Livestatus 127.0.0.1:$live}), dir $w" >&2
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	tail -n 40 "$w/icinga2.out" >&2 || true
	die "icinga2 (PID $pid) did not listen within 30 s; killed it"
}

stop() {
	local w="$1" pid
	[[ -s "$w/icinga2.pid.secmon" ]] || die "no $w/icinga2.pid.secmon: nothing to stop"
	pid="$(cat "$w/icinga2.pid.secmon")"
	[[ "$pid" =~ ^[0-9]+$ ]] || die "$w/icinga2.pid.secmon does not hold a PID"
	# SIGTERM to the umbrella process only: it shuts the daemon and its spawn helper down in well
	# under a second. (A SIGTERM to the whole group makes the daemon hang in shutdown.)
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 200; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
		if alive "$pid"; then
			echo "icinga2.sh: icinga2 PID $pid ignored SIGTERM for 10 s, sending SIGKILL" >&2
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
	fi
	# Children that outlive the umbrella (same process group, setsid) are killed; zombies do not count.
	local child
	for child in $(pgrep -g "$pid" 2>/dev/null || true); do
		if alive "$child"; then
			kill -KILL -- "-$pid" 2>/dev/null || true
			break
		fi
	done
	rm -f "$w/icinga2.pid.secmon"
	echo "icinga2.sh: stopped icinga2 PID $pid ($w)" >&2
	echo "$pid"
}

ticket() {
	local w="$1" cn="$2"
	# shellcheck disable=SC2046
	"$ICINGA2" pki ticket $(defines "$w") --cn "$cn" --salt "$(cat "$w/salt")"
}

sign_all() {
	local w="$1" fp
	# shellcheck disable=SC2046
	for fp in $("$ICINGA2" ca list $(defines "$w") 2>/dev/null | awk 'NR > 2 && $1 ~ /^[0-9a-f]{64}$/ {print $1}'); do
		# shellcheck disable=SC2046
		"$ICINGA2" ca sign $(defines "$w") "$fp" >&2
		echo "$fp"
	done
}

case "${1:-}" in
	pki)
		[[ $# -eq 2 ]] || usage
		pki "$2"
		;;
	start)
		[[ $# -eq 4 || $# -eq 5 ]] || usage
		start "$2" "$3" "$4" "${5:-}"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		stop "$2"
		;;
	ticket)
		[[ $# -eq 3 ]] || usage
		ticket "$2" "$3"
		;;
	sign)
		[[ $# -eq 2 ]] || usage
		sign_all "$2"
		;;
	*) usage ;;
esac
