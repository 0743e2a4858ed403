#!/usr/bin/env bash
# Installs Debian's libnss3-tools (certutil) for `secmon certs import-nss` and its tests
# (test/commands/certs/import-nss.test.ts builds real NSS databases with certutil -N / -A). Run by install.sh
# (which did apt-get update); idempotent, and fast when certutil is already there.
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
	echo "install-nss.sh: must run as root; try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

case "$(dpkg-query -W -f='${db:Status-Abbrev}' libnss3-tools 2>/dev/null | tr -d ' ' || true)" in
	ii) ;;
	i*)
		echo "install-nss.sh: libnss3-tools is half-configured, repairing with dpkg --configure" >&2
		dpkg --configure libnss3-tools
		;;
	*)
		echo "install-nss.sh: installing libnss3-tools" >&2
		apt-get install -y -q --no-install-recommends libnss3-tools
		;;
esac

if [[ ! -x /usr/bin/certutil ]]; then
	echo "install-nss.sh: /usr/bin/certutil is missing; reinstall with: apt-get install --reinstall libnss3-tools" >&2
	exit 1
fi

# certutil has no --version; a throwaway database proves it runs.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! /usr/bin/certutil -N -d "sql:$scratch" --empty-password >/dev/null 2>&1; then
	echo "install-nss.sh: certutil cannot create an NSS database (certutil -N -d sql:DIR --empty-password failed)" >&2
	exit 1
fi
echo "install-nss.sh: ok: certutil from libnss3-tools $(dpkg-query -W -f='${Version}' libnss3-tools)" >&2
