#!/usr/bin/env bash
# A throwaway Debian zabbix_agentd on 127.0.0.1 for the interop tests (docs/zabbix.md#running-the-agent).
#
#   zabbix-agent.sh start PORT MODE DIR   -> prints the agent's PID on stdout
#   zabbix-agent.sh stop DIR              -> stops that agent (by PID) and waits until it is gone
#
# MODE: plain | psk | cert | mixed (cert,unencrypted) | psk-cert (psk,cert) | all (unencrypted,psk,cert)
# DIR is created if needed and receives, owned by user zabbix (the agent drops to it, docs/zabbix.md#running-the-agent):
#   ca.crt ca.key                 throwaway RSA CA (CN=Secmon Test CA,O=Secmon Test,DC=secmon,DC=test)
#   agent.crt agent.key           CN=agent.secmon.test,OU=Agents,..., SAN DNS:agent.secmon.test + IP:127.0.0.1
#   client.crt client.key         CN=secmon client,OU=Clients,... signed by ca
#   other-ca.crt other-client.crt other-client.key   an unrelated CA and a client it signed
#   agent.psk (0600, 32 bytes hex) agent.psk_identity
#   zabbix_agentd.conf zabbix_agentd.log secmon-agent.pid
#
# Environment knobs:
#   ZBX_ISSUER / ZBX_SUBJECT  the agent's TLSServerCertIssuer/Subject pins for the CLIENT certificate
#                             (cert modes; default: the CA's and the client's DN; "-" omits the line)
#   ZBX_AGENT_EKU             extendedKeyUsage of the agent certificate (default serverAuth,clientAuth)
#   ZBX_PSK_IDENTITY          PSK identity (default secmon-psk-01)
#   ZBX_START_AGENTS          StartAgents (default 3)     ZBX_TIMEOUT  Timeout (default 3)
#   ZBX_EXTRA                 extra config lines appended verbatim (e.g. TLSCipherPSK=...)
#
# Readiness is read from the listen table (ss), never probed with a connection: a connection the
# agent refuses costs that listener a 1 s sleep (docs/zabbix.md#refused-connections).
set -euo pipefail

usage() {
	echo "usage: $0 start PORT plain|psk|cert|mixed|psk-cert|all DIR | $0 stop DIR" >&2
	exit 2
}

ca_subject='/DC=test/DC=secmon/O=Secmon Test/CN=Secmon Test CA'
agent_subject='/DC=test/DC=secmon/O=Secmon Test/OU=Agents/CN=agent.secmon.test'
client_subject='/DC=test/DC=secmon/O=Secmon Test/OU=Clients/CN=secmon client'
other_ca_subject='/O=Other Test/CN=Other Test CA'
other_client_subject='/O=Other Test/CN=other client'
# The same DNs as Zabbix prints them (RFC 4514 order, docs/zabbix.md#issuer-and-subject).
ca_dn='CN=Secmon Test CA,O=Secmon Test,DC=secmon,DC=test'
client_dn='CN=secmon client,OU=Clients,O=Secmon Test,DC=secmon,DC=test'

# make_ca NAME SUBJECT
make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "$2" \
		-keyout "$dir/$1.key" -out "$dir/$1.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# make_cert NAME CA SUBJECT EXTFILE-CONTENT
make_cert() {
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "$3" -keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
	printf '%s\n' "$4" >"$dir/$1.ext"
	openssl x509 -req -in "$dir/$1.csr" -CA "$dir/$2.crt" -CAkey "$dir/$2.key" -CAcreateserial \
		-days 3650 -sha256 -extfile "$dir/$1.ext" -out "$dir/$1.crt" 2>/dev/null
	rm -f "$dir/$1.csr" "$dir/$1.ext"
}

start() {
	local port="$1" mode="$2"
	[[ "$port" =~ ^[0-9]+$ ]] || usage
	local accept
	case "$mode" in
		plain) accept=unencrypted ;;
		psk) accept=psk ;;
		cert) accept=cert ;;
		mixed) accept=cert,unencrypted ;;
		psk-cert) accept=psk,cert ;;
		all) accept=unencrypted,psk,cert ;;
		*) usage ;;
	esac

	mkdir -p "$dir"
	if [[ -s "$dir/secmon-agent.pid" ]] && kill -0 "$(cat "$dir/secmon-agent.pid")" 2>/dev/null; then
		echo "zabbix-agent.sh: an agent from $dir is still running (pid $(cat "$dir/secmon-agent.pid")); stop it first: $0 stop $dir" >&2
		exit 1
	fi
	if ss -Hltn "sport = :$port" | grep -q .; then
		echo "zabbix-agent.sh: port $port is already in use on this machine; pick another" >&2
		exit 1
	fi

	local eku="${ZBX_AGENT_EKU:-serverAuth,clientAuth}"
	make_ca ca "$ca_subject"
	make_ca other-ca "$other_ca_subject"
	make_cert agent ca "$agent_subject" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku
