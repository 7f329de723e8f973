#!/usr/bin/env bash
# Call setup rate: SIPp places INVITE -> 200 -> ACK -> BYE calls at a fixed rate
# against a fresh confabd (release build, private config copy with auth-calls=false,
# everything on 127.0.0.1). Three stages, each on its own confabd:
#   caller_bye  extension 7000 (answer, park); SIPp hangs up HOLD_MS after the 200
#   server_bye  extension 7001 (answer, sleep 1000, hangup); confab hangs up
#   tone_bye    extension 7003 (answer, playback of 1 s of tone_stream, hangup)
# then, if PROBE lists rates, short caller_bye runs at those rates to find where
# calls start to fail. Prints one figure per line.
#
#   bench/sip_setup.sh [BUILD_DIR]                 (default build/release)
#
# Environment: RATE (calls/s, default 500), DURATION (s of new calls, 60),
# HOLD_MS (1000), SERVER_BYE_DURATION and TONE_DURATION (s, 20 each; 0 skips
# the stage),
# PROBE (rates for 20 s probes, default none; e.g. "1000 1500 2000").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
RATE=${RATE:-500}
DURATION=${DURATION:-60}
HOLD_MS=${HOLD_MS:-1000}
SERVER_BYE_DURATION=${SERVER_BYE_DURATION:-20}
TONE_DURATION=${TONE_DURATION:-20}
PROBE=${PROBE:-}
. "$here/bench/common.sh"

tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	bench_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

