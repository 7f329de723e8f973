#!/usr/bin/env bash
# Runs the benchmarks against a release build on this machine and prints their
# figures. Usage: bench/run.sh BUILD_DIR (make bench does this).
set -euo pipefail
build=${1:-build/release}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp -r "$here/conf" "$tmp/conf"
sed -i "s/name=\"listen-port\" value=\"8021\"/name=\"listen-port\" value=\"$port\"/" \
	"$tmp/conf/autoload_configs/event_socket.conf.xml"
"$build/confabd" -c "$tmp/conf" -log "$tmp/confab.log" -loglevel notice >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do
	grep -q "listening on 127.0.0.1 port $port" "$tmp/confab.log" 2>/dev/null && break
	sleep 0.1
done

echo "# esl_bench: $(nproc) cores, $(uname -r), loopback, confabd release build"
for subs in 1 50; do
	echo "## one producer pipelining sendevent, $subs subscriber(s), plain format"
	"$build/bench/esl_bench" 127.0.0.1 $port ClueCon $subs 10 $pid
done
