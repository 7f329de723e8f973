#!/usr/bin/env bash
# Concurrent bridged G.711 calls with RTP both ways: for each size N, a fresh
# confabd (release build, private config copy, everything on 127.0.0.1) takes 2N
# SIPp calls to a parking extension; esl_pair.py bridges them two by two with
# uuid_bridge; bench/rtp_load plays all 2N phones (PCMU, 20 ms, both ways) and
# counts what comes back while confabd's CPU and memory are read. The calls then
# end with SIPp's BYEs. Prints one figure per line.
#
#   bench/bridged_calls.sh [BUILD_DIR] [N ...]     (defaults: build/release; 100 500 1000 2500)
#
# With ROOM_SIZE=K the N calls are conference members instead: each parked call
# is sent to room 8<i/K> (profile bench: energy-level 100, ROOM_TALKERS caps the
# mixed talkers), every phone talks, and each hears its room's mix. rtp_load's
# pairing and cross-talk figures then mean nothing (every frame is a mix); its
# packet rates, loss, inter-arrival and the server's CPU and memory do.
# ROOM_RATE (8000, 16000, 48000 ...) is the bench profile's mixing rate; for
# the workers' CPU per member at several rates side by side, see media_bench's
# ROOM_RATES.
#
# With ECHO=1 the N calls go to the default dialplan's echo test (9196): one
# SIP leg and one RTP stream each way per call, and each phone must hear its own
# packets back (rtp_load then sees every stream as its own partner).
#
# Environment: WINDOW (s, default 20), WARMUP (s, 5), RATE (calls/s while setting
# up, 200), GEN_THREADS (rtp_load threads, 2), GEN_SOCKETS (phone sockets, 16),
# GEN_NICE (rtp_load's nice level, 0; 19 lets confabd take the CPU it needs
# first, and rtp_load's lateness then shows when the generator is the limit),
# GEN_VERIFY (rtp_load -v: read and check the calls on every K-th socket only,
# 1 = all; the others are sinks, which saves the generator the receiving half
# of loopback's cost). Both legs of a call share one generator socket.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
shift || true
sizes=${*:-100 500 1000 2500}
WINDOW=${WINDOW:-20}
WARMUP=${WARMUP:-5}
RATE=${RATE:-200}
GEN_THREADS=${GEN_THREADS:-2}
GEN_SOCKETS=${GEN_SOCKETS:-16}
GEN_NICE=${GEN_NICE:-0}
GEN_VERIFY=${GEN_VERIFY:-1}
ROOM_SIZE=${ROOM_SIZE:-}
ECHO=${ECHO:-}
. "$here/bench/common.sh"

tmp=$(mktemp -d)
pids=()
keep=
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	bench_stop
	if [ -n "$keep" ]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# GEN_SOCKETS consecutive UDP ports free on 127.0.0.1, below the RTP range.
gen_base() {
	python3 - "$GEN_SOCKETS" <<'EOF'
import socket, sys
k = int(sys.argv[1])
for base in range(10000, 16000 - k, k):
    socks = []
    try:
        for p in range(base, base + k):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
EOF
}

# wait_channels N SECONDS: until confab has N channels up, or fail after SECONDS.
wait_channels() {
	local want=$1 end=$((SECONDS + $2)) have
	while [ "$SECONDS" -lt "$end" ]; do
		have=$(bench_api "show channels count" | awk '/total/ {print $1}')
		if [ "${have:-0}" -ge "$want" ]; then
			echo "calls_up               $have"
			return 0
		fi
		sleep 0.5
	done
	echo "only ${have:-0} of $want calls came up" >&2
	return 1
}