# stage NAME SCENARIO EXTENSION RATE SECONDS
stage() {
	local name=$1 scen=$2 ext=$3 rate=$4 secs=$5 dir="$tmp/$1-$4"
	local calls=$(($4 * $5)) hold_s what sipp_pid sipp_real t0 t1 c0 c1 m0 m1 s_ticks rss0 rssmax=0 r rc=0
	mkdir -p "$dir"
	bench_conf "$here/conf" "$dir"
	bench_start "$build" "$dir"
	rss0=$(bench_rss_kb "$CONFAB_PID")
	case $name in
	caller_bye) hold_s=$(awk -v h="$HOLD_MS" 'BEGIN {print h / 1000}')
		what="SIPp hangs up after $HOLD_MS ms" ;;
	server_bye) hold_s=1 what="confab hangs up after 1 s of silence" ;;
	*) hold_s=1 what="confab plays 1 s of tone, then hangs up" ;;
	esac
	echo "## $name: extension $ext, $rate calls/s for $secs s ($calls calls), $what"
	bench_wait_quiet 60
	t0=$(bench_now)
	c0=$(bench_cpu_ticks "$CONFAB_PID")
	m0=$(bench_machine)
	(cd "$dir" && exec timeout $((secs + 120)) sipp "127.0.0.1:$SIP_PORT" -sf "$here/bench/sipp/$scen" \
		-s "$ext" -i 127.0.0.1 -p "$(bench_free_port)" -mp "$(bench_free_port)" \
		-r "$rate" -m "$calls" -l $((rate * 30)) -d "$HOLD_MS" -nostdin \
		-recv_timeout 10000 -trace_stat -stf "$dir/stat.csv" -fd 1 \
		-trace_rtt -rtt_freq 100 -trace_err -error_file "$dir/err.log") >/dev/null 2>&1 &
	sipp_pid=$!
	pids+=("$sipp_pid")
	sipp_real=$(bench_desc "$sipp_pid" sipp)
	pids+=("$sipp_real")
	s_ticks=0
	while kill -0 "$sipp_pid" 2>/dev/null; do
		r=$(bench_rss_kb "$CONFAB_PID")
		[ "${r:-0}" -gt "$rssmax" ] && rssmax=$r
		r=$(bench_cpu_ticks "$sipp_real")
		[ "${r:-0}" -gt "$s_ticks" ] && s_ticks=$r
		sleep 1
	done
	wait "$sipp_pid" || rc=$?
	t1=$(bench_now)
	c1=$(bench_cpu_ticks "$CONFAB_PID")
	m1=$(bench_machine)
	local el
	el=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
	awk -F';' -v hold="$hold_s" '
		NR == 1 {for (i = 1; i <= NF; i++) h[$i] = i; next}
		{n++; cur[n] = $h["CurrentCall"]; pr[n] = $h["OutgoingCall(P)"] + 0; last = $0}
		END {
			split(last, f, ";")
			ok = f[h["SuccessfulCall(C)"]]; bad = f[h["FailedCall(C)"]]
			made = f[h["OutgoingCall(C)"]]
			for (i = 1; i <= n; i++) if (cur[i] > peak) peak = cur[i]
			# steady state: the full periods while new calls were being placed
			min = -1; max = 0
			for (i = 3; i <= n - 2 - hold; i++) {
				if (pr[i] == 0) continue
				if (min < 0 || pr[i] < min) min = pr[i]
				if (pr[i] > max) max = pr[i]
			}
			printf "calls_placed           %d\n", made
			printf "calls_ok               %d\n", ok
			printf "calls_failed           %d\n", bad
			printf "failure_pct            %.3f\n", made ? 100 * bad / made : 0
			printf "new_calls_per_s_min    %d\n", min < 0 ? 0 : min
			printf "new_calls_per_s_max    %d\n", max
			printf "concurrent_calls_peak  %d\n", peak
			printf "sipp_retransmissions   %d\n", f[h["Retransmissions(C)"]]
			printf "sipp_unexpected_msgs   %d\n", f[h["FailedUnexpectedMessage(C)"]]
			printf "sipp_recv_timeouts     %d\n", f[h["FailedTimeoutOnRecv(C)"]]
		}' "$dir/stat.csv"
	# INVITE -> 200 and BYE -> 200 times (SIPp measures whole milliseconds)
	for rtd in 1 2; do
		cat "$dir"/*_rtt.csv 2>/dev/null | awk -F';' -v rtd="$rtd" 'NR > 1 && $3 == rtd {print $2}' |
			sort -n | awk -v name="$([ $rtd = 1 ] && echo invite_200 || echo bye_200)" '
			function q(p,  i) {i = int(NR * p); if (i < 1) i = 1; return v[i]}
			{v[NR] = $1}
			END {
				if (!NR) exit
				printf "%s_ms_p50       %g\n", name, q(0.50)
				printf "%s_ms_p99       %g\n", name, q(0.99)
				printf "%s_ms_max       %g\n", name, v[NR]
			}' || true
	done
	echo "elapsed_s              $el"
	echo "server_cpu_pct_of_core $(bench_pct "$c0" "$c1" "$el")"
	echo "sipp_cpu_pct_of_core   $(bench_pct 0 "$s_ticks" "$el")"
	echo "machine_busy_pct       $(bench_machine_pct "$m0" "$m1")"
	echo "server_rss_idle_kb     $rss0"
	echo "server_rss_peak_kb     $rssmax"
	sleep 2
	echo "channels_after         $(bench_api "show channels count" | awk '/total/ {print $1}')"
	echo "server_rss_after_kb    $(bench_rss_kb "$CONFAB_PID")"
	echo "sipp_exit_status       $rc"
	bench_stop
}

echo "# sip_setup: $(nproc) cores, $(uname -r), loopback UDP, confabd $(basename "$build") build," \
	"SIPp $(sipp -v 2>&1 | awk '/SIPp v/ {print $2}' | tr -d ,) (one process, one UDP socket)"
stage caller_bye uac_setup.xml 7000 "$RATE" "$DURATION"
if [ "$SERVER_BYE_DURATION" -gt 0 ]; then
	stage server_bye uac_setup_srvbye.xml 7001 "$RATE" "$SERVER_BYE_DURATION"
fi
if [ "$TONE_DURATION" -gt 0 ]; then
	stage tone_bye uac_setup_srvbye.xml 7003 "$RATE" "$TONE_DURATION"
fi
for r in $PROBE; do
	stage caller_bye uac_setup.xml 7000 "$r" 20
done
