#!/usr/bin/env bash
# Measures what one text-to-speech request costs confab: the espeak-ng program
# started as confabd starts it (voice, rate, text on stdin, WAV file out), run
# one at a time and then eight at once. Prints ms per synthesis, one figure a
# line. Usage: bench/tts_synth.sh [runs]
set -euo pipefail
runs=${1:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
text="Please enter the conference number, followed by the pound key."
synth() { echo "$text" | espeak-ng -v en-us -s 160 -w "$tmp/$1.wav"; }

echo "# tts_synth: $(nproc) cores, $(uname -r), espeak-ng $(espeak-ng --version | awk '{print $4}'), $runs runs"
t0=$(date +%s%N)
for i in $(seq "$runs"); do synth "$i"; done
t1=$(date +%s%N)
echo "sequential_ms_per_synthesis $(( (t1 - t0) / runs / 1000000 ))"
t0=$(date +%s%N)
for i in $(seq "$runs"); do
	for j in $(seq 8); do synth "$i-$j" & done
	wait
done
t1=$(date +%s%N)
echo "eight_parallel_ms_per_synthesis $(( (t1 - t0) / runs / 8 / 1000000 ))"
echo "speech_seconds_per_synthesis $(soxi -D "$tmp/1.wav")"
