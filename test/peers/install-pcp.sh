#!/usr/bin/env bash
# Installs Debian's pcp (pmcd, pmproxy, pminfo, pmval) plus openssl, tmux, iproute2 (ss) and sasl2-bin
# (saslpasswd2, for pmcd.sh's sasl mode) for the PCP peers in test/peers/pmcd.sh and pmproxy.sh. Run by install.sh (which did apt-get update); idempotent.
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-pcp.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# docs/pcp.md#installing-without-systemd: pcp's postinst runs `systemctl daemon-reload` directly and fails with no
# systemd as PID 1; SYSTEMD_OFFLINE=1 makes systemctl a no-op, so no system pmcd is started.
export SYSTEMD_OFFLINE=1

# dpkg status letters for a package, e.g. "ii" (installed), "iF" (half-configured), "" (unknown).
status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true
}

missing=()
for pkg in pcp openssl tmux iproute2 sasl2-bin; do
	case "$(status "$pkg")" in
		ii) ;;
		i*)
			echo "install-pcp.sh: $pkg is half-configured, repairing with dpkg --configure" >&2
			dpkg --configure "$pkg"
			;;
		*) missing+=("$pkg") ;;
	esac
done

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "install-pcp.sh: installing ${missing[*]}" >&2
	apt-get install -y -q "${missing[@]}"
fi

# A failed postinst can leave pcp half-configured even after apt-get returned.
if [[ "$(status pcp)" != ii ]]; then
	dpkg --configure -a
fi

# Check the pieces the peers and the tests really use.
for file in /usr/bin/pminfo /usr/bin/pmval /usr/lib/pcp/bin/pmcd /usr/lib/pcp/bin/pmproxy /usr/lib/pcp/bin/pmnsmerge \
	/var/lib/pcp/pmns/root_pmcd /var/lib/pcp/pmns/root_linux \
	/var/lib/pcp/pmdas/pmcd/pmda_pmcd.so /var/lib/pcp/pmdas/linux/pmda_linux.so \
	/var/lib/pcp/pmdas/sample/pmdasample /var/lib/pcp/pmdas/sample/pmns; do
	if [[ ! -e "$file" ]]; then
		echo "install-pcp.sh: $file is missing after installing pcp; reinstall with: apt-get install --reinstall pcp" >&2
		exit 1
	fi
done
if ! getent passwd pcp >/dev/null; then
	echo "install-pcp.sh: user 'pcp' does not exist (pcp postinst did not run); run: SYSTEMD_OFFLINE=1 dpkg --configure pcp" >&2
	exit 1
fi
version="$(pminfo --version 2>&1)"
command -v openssl >/dev/null && command -v tmux >/dev/null && command -v ss >/dev/null && command -v saslpasswd2 >/dev/null
echo "install-pcp.sh: ok: $version, $(openssl version), tmux $(tmux -V | cut -d' ' -f2)" >&2
