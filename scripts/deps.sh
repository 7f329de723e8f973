#!/usr/bin/env bash
# Installs what confab needs to build and test on Debian 12. Idempotent: when every
# package is already present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

build_pkgs=(build-essential cmake pkg-config libre-dev liblua5.4-dev libexpat1-dev
            libjansson-dev libedit-dev libpcre2-dev libsndfile1-dev
            libsqlite3-dev libpq-dev
            espeak-ng sox)
test_pkgs=(nodejs npm sip-tester baresip python3)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

# node and npm may come from outside Debian's packages; a working binary is enough.
if [ "${#missing[@]}" -gt 0 ]; then
	filtered=()
	for p in "${missing[@]}"; do
		case "$p" in
		nodejs) command -v node >/dev/null || filtered+=("$p") ;;
		npm) command -v npm >/dev/null || filtered+=("$p") ;;
		*) filtered+=("$p") ;;
		esac
	done
	missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
	cd "$here/tests/integration"
	if [ ! -f node_modules/.confab-stamp ] ||
	   [ package.json -nt node_modules/.confab-stamp ]; then
		echo "deps: installing npm test packages"
		npm install --no-audit --no-fund --no-package-lock --silent
		touch node_modules/.confab-stamp
	fi
fi
