# bench/common.sh - sourced by the SIP benchmarks (sip_setup.sh, bridged_calls.sh):
# a private copy of conf/ on free ports, confabd started from it, and readers for
# its CPU, memory and API. Nothing here stops a process the caller did not start.

# A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both).
bench_free_port() {
	python3 - <<'EOF'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
}

# bench_conf SRC_CONF DIR: copy the configuration to DIR/conf with the event
# socket and both SIP profiles on free ports (ESL_PORT, SIP_PORT, SIP_EXT_PORT),
# the internal profile without call authentication, switch.conf's session limits
# raised and the RTP range RTP_START..RTP_END, and the bench extensions:
#   7000  answer, park            (the caller hangs up)
#   7001  answer, sleep 1000, hangup (confab hangs up after a second)
#   7002  answer, park            (for bridging by uuid_bridge)
#   7003  answer, playback of 1 s of 440 Hz tone, hangup
#   8<n>  conference room <n>, profile bench (no sounds, energy-level 100,
#         max-talkers ROOM_TALKERS when set, rate ROOM_RATE, default 8000)
bench_conf() {
	local src=$1 dir=$2
	ESL_PORT=$(bench_free_port)
	SIP_PORT=$(bench_free_port)
	SIP_EXT_PORT=$(bench_free_port)
	cp -r "$src" "$dir/conf"
	sed -i "s/name=\"listen-port\" value=\"8021\"/name=\"listen-port\" value=\"$ESL_PORT\"/" \
		"$dir/conf/autoload_configs/event_socket.conf.xml"
	sed -i -e "s/name=\"sip-port\" value=\"5060\"/name=\"sip-port\" value=\"$SIP_PORT\"/" \
		-e "s/name=\"sip-port\" value=\"5080\"/name=\"sip-port\" value=\"$SIP_EXT_PORT\"/" \
		-e "s/name=\"auth-calls\" value=\"true\"/name=\"auth-calls\" value=\"${BENCH_AUTH_CALLS:-false}\"/" \
		"$dir/conf/autoload_configs/sofia.conf.xml"
	sed -i -e 's/name="max-sessions" value="[0-9]*"/name="max-sessions" value="20000"/' \
		-e 's/name="sessions-per-second" value="[0-9]*"/name="sessions-per-second" value="5000"/' \
		-e "s|</settings>|  <param name=\"rtp-start-port\" value=\"${RTP_START:-16384}\"/>\n    <param name=\"rtp-end-port\" value=\"${RTP_END:-32767}\"/>\n  </settings>|" \
		"$dir/conf/autoload_configs/switch.conf.xml"
	mkdir -p "$dir/conf/dialplan/default"
	cat >"$dir/conf/dialplan/default/00_bench.xml" <<'EOF'
<include>
  <extension name="bench_answer_park">
    <condition field="destination_number" expression="^700[02]$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="bench_answer_sleep_hangup">
    <condition field="destination_number" expression="^7001$">
      <action application="answer"/>
      <action application="sleep" data="1000"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="bench_conference">
    <condition field="destination_number" expression="^8([0-9]+)$">
      <action application="conference" data="$1@bench"/>
    </condition>
  </extension>
  <extension name="bench_answer_tone_hangup">
    <condition field="destination_number" expression="^7003$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(1000,0,440)"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
EOF
	sed -i "s|</profiles>|  <profile name=\"bench\">\n      <param name=\"energy-level\" value=\"100\"/>\n      <param name=\"max-talkers\" value=\"${ROOM_TALKERS:-0}\"/>\n      <param name=\"rate\" value=\"${ROOM_RATE:-8000}\"/>\n    </profile>\n  </profiles>|" \
		"$dir/conf/autoload_configs/conference.conf.xml"
}

# bench_start BUILD DIR: start confabd on DIR/conf, set CONFAB_PID, wait until
# the event socket answers.
bench_start() {
	local build=$1 dir=$2
	"$build/confabd" -c "$dir/conf" -log "$dir/confab.log" -loglevel "${BENCH_LOGLEVEL:-notice}" \
		>"$dir/confabd.out" 2>&1 &
	CONFAB_PID=$!
	CLI="$build/confab-cli"
	for _ in $(seq 100); do
		"$CLI" -P "$ESL_PORT" -q -t 1000 -x status >/dev/null 2>&1 && return 0
		kill -0 "$CONFAB_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "confabd did not start; see $dir/confab.log" >&2
	return 1
}

bench_stop() {
	[ -n "${CONFAB_PID:-}" ] || return 0
	kill "$CONFAB_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$CONFAB_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$CONFAB_PID" 2>/dev/null || true
	wait "$CONFAB_PID" 2>/dev/null || true
	CONFAB_PID=
}

bench_api() {
	"$CLI" -P "$ESL_PORT" -q -t "${BENCH_API_TIMEOUT:-10000}" -x "$*"
}

# utime+stime of a process, in clock ticks.
bench_cpu_ticks() {
	awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}

bench_rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

bench_threads() {
	awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# "busy total" jiffies of the whole machine, from /proc/stat.
bench_machine() {
	awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat
}

# Percent of one core used between two tick readings over SECONDS.
bench_pct() {
	awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.1f", 100 * (b - a) / hz / s}'
}

# Whole-machine busy percent (of all cores) between two bench_machine readings.
bench_machine_pct() {
	echo "$1 $2" | awk '{printf "%.1f", (($4 - $2) > 0 ? 100 * ($3 - $1) / ($4 - $2) : 0)}'
}

bench_now() {
	date +%s.%N
}

# The descendant of PID whose command is NAME (the program that `timeout`
# runs), or PID itself.
bench_desc() {
	local todo c p
	for _ in $(seq 50); do
		todo=$1
		while [ -n "$todo" ]; do
			p=${todo%% *}
			[ "$todo" = "$p" ] && todo= || todo=${todo#* }
			if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]; then
				echo "$p"
				return
			fi
			c=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
			[ -n "${c// /}" ] && todo="$todo ${c% }"
			todo=${todo# }
		done
		sleep 0.05
	done
	echo "$1"
}

# Wait (up to MAX seconds, default 60) for the machine to be under 15 % busy over
# two seconds, so that other work does not land in the figures; print how busy
# it was at the start.
bench_wait_quiet() {
	local max=${1:-60} a b pct=100
	for _ in $(seq $((max / 2))); do
		a=$(bench_machine)
		sleep 2
		b=$(bench_machine)
		pct=$(bench_machine_pct "$a" "$b")
		awk -v p="$pct" 'BEGIN {exit !(p < 15)}' && break
	done
	echo "machine_busy_before_pct $pct"
}