run_size() {
	local n=$1 legs=$(($1 * 2)) dir="$tmp/n$1" base setup_s hold_ms sipp_pid sipp_real pair_pid
	local rss0 t0 t1 s0 s1 m0 m1 elapsed rc dest=7002
	[ -n "$ECHO" ] && dest=9196
	mkdir -p "$dir"
	bench_conf "$here/conf" "$dir"
	bench_start "$build" "$dir"
	sleep 2
	rss0=$(bench_rss_kb "$CONFAB_PID")
	base=$(gen_base)
	# Room members and echo calls are one leg each, hanging up by itself ("a").
	[ -n "$ROOM_SIZE$ECHO" ] && legs=$n
	{
		echo SEQUENTIAL
		for i in $(seq 0 $((legs - 1))); do
			if [ -n "$ROOM_SIZE$ECHO" ]; then
				echo "$((base + i % GEN_SOCKETS));a;"
			else
				echo "$((base + i / 2 % GEN_SOCKETS));$( ((i % 2)) && echo b || echo a);"
			fi
		done
	} >"$dir/ports.csv"
	setup_s=$(((legs + RATE - 1) / RATE))
	hold_ms=$(((setup_s + 15 + WARMUP + WINDOW + 10) * 1000))
	sed -e "s/@HOLD_MS@/$hold_ms/" -e "s/@HOLD_B_MS@/$((hold_ms + 60000))/" "$here/bench/sipp/uac_rtp_park.xml" >"$dir/uac.xml"

	if [ -n "$ROOM_SIZE" ]; then
		echo "## N=$n conference members in rooms of $ROOM_SIZE ($legs SIP legs)"
	elif [ -n "$ECHO" ]; then
		echo "## N=$n echo calls ($legs SIP legs, $legs RTP streams each way)"
	else
		echo "## N=$n bridged calls ($legs SIP legs, $legs RTP streams each way)"
	fi
	bench_wait_quiet 60
	if [ -n "$ECHO" ]; then
		wait_channels "$legs" $((setup_s + 60)) >"$dir/pair.out" 2>"$dir/pair.err" &
	else
		python3 "$here/bench/esl_pair.py" "$ESL_PORT" ClueCon "$n" $((setup_s + 60)) $ROOM_SIZE \
			>"$dir/pair.out" 2>"$dir/pair.err" &
	fi
	pair_pid=$!
	pids+=("$pair_pid")
	for _ in $(seq 100); do
		[ -n "$ECHO" ] || grep -q subscribed "$dir/pair.err" 2>/dev/null && break
		sleep 0.1
	done
	t0=$(bench_now)
	(cd "$dir" && exec timeout $((hold_ms / 1000 + setup_s + 120)) sipp "127.0.0.1:$SIP_PORT" \
		-sf "$dir/uac.xml" -s "$dest" -i 127.0.0.1 -p "$(bench_free_port)" \
		-inf "$dir/ports.csv" -trace_logs -log_file "$dir/map.log" \
		-r "$RATE" -m "$legs" -l "$legs" -nostdin -recv_timeout 130000 \
		-trace_stat -stf "$dir/stat.csv" -trace_err -error_file "$dir/err.log") \
		>/dev/null 2>&1 &
	sipp_pid=$!
	pids+=("$sipp_pid")
	sipp_real=$(bench_desc "$sipp_pid" sipp)
	pids+=("$sipp_real")
	rc=0
	wait "$pair_pid" || rc=$?
	t1=$(bench_now)
	cat "$dir/pair.out"
	for _ in $(seq 100); do
		[ "$(wc -l <"$dir/map.log" 2>/dev/null || echo 0)" -ge "$legs" ] && break
		sleep 0.2
	done
	echo "setup_seconds          $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')"
	echo "channels_up            $(bench_api "show channels count" | awk '/total/ {print $1}')"
	echo "legs_answered_by_sipp  $(wc -l <"$dir/map.log")"
	if [ "$rc" -ne 0 ]; then
		echo "bridging did not finish" >&2
		head -5 "$dir/pair.err" >&2
		keep=1
		kill "$sipp_pid" 2>/dev/null || true
		bench_stop
		return 1
	fi
	sed -E 's/m=audio //' "$dir/map.log" >"$dir/map.txt"
	s0=$(bench_cpu_ticks "$sipp_real")
	nice -n "$GEN_NICE" "$build/bench/rtp_load" -t "$GEN_THREADS" -v "$GEN_VERIFY" -w "$WARMUP" -p "$CONFAB_PID" \
		"$dir/map.txt" "$WINDOW" | tee "$dir/rtp.out"
	s1=$(bench_cpu_ticks "$sipp_real")
	echo "sipp_cpu_pct_of_core   $(bench_pct "$s0" "$s1" $((WARMUP + WINDOW)))"
	echo "server_threads         $(bench_threads "$CONFAB_PID")"
	echo "server_rss_idle_kb     $rss0"
	awk -v r0="$rss0" -v n="$n" '/^server_rss_kb/ {printf "server_rss_per_call_kb %.1f\n", ($2 - r0) / n}' \
		"$dir/rtp.out"

	# Teardown: SIPp's BYEs (each call's first leg hangs up after hold_ms,
	# confab hangs up its partner).
	rc=0
	wait "$sipp_pid" || rc=$?
	awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[$i] = i; next}
		END {print "sipp_calls_ok          " $h["SuccessfulCall(C)"];
		     print "sipp_calls_failed      " $h["FailedCall(C)"];
		     print "sipp_retransmissions   " $h["Retransmissions(C)"]}' "$dir/stat.csv"
	echo "sipp_exit_status       $rc"
	sleep 1
	echo "channels_after_hangup  $(bench_api "show channels count" | awk '/total/ {print $1}')"
	echo "server_rss_after_kb    $(bench_rss_kb "$CONFAB_PID")"
	bench_stop
}

echo "# bridged_calls: $(nproc) cores, $(uname -r), loopback, confabd $(basename "$build") build;" \
	"SIPp $(sipp -v 2>&1 | awk '/SIPp v/ {print $2}' | tr -d ,), setup at $RATE calls/s;" \
	"rtp_load $GEN_THREADS thread(s) at nice $GEN_NICE, $GEN_SOCKETS phone sockets, checking 1 in $GEN_VERIFY; ${WARMUP} s warm-up, ${WINDOW} s window"
for n in $sizes; do
	run_size "$n"
done
