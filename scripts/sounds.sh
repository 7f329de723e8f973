#!/usr/bin/env bash
# Generates confab's spoken prompts with espeak-ng and sox (both installed by
# scripts/deps.sh): 8 kHz mono 16-bit WAV files in FreeSWITCH's layout and under
# FreeSWITCH's names, so dialplans written for FreeSWITCH's sound packs find them:
#   <dir>/en/us/confab/conference/8000/conf-alone.wav
# <dir> defaults to the repository's sounds/ (the sounds_dir of conf/), and
# conf/vars.xml points sound_prefix at <dir>/en/us/confab. Idempotent: a prompt
# newer than this script is kept. Nothing generated here is committed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/sounds}/en/us/confab
voice=${CONFAB_VOICE:-en-us}

for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "sounds: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done

# name|text, one prompt a line
prompts=$(cat <<'EOF'
conference/conf-alone|You are currently the only person in this conference.
conference/conf-pin|Please enter the conference pin number, followed by the pound key.
conference/conf-bad-pin|That pin is not valid.
conference/conf-enter_conf_number|Please enter the conference number, followed by the pound key.
conference/conf-enter_conf_pin|Please enter your pin, followed by the pound key.
conference/conf-muted|You are now muted.
conference/conf-unmuted|You are no longer muted.
conference/conf-locked|This conference is locked.
conference/conf-is-locked|The conference is now locked.
conference/conf-is-unlocked|The conference is now unlocked.
conference/conf-kicked|You have been removed from the conference.
conference/conf-goodbye|Goodbye.
conference/conf-has_joined|has joined the conference.
conference/conf-has_left|has left the conference.
conference/conf-members_in_conference|There are
conference/conf-welcome|Welcome to the conference.
ivr/ivr-please_enter_pin_followed_by_pound|Please enter your pin, followed by the pound key.
ivr/ivr-please_enter_extension_followed_by_pound|Please enter the extension, followed by the pound key.
ivr/ivr-please_enter_the_number_followed_by_pound|Please enter the number, followed by the pound key.
ivr/ivr-that_was_an_invalid_entry|That was an invalid entry.
ivr/ivr-invalid_number_format|Invalid.
ivr/ivr-thank_you|Thank you.
ivr/ivr-one_moment_please|One moment please.
ivr/ivr-call_cannot_be_completed_as_dialed|Your call cannot be completed as dialed.
voicemail/vm-goodbye|Goodbye.
EOF
)

# The say engine's words (FreeSWITCH's sound-pack names): digits, ordinals,
# money, time and letters.
ones=(zero one two three four five six seven eight nine ten eleven twelve thirteen
      fourteen fifteen sixteen seventeen eighteen nineteen)
nth=("" first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
     thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth)
tens=("" "" twenty thirty forty fifty sixty seventy eighty ninety)
tenth=("" "" twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth)
days=(Sunday Monday Tuesday Wednesday Thursday Friday Saturday)
months=(January February March April May June July August September October November
        December)
nato=(alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike
      november oscar papa quebec romeo sierra tango uniform victor whiskey x-ray yankee zulu)
letters=abcdefghijklmnopqrstuvwxyz
words=""
for i in $(seq 0 19); do words+="digits/$i|${ones[$i]}"$'\n'; done
for i in $(seq 1 19); do words+="digits/h-$i|${nth[$i]}"$'\n'; done
for i in $(seq 2 9); do
	words+="digits/${i}0|${tens[$i]}"$'\n'"digits/h-${i}0|${tenth[$i]}"$'\n'
done
for w in hundred thousand million billion; do
	words+="digits/$w|$w"$'\n'"digits/h-$w|${w}th"$'\n'
done
words+="digits/dot|dot"$'\n'"digits/oh|oh"$'\n'
for w in dollar dollars cent cents and negative; do words+="currency/$w|$w"$'\n'; done
for w in hour hours minute minutes second seconds; do words+="time/$w|$w"$'\n'; done
words+="time/a-m|A M"$'\n'"time/p-m|P M"$'\n'
for i in $(seq 0 6); do words+="time/day-$i|${days[$i]}"$'\n'; done
for i in $(seq 0 11); do words+="time/mon-$i|${months[$i]}"$'\n'; done
for i in $(seq 0 25); do
	c=${letters:$i:1}
	code=$(printf '%d' "'$c")
	words+="ascii/$code|$c"$'\n'"phonetic-ascii/$code|${nato[$i]}"$'\n'
done
prompts+=$'\n'"$words"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
made=0
while IFS='|' read -r name text; do
	[ -n "$name" ] || continue
	dir=$out/${name%/*}/8000
	file=$dir/${name##*/}.wav
	[ "$file" -nt "$0" ] && continue
	mkdir -p "$dir"
	espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
	# 8 kHz mono 16-bit, peaks at -3 dBFS, a little silence after the words
	sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$tmp/out.wav" gain -n -3 pad 0 0.2
	mv "$tmp/out.wav" "$file"
	made=$((made + 1))
done <<<"$prompts"
echo "sounds: $made prompts made in $out"
