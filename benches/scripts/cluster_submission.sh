#!/usr/bin/env bash
# Submission latency of the eddy cluster: from the start of `eddy run` to the job being
# RUNNING (the jobmanager's RUNNING timestamp), on a local cluster of one jobmanager and two
# taskmanagers. Two cases, RUNS times each, medians printed:
#   first  - the executable is not on the cluster yet (upload included; deleted between runs)
#   repeat - the executable was uploaded before (content-addressed: not sent again)
# The job is the `wordcount` example on its built-in text at -p 2.
#
#   benches/scripts/cluster_submission.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
cargo build --release -q -p eddy-cluster -p eddy-examples --bin eddy --bin wordcount
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
DIR="$WORK/cluster"
trap '"$BIN/eddy" cluster stop --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$BIN/eddy" cluster start --taskmanagers 2 --port 0 --dir "$DIR" >/dev/null
ADDRESS=$(cat "$DIR/address")
TOKEN=$(cat "$DIR/token")
SHA=$(sha256sum "$BIN/wordcount" | cut -d' ' -f1)
echo "wordcount: $(stat -c %s "$BIN/wordcount") bytes; load: $(cut -d' ' -f1-3 /proc/loadavg)"

latency() { # prints ms from the start of `eddy run` to RUNNING
    local start job
    start=$(date +%s%3N)
    job=$("$BIN/eddy" run -d -p 2 --dir "$DIR" "$BIN/wordcount" | awk '{print $NF}')
    python3 - "$ADDRESS" "$TOKEN" "$job" "$start" <<'PY'
import json, sys, time, urllib.request
address, token, job, start = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(500):
    req = urllib.request.Request(f"{address}/jobs/{job}", headers={"Authorization": f"Bearer {token}"})
    details = json.load(urllib.request.urlopen(req))
    if "RUNNING" in details["timestamps"]:
        print(details["timestamps"]["RUNNING"] - start)
        break
    time.sleep(0.02)
else:
    sys.exit("the job never ran")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for case in first repeat; do
    times=()
    for _ in $(seq "$RUNS"); do
        if [ "$case" = first ]; then
            curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "$ADDRESS/jars/$SHA"
        fi
        times+=("$(latency)")
    done
    echo "$case: runs ${times[*]} ms; median $(printf '%s\n' "${times[@]}" | median) ms"
done
