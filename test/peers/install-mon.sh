#!/usr/bin/env bash
# Installs Debian's mon (1.3.6) for the mon interop tests (test/peers/mon.sh starts a private mon
# behind stunnel4, docs/icinga-livestatus-mon.md#mon). Run by install.sh (which did apt-get update); idempotent, and
# fast when already installed. Recommends are not installed: the test monitors are small shell
# scripts written by mon.sh plus check_load from monitoring-plugins-basic. No system mon daemon is
# left running (it would hold :2583; the tests bind their own loopback ports).
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-mon.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
export SYSTEMD_OFFLINE=1

status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true
}

# Stops a mon started by the package's init script (pid file /run/mon/mon.pid), and only that one.
stop_system_mon() {
	local pidfile pid
	for pidfile in /run/mon/mon.pid /var/run/mon/mon.pid /var/run/mon.pid; do
		[[ -s "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
			&& grep -q mon "/proc/$pid/cmdline" 2>/dev/null; then
			echo "install-mon.sh: stopping the system mon (pid $pid)" >&2
			kill "$pid" || true
		fi
	done
}

missing=()
for pkg in mon stunnel4 openssl monitoring-plugins-basic; do
	case "$(status "$pkg")" in
		ii) ;;
		i*)
			echo "install-mon.sh: $pkg is half-configured, repairing with dpkg --configure" >&2
			dpkg --configure "$pkg"
			;;
		*) missing+=("$pkg") ;;
	esac
done

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "install-mon.sh: installing ${missing[*]}" >&2
	# policy-rc.d exit 101 = "do not start services"; only remove the one we added.
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

if [[ -x /etc/init.d/mon ]] && command -v update-rc.d >/dev/null; then
	update-rc.d mon disable >/dev/null 2>&1 || true
fi
stop_system_mon

for file in /usr/sbin/mon /usr/bin/stunnel4 /usr/bin/openssl /usr/lib/nagios/plugins/check_load; do
	if [[ ! -x "$file" ]]; then
		echo "install-mon.sh: $file is missing; reinstall with: apt-get install --reinstall mon stunnel4 openssl monitoring-plugins-basic" >&2
		exit 1
	fi
done
if ! getent passwd mon >/dev/null; then
	echo "install-mon.sh: user 'mon' does not exist (the mon postinst did not run); run: dpkg --configure -a" >&2
	exit 1
fi
echo "install-mon.sh: ok: mon $(dpkg-query -W -f='${Version}' mon)" >&2
