#!/bin/bash
# User-space instructions per passthrough request, counted by callgrind (issue 17): deterministic
# enough to compare builds on a machine too loaded for CPU-time figures. The gateway runs under
# valgrind with instrumentation off; after the warm-up it is switched on for the measured requests
# only. Threads are counted apart: the main thread's count leaves out V8's concurrent compiler and
# marker, whose work per request swings with JIT timing.
#
#   bench/callgrind-passthrough.sh <dir with a built dist/> <label> [warm-up requests] [measured]
#
# A/B: copy each build's dist/ aside (a rebuild changes the code under test), run the builds side
# by side or in turns, several rounds, and compare medians. Traffic only to 127.0.0.1.
set -e
root=$(cd "$1" && pwd); label=$2; warm=${3:-3000}; n=${4:-1500}
w=${TMPDIR:-/tmp}/callgrind-$label; rm -rf "$w"; mkdir -p "$w"
cd "$root"
node dist/bench/upstream.js > "$w/up.txt" 2>&1 & up=$!
for _ in $(seq 50); do grep -q LISTENING "$w/up.txt" && break; sleep 0.2; done
upport=$(awk '/LISTENING/{print $2}' "$w/up.txt")
port=$((20000 + RANDOM % 20000))
node -e "import('$root/dist/bench/passthrough-config.js').then((m) => process.stdout.write(m.passthroughConfig($port, 'http://127.0.0.1:$upport')))" > "$w/gw.yaml"
valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$w/cg.out" \
  node dist/src/main.js serve --config "$w/gw.yaml" > "$w/access.log" 2> "$w/valgrind.txt" & gw=$!
trap 'kill $gw $up 2>/dev/null || true' EXIT
# valgrind starts node in minutes, not seconds: bounded at 5 minutes
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
ac=$root/node_modules/.bin/autocannon
url="http://127.0.0.1:$port/api/v1/orders?limit=10&status=open"
headers=(-H 'user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' -H 'accept=application/json')
"$ac" -c 10 -a "$warm" "${headers[@]}" "$url" > /dev/null 2>&1
callgrind_control -i on $gw> /dev/null 2>&1
"$ac" -c 10 -a "$n" "${headers[@]}" "$url" > "$w/autocannon.txt" 2>&1
callgrind_control -i off $gw> /dev/null 2>&1
callgrind_control -d $gw> /dev/null 2>&1
sleep 1
all=$(cat "$w"/cg.out* | awk '/^totals:/{s+=$2} END{print s}')
main=$(cat "$w"/cg.out*-01 | awk '/^totals:/{s+=$2} END{print s}')
awk -v l="$label" -v m="$main" -v a="$all" -v n="$n" -v wu="$warm" 'BEGIN{printf "%s: main thread %.0f, all threads %.0f instructions per request (%d requests after %d of warm-up)\n", l, m / n, a / n, n, wu}'
