#!/usr/bin/env bash
# Concurrent Lua runs: RUNS background scripts (luarun), each waking every
# WAKE_MS (freeswitch.msleep) to bump a counter, then BUSY scripts that never
# wait (`while true do end`). Reports what the runs cost (memory per run, CPU)
# and how fast the server still answers API commands, side by side with the
# same server idle. Prints one figure per line.
#
#   bench/lua_runs.sh [BUILD_DIR]                 (default build/release)
#
# Environment: RUNS (default 1000), WAKE_MS (20), BUSY (2), SECONDS_PER (10).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
RUNS=${RUNS:-1000}
WAKE_MS=${WAKE_MS:-20}
BUSY=${BUSY:-2}
SECONDS_PER=${SECONDS_PER:-10}
. "$here/bench/common.sh"

tmp=$(mktemp -d)
cleanup() {
	bench_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

bench_conf "$here/conf" "$tmp"
cat >"$tmp/conf/scripts/bench_wait.lua" <<EOF
local n = 0
while true do
	freeswitch.msleep($WAKE_MS)
	n = n + 1
	if n % 50 == 0 then
		freeswitch.setGlobalVariable("bench_wakes_" .. argv[1], tostring(n))
	end
end
EOF
bench_start "$build" "$tmp"

# Mean milliseconds of N `status` round trips through confab-cli.
api_ms() {
	local n=${1:-20} t0 t1
	t0=$(bench_now)
	for _ in $(seq "$n"); do
		bench_api status >/dev/null
	done
	t1=$(bench_now)
	echo "$t0 $t1 $n" | awk '{printf "%.2f", 1000 * ($2 - $1) / $3}'
}

# CPU percent of one core over SECONDS_PER seconds.
cpu_pct() {
	local c0 c1
	c0=$(bench_cpu_ticks "$CONFAB_PID")
	sleep "$SECONDS_PER"
	c1=$(bench_cpu_ticks "$CONFAB_PID")
	bench_pct "$c0" "$c1" "$SECONDS_PER"
}

bench_wait_quiet 30
rss0=$(bench_rss_kb "$CONFAB_PID")
idle_api=$(api_ms)
echo "idle_api_ms            $idle_api"

for i in $(seq "$RUNS"); do
	bench_api "luarun bench_wait.lua $i" >/dev/null
done
sleep 2
rss1=$(bench_rss_kb "$CONFAB_PID")
echo "runs                   $RUNS (each waking every $WAKE_MS ms)"
echo "rss_per_run_kb         $(( (rss1 - rss0) / RUNS ))"
echo "cpu_pct_of_core        $(cpu_pct)"
echo "wakes_per_s            $(( RUNS * 1000 / WAKE_MS ))"
wait_api=$(api_ms)
echo "api_ms_with_runs       $wait_api"
last=$(bench_api "global_getvar bench_wakes_$RUNS")
echo "last_run_wakes         ${last:-0} (counted every 50)"

for i in $(seq "$BUSY"); do
	bench_api "luarun ~while true do end" >/dev/null
done
sleep 1
busy_api=$(api_ms)
echo "busy_scripts           $BUSY (never wait)"
echo "api_ms_with_busy       $busy_api"
echo "api_ratio_busy_to_idle $(echo "$busy_api $idle_api" | awk '{printf "%.1f", $1 / ($2 > 0 ? $2 : 1)}')"
