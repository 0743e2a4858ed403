#!/usr/bin/env bash
# Installs Debian's icinga2 (2.13.6) for the ticket tests (`icinga2 pki ticket` is the reference
# for `secmon pki ticket`, docs/icinga-livestatus-mon.md#ticket-enrollment). Run by install.sh (which did apt-get update);
# idempotent, and fast when already installed. No system icinga2 daemon is left running: the
# tests only run the icinga2 CLI, and peers start their own instance with -D paths (docs/icinga-livestatus-mon.md#running-icinga2).
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-icinga2.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
export SYSTEMD_OFFLINE=1

status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true
}

# Stops the packaged daemon if its init script started one (SIGTERM to the umbrella process
# stops its children too, docs/icinga-livestatus-mon.md#running-icinga2).
stop_system_icinga2() {
	local pidfile pid
	for pidfile in /run/icinga2/icinga2.pid /var/run/icinga2/icinga2.pid; do
		[[ -s "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
			&& grep -q icinga2 "/proc/$pid/cmdline" 2>/dev/null; then
			echo "install-icinga2.sh: stopping the system icinga2 (pid $pid)" >&2
			kill "$pid" || true
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
	done
}

missing=()
# monitoring-plugins-basic: the checks the Icinga 2 peer's demo objects run (docs/icinga-livestatus-mon.md#running-icinga2).
for pkg in icinga2 monitoring-plugins-basic; do
	case "$(status "$pkg")" in
		ii) ;;
		i*)
			echo "install-icinga2.sh: $pkg is half-configured, repairing with dpkg --configure" >&2
			dpkg --configure "$pkg"
			;;
		*) missing+=("$pkg") ;;
	esac
done

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "install-icinga2.sh: installing ${missing[*]}" >&2
	added_policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	trap '[[ $added_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	if [[ $added_policy == 1 ]]; then
		rm -f /usr/sbin/policy-rc.d
		added_policy=0
	fi
fi

# Never leave the packaged daemon enabled or running (it would hold :5665).
if [[ -x /etc/init.d/icinga2 ]] && command -v update-rc.d >/dev/null; then
	update-rc.d icinga2 disable >/dev/null 2>&1 || true
fi
stop_system_icinga2

if [[ ! -x /usr/sbin/icinga2 ]]; then
	echo "install-icinga2.sh: /usr/sbin/icinga2 is missing; reinstall with: apt-get install --reinstall icinga2-bin" >&2
	exit 1
fi
if ! getent passwd nagios >/dev/null; then
	echo "install-icinga2.sh: user 'nagios' does not exist (icinga2-common postinst did not run); run: dpkg --configure -a" >&2
	exit 1
fi
# The CLI must run without a daemon or a config (the ticket tests use --salt).
if ! /usr/sbin/icinga2 pki ticket --cn install-check --salt install-check >/dev/null 2>&1; then
	echo "install-icinga2.sh: 'icinga2 pki ticket' does not run; check: /usr/sbin/icinga2 pki ticket --cn x --salt y" >&2
	exit 1
fi
echo "install-icinga2.sh: ok: $(/usr/sbin/icinga2 --version 2>&1 | head -1)" >&2