subjectAltName=DNS:agent.secmon.test,IP:127.0.0.1"
	make_cert client ca "$client_subject" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
	make_cert other-client other-ca "$other_client_subject" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
	rm -f "$dir"/*.srl

	local identity="${ZBX_PSK_IDENTITY:-secmon-psk-01}"
	(umask 077 && openssl rand -hex 32 >"$dir/agent.psk")
	printf '%s\n' "$identity" >"$dir/agent.psk_identity"

	{
		echo "PidFile=$dir/zabbix_agentd.pid"
		echo "LogType=file"
		echo "LogFile=$dir/zabbix_agentd.log"
		echo "Server=127.0.0.1"
		echo "ListenIP=127.0.0.1"
		echo "ListenPort=$port"
		echo "StartAgents=${ZBX_START_AGENTS:-3}"
		echo "Timeout=${ZBX_TIMEOUT:-3}"
		echo "Hostname=secmon-test-agent"
		echo "TLSAccept=$accept"
		if [[ "$accept" == *psk* ]]; then
			echo "TLSPSKIdentity=$identity"
			echo "TLSPSKFile=$dir/agent.psk"
		fi
		if [[ "$accept" == *cert* ]]; then
			echo "TLSCAFile=$dir/ca.crt"
			echo "TLSCertFile=$dir/agent.crt"
			echo "TLSKeyFile=$dir/agent.key"
			local issuer="${ZBX_ISSUER:-$ca_dn}" subject="${ZBX_SUBJECT:-$client_dn}"
			[[ "$issuer" == - ]] || echo "TLSServerCertIssuer=$issuer"
			[[ "$subject" == - ]] || echo "TLSServerCertSubject=$subject"
		fi
		if [[ -n "${ZBX_EXTRA:-}" ]]; then
			printf '%s\n' "$ZBX_EXTRA"
		fi
	} >"$dir/zabbix_agentd.conf"

	# Keys 0600, everything owned by zabbix so the dropped-privilege agent can read and write.
	chmod 0600 "$dir"/*.key "$dir/agent.psk"
	chmod 0700 "$dir"
	if [[ "$(id -u)" == 0 ]]; then
		chown -R zabbix: "$dir"
	fi

	: >"$dir/agent.out"
	# setsid: its own session, so a test runner's signals do not reach it; -f: $! is the main PID.
	setsid /usr/sbin/zabbix_agentd -f -c "$dir/zabbix_agentd.conf" </dev/null >"$dir/agent.out" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/secmon-agent.pid"

	local i
	for i in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "zabbix-agent.sh: zabbix_agentd exited during start-up; its output and log:" >&2
			cat "$dir/agent.out" >&2 || true
			tail -n 20 "$dir/zabbix_agentd.log" >&2 2>/dev/null || true
			exit 1
		fi
		if ss -Hltn "sport = :$port" | grep -q .; then
			# All listeners are forked right after the socket is bound; give them a moment.
			local listeners
			# pgrep -c prints 0 and fails when nothing matches: one number either way.
			listeners="$(pgrep -c -s "$pid" 2>/dev/null)" || listeners=0
			if ((listeners >= ${ZBX_START_AGENTS:-3} + 2)); then
				echo "$pid"
				return 0
			fi
		fi
		sleep 0.05
	done
	echo "zabbix-agent.sh: zabbix_agentd (pid $pid) did not listen on 127.0.0.1:$port within 5 s; log: $dir/zabbix_agentd.log" >&2
	kill "$pid" 2>/dev/null || true
	exit 1
}

# Live (non-zombie) processes in the agent's session (setsid made the main PID its session id).
session_alive() {
	ps -o stat= --sid "$1" 2>/dev/null | grep -qv '^Z'
}

alive() {
	# A zombie (state Z) counts as gone: its parent, the start script, is no longer there to reap it.
	[[ -r "/proc/$1/stat" ]] && [[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

stop() {
	local pidfile="$dir/secmon-agent.pid"
	if [[ ! -s "$pidfile" ]]; then
		echo "zabbix-agent.sh: no $pidfile; nothing to stop" >&2
		return 0
	fi
	local pid
	pid="$(cat "$pidfile")"
	[[ "$pid" =~ ^[0-9]+$ ]] || { echo "zabbix-agent.sh: bad pid in $pidfile" >&2; exit 1; }
	if alive "$pid" && grep -q zabbix_agentd "/proc/$pid/cmdline" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		local i
		for i in $(seq 1 100); do
			# The main process and its collector/listener children share its session (setsid).
			if ! alive "$pid" && ! session_alive "$pid"; then
				break
			fi
			sleep 0.05
		done
		if session_alive "$pid"; then
			echo "zabbix-agent.sh: agent $pid ignored SIGTERM for 5 s; killing its session" >&2
			pkill -KILL -s "$pid" || true
		fi
	fi
	rm -f "$pidfile"
}

case "${1:-}" in
	start)
		[[ $# -eq 4 ]] || usage
		dir="$4"
		start "$2" "$3"
		;;
	stop)
		[[ $# -eq 2 ]] || usage
		dir="$2"
		stop
		;;
	*) usage ;;
esac
