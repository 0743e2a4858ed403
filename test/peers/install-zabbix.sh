#!/usr/bin/env bash
# Installs Debian's zabbix-agent (zabbix_agentd) and unpacks zabbix_get from zabbix-proxy-sqlite3
# WITHOUT installing the proxy (docs/zabbix.md#running-the-agent: zabbix_get is not in zabbix-agent). Run by install.sh
# (which did apt-get update); idempotent, and fast when everything is in place.
# Leaves no system agent running: the interop tests start their own agents (test/peers/zabbix-agent.sh).
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-zabbix.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
export SYSTEMD_OFFLINE=1

zg_root=/opt/secmon-peers/zabbix_get
zg_bin="$zg_root/usr/bin/zabbix_get"

status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true
}

# Stops the packaged agent if its init script or postinst started one (there is no systemd here).
stop_system_agent() {
	local pidfile pid
	for pidfile in /run/zabbix/zabbix_agentd.pid /var/run/zabbix/zabbix_agentd.pid; do
		[[ -s "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
			&& grep -q zabbix_agentd "/proc/$pid/cmdline" 2>/dev/null; then
			echo "install-zabbix.sh: stopping the system zabbix_agentd (pid $pid)" >&2
			kill "$pid" || true
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
	done
}

missing=()
for pkg in zabbix-agent openssl iproute2; do
	case "$(status "$pkg")" in
		ii) ;;
		i*)
			echo "install-zabbix.sh: $pkg is half-configured, repairing with dpkg --configure" >&2
			dpkg --configure "$pkg"
			;;
		*) missing+=("$pkg") ;;
	esac
done

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "install-zabbix.sh: installing ${missing[*]}" >&2
	# invoke-rc.d consults policy-rc.d: exit 101 = "do not start services". Only add one when
	# none exists, and remove only the one we added.
	added_policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	trap 'if [[ $added_policy == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	if [[ $added_policy == 1 ]]; then
		rm -f /usr/sbin/policy-rc.d
		added_policy=0
	fi
fi

# Never leave the packaged agent enabled or running (it would hold :10050).
if [[ -x /etc/init.d/zabbix-agent ]] && command -v update-rc.d >/dev/null; then
	update-rc.d zabbix-agent disable >/dev/null 2>&1 || true
fi
stop_system_agent

if [[ ! -x "$zg_bin" ]]; then
	echo "install-zabbix.sh: unpacking zabbix_get from zabbix-proxy-sqlite3 into $zg_root" >&2
	work="$(mktemp -d)"
	(
		cd "$work"
		# apt-get download runs as the _apt user when it can; let it write here.
		chmod 0777 "$work"
		apt-get download -q zabbix-proxy-sqlite3
		mkdir -p "$work/x"
		dpkg -x zabbix-proxy-sqlite3_*.deb "$work/x"
	)
	mkdir -p "$zg_root/usr/bin"
	install -m 0755 "$work/x/usr/bin/zabbix_get" "$zg_bin"
	rm -rf "$work"
fi

for file in /usr/sbin/zabbix_agentd "$zg_bin"; do
	if [[ ! -x "$file" ]]; then
		echo "install-zabbix.sh: $file is missing; reinstall with: apt-get install --reinstall zabbix-agent, and rm -rf $zg_root" >&2
		exit 1
	fi
done
if ! getent passwd zabbix >/dev/null; then
	echo "install-zabbix.sh: user 'zabbix' does not exist (zabbix-agent postinst did not run); run: dpkg --configure zabbix-agent" >&2
	exit 1
fi
if ! "$zg_bin" -V >/dev/null 2>&1; then
	echo "install-zabbix.sh: $zg_bin does not run (missing libraries?); check: ldd $zg_bin" >&2
	exit 1
fi
command -v openssl >/dev/null && command -v ss >/dev/null && command -v setsid >/dev/null
echo "install-zabbix.sh: ok: $(/usr/sbin/zabbix_agentd -V | head -1), $("$zg_bin" -V | head -1)" >&2
