#!/usr/bin/env bash
# Build first: cargo build --release. Biểu 06 over 1,000,000 generated dossiers, SQLite and PostgreSQL, release build.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/motcua}
N=${N:-1000000}
W=/tmp/rep1m; rm -rf $W; mkdir -p $W; cd $W
export MOTCUA_CONFIG_DIR=$ROOT/config MOTCUA_ENV=dev RUST_LOG=warn MOTCUA__SERVER__WORKERS=2
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $1" "$2"; done | median; }
run_backend() {
  local name=$1 url=$2
  export MOTCUA__DATABASE__URL=$url MOTCUA__SERVER__PORT=18484
  echo "== $name: generating $N dossiers"
  /usr/bin/time -f "%e s, peak RSS %M kB" $BIN demo --dossiers $N --year 2025 2>&1 | tail -2
  [ "$name" = postgres ] && psql -q -U postgres -h 127.0.0.1 motcua_bench1m -c "ANALYZE"
  $BIN serve > serve-$name.log 2>&1 & local PID=$!
  sleep 1.5
  local B=http://127.0.0.1:18484/api/v1
  local TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"viewer","password":"motcua-viewer"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  for g in none field procedure unit; do
    echo "$name bieu-06 year 2025 group_by=$g: median of 5 $(timeit $TOK "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=$g") s"
  done
  echo "$name bieu-06 March 2025 group_by=procedure: $(timeit $TOK "$B/reports/bieu-06?from=2025-03-01&to=2025-03-31&group_by=procedure") s"
  echo "$name indicators year 2025: $(timeit $TOK "$B/reports/indicators?from=2025-01-01&to=2025-12-31") s"
  echo "$name bieu-06 xlsx year by procedure: $(timeit $TOK "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=procedure&format=xlsx") s"
  curl -s -H "authorization: Bearer $TOK" "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31" | python3 -c 'import sys,json;t=json.load(sys.stdin)["total"];print("total row:", t["received"], t["resolved"], t["in_progress"], t["on_time_rate"])'
  kill $PID; wait $PID 2>/dev/null
}
HAND="SELECT CAST(field AS TEXT), SUM(CASE WHEN received_day >= 20089 AND channel = 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN received_day >= 20089 AND channel <> 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN received_day < 20089 THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND timeliness = 'early' THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND timeliness = 'on_time' THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND timeliness = 'late' THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state = 'stopped' THEN 1 ELSE 0 END), SUM(CASE WHEN (finished_day IS NULL OR finished_day > 20453) AND due_day > 20453 THEN 1 ELSE 0 END), SUM(CASE WHEN (finished_day IS NULL OR finished_day > 20453) AND due_day <= 20453 THEN 1 ELSE 0 END) FROM dossiers WHERE received_day <= 20453 AND (finished_day IS NULL OR finished_day >= 20089) GROUP BY 1 ORDER BY 1"
run_backend sqlite "sqlite://$W/data/motcua.db"
python3 - "$W/data/motcua.db" "$HAND" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); q = sys.argv[2]
ts = []
for _ in range(5):
    t = time.perf_counter(); c.execute(q).fetchall(); ts.append(time.perf_counter() - t)
print(f"sqlite the same aggregate run by hand, field grouping (python sqlite3 {sqlite3.sqlite_version}): median of 5 {sorted(ts)[2]:.3f} s")
PY
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS motcua_bench1m" -c "CREATE DATABASE motcua_bench1m" postgres
run_backend postgres "postgres://postgres@127.0.0.1:5432/motcua_bench1m"
for i in 1 2 3 4 5; do psql -U postgres -h 127.0.0.1 motcua_bench1m -c '\timing on' -c "$HAND" | grep Time | awk '{print $2/1000}'; done | sort -n | awk '{a[NR]=$1} END {print "postgres the same aggregate run by hand (psql), field grouping: median of 5 " a[3] " s"}'
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS motcua_bench1m" postgres
