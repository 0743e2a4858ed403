#!/usr/bin/env bash
# Installs Debian's stunnel4 (stunnel 5.68) and libnss3-tools (certutil) for the PKI interop
# tests (test/peers/stunnel.sh) and `secmon certs import-nss`. Run by install.sh (which did
# apt-get update); idempotent, and fast when everything is in place. docs/icinga-livestatus-mon.md#stunnel: stunnel is
# started per test by its own script; no system stunnel is left running (no systemd here).
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-stunnel.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
export SYSTEMD_OFFLINE=1

status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true
}

# Stops a system stunnel started by the package's init script (its pid files live in /run/stunnel4).
stop_system_stunnel() {
	local pidfile pid
	shopt -s nullglob
	for pidfile in /run/stunnel4/*.pid /var/run/stunnel4/*.pid; do
		[[ -s "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
			&& grep -q stunnel "/proc/$pid/cmdline" 2>/dev/null; then
			echo "install-stunnel.sh: stopping the system stunnel (pid $pid)" >&2
			kill "$pid" || true
		fi
	done
	shopt -u nullglob
}

missing=()
for pkg in stunnel4 libnss3-tools openssl iproute2; do
	case "$(status "$pkg")" in
		ii) ;;
		i*)
			echo "install-stunnel.sh: $pkg is half-configured, repairing with dpkg --configure" >&2
			dpkg --configure "$pkg"
			;;
		*) missing+=("$pkg") ;;
	esac
done

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "install-stunnel.sh: installing ${missing[*]}" >&2
	# invoke-rc.d consults policy-rc.d: exit 101 = "do not start services". Only add one when
	# none exists, and remove only the one we added.
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

stop_system_stunnel

for file in /usr/bin/stunnel4 /usr/bin/certutil /usr/bin/openssl; do
	if [[ ! -x "$file" ]]; then
		echo "install-stunnel.sh: $file is missing; reinstall with: apt-get install --reinstall stunnel4 libnss3-tools openssl" >&2
		exit 1
	fi
done
echo "install-stunnel.sh: ok: $(/usr/bin/stunnel4 -version 2>&1 | grep -m1 '^stunnel ' || true)" >&2
