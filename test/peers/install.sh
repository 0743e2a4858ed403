#!/usr/bin/env bash
# Installs every real collector the interop tests talk to (test/peers/install-*.sh).
# Idempotent, non-interactive, runs as root (CI: .ci/run). Fresh Debian 12 or an already
# provisioned machine; the per-peer scripts must be fast when their packages are present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "$(id -u)" != 0 ]]; then
	echo "install.sh: must run as root (it installs Debian packages); try: sudo bash $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# docs/pcp.md#installing-without-systemd: with no systemd as PID 1, systemctl in maintainer scripts must be a no-op.
export SYSTEMD_OFFLINE=1

echo "install.sh: apt-get update" >&2
apt-get update -qq

# Sorted, so the order is the same on every machine (LC_ALL=C glob order).
shopt -s nullglob
export LC_ALL=C
scripts=("$here"/install-*.sh)
if [[ ${#scripts[@]} -eq 0 ]]; then
	echo "install.sh: no $here/install-*.sh found, nothing to install" >&2
	exit 1
fi

for script in "${scripts[@]}"; do
	echo "install.sh: running $(basename "$script")" >&2
	if ! bash "$script"; then
		echo "install.sh: $(basename "$script") failed; fix it and run 'bash $here/install.sh' again" >&2
		exit 1
	fi
done

echo "install.sh: all peers installed" >&2
