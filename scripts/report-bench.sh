#!/usr/bin/env bash
# Build first: cargo build --release. Biểu 06 and the 766 indicators over 1,000,000 generated
# dossiers, SQLite and PostgreSQL, release build; then every identity of Biểu 06 checked on the
# same data under each of the four combinations of reports.withdrawn_counts_as_resolved and
# reports.judge_against.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/motcua}
N=${N:-1000000}
# BENCH_DIR, BENCH_DB and BENCH_PORT keep two runs on one machine apart.
W=${BENCH_DIR:-/tmp/rep1m}; DB=${BENCH_DB:-motcua_bench1m}; PORT=${BENCH_PORT:-18484}; rm -rf $W; mkdir -p $W; cd $W
export MOTCUA_CONFIG_DIR=$ROOT/config MOTCUA_ENV=dev RUST_LOG=warn MOTCUA__SERVER__WORKERS=2
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $1" "$2"; done | median; }
B=http://127.0.0.1:$PORT/api/v1
start_server() {
  $BIN serve > serve-$1.log 2>&1 & PID=$!
  for i in $(seq 1 50); do curl -s -o /dev/null $B/../readyz && break; sleep 0.2; done
  TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"viewer","password":"motcua-viewer"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
}
stop_server() { kill $PID; wait $PID 2>/dev/null; }
# Every row and the total: received = resolved + stopped + in progress, each total the sum of
# its parts, and the rows add up to the total row.
identities() {
  local failed=0
  for g in none field procedure unit; do
    for p in "from=2025-01-01&to=2025-12-31" "period=2025-M03" "period=2025-H1&cutoff=nd09" "from=2025-12-15&to=2026-01-31"; do
      curl -s -H "authorization: Bearer $TOK" "$B/reports/bieu-06?$p&group_by=$g" | python3 -c '
import sys, json
r = json.load(sys.stdin)
def ok(x):
    rc, rs, st, ip = x["received"], x["resolved"], x["stopped"], x["in_progress"]
    return (rc["total"] == rc["online"] + rc["direct_postal"] + rc["carried_over"]
        and rc["total"] == rs["total"] + st["total"] + ip["total"]
        and rs["total"] == rs["early"] + rs["on_time"] + rs["late"] and rs["withdrawn"] <= rs["total"]
        and st["total"] == st["withdrawn"] + st["other"] and ip["total"] == ip["within"] + ip["overdue"])
def flat(x):
    return [x[g][k] for g in ("received", "resolved", "stopped", "in_progress") for k in sorted(x[g])]
bad = [x["key"] for x in r["rows"] + [r["total"]] if not ok(x)]
sums = [sum(c) for c in zip(*[flat(x) for x in r["rows"]])] if r["rows"] else [0] * len(flat(r["total"]))
if bad or sums != flat(r["total"]):
    print("IDENTITY FAILED", sys.argv[1], bad, sums, flat(r["total"])); sys.exit(1)
' "$g $p" || failed=1
    done
  done
  echo "$1: identities $( [ $failed = 0 ] && echo hold || echo FAIL ) (4 groupings × 4 periods, every row and the total; total row ${2:-})"
}
run_backend() {
  local name=$1 url=$2
  export MOTCUA__DATABASE__URL=$url MOTCUA__SERVER__PORT=$PORT
  echo "== $name: generating $N dossiers"
  /usr/bin/time -f "%e s, peak RSS %M kB" $BIN demo --dossiers $N --year 2025 2>&1 | tail -2
  [ "$name" = postgres ] && psql -q -U postgres -h 127.0.0.1 $DB -c "ANALYZE"
  start_server $name
  for g in none field procedure unit; do
    echo "$name bieu-06 year 2025 group_by=$g: median of 5 $(timeit $TOK "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=$g") s"
  done
  echo "$name bieu-06 March 2025 group_by=procedure: $(timeit $TOK "$B/reports/bieu-06?period=2025-M03&group_by=procedure") s"
  echo "$name indicators year 2025: $(timeit $TOK "$B/reports/indicators?from=2025-01-01&to=2025-12-31") s"
  echo "$name bieu-06 xlsx year by procedure: $(timeit $TOK "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=procedure&format=xlsx") s"
  echo "$name bieu-06 csv year by procedure: $(timeit $TOK "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=procedure&format=csv") s"
  echo "$name bieu-06 html page (table + chart by month) year by field: $(timeit $TOK "$B/reports/bieu-06?period=2025&group_by=field&format=html") s"
  curl -s -H "authorization: Bearer $TOK" "$B/reports/bieu-06?from=2025-01-01&to=2025-12-31" | python3 -c 'import sys,json;t=json.load(sys.stdin)["total"];print("total row:", t["received"], t["resolved"], t["stopped"], t["in_progress"], t["on_time_rate"])'
  stop_server
  for w in false true; do
    for j in due_at due_at_current; do
      MOTCUA__REPORTS__WITHDRAWN_COUNTS_AS_RESOLVED=$w MOTCUA__REPORTS__JUDGE_AGAINST=$j start_server $name-$w-$j
      total=$(curl -s -H "authorization: Bearer $TOK" "$B/reports/bieu-06?period=2025" | python3 -c 'import sys,json;t=json.load(sys.stdin)["total"];print(t["resolved"]["total"], t["stopped"]["total"], t["in_progress"]["overdue"], t["on_time_rate"])')
      identities "$name withdrawn_counts_as_resolved=$w judge_against=$j" "(resolved, stopped, overdue, rate for 2025: $total)"
      stop_server
    done
  done
}
# The Biểu 06 statement for the year by field (due_at), with literal values: what the report
# runs, in the database's own client.
HAND="SELECT CAST(field AS TEXT), SUM(CASE WHEN received_day >= 20089 AND channel = 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN received_day >= 20089 AND channel <> 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN received_day < 20089 THEN 1 ELSE 0 END),
 SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND timeliness = 'early' THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND (timeliness IS NULL OR timeliness NOT IN ('early', 'late')) THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state <> 'stopped' AND timeliness = 'late' THEN 1 ELSE 0 END),
 SUM(CASE WHEN finished_day <= 20453 AND state = 'stopped' AND state_before_withdrawal IS NOT NULL AND timeliness = 'early' THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state = 'stopped' AND state_before_withdrawal IS NOT NULL AND (timeliness IS NULL OR timeliness NOT IN ('early', 'late')) THEN 1 ELSE 0 END), SUM(CASE WHEN finished_day <= 20453 AND state = 'stopped' AND state_before_withdrawal IS NOT NULL AND timeliness = 'late' THEN 1 ELSE 0 END),
 SUM(CASE WHEN finished_day <= 20453 AND state = 'stopped' AND state_before_withdrawal IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN (finished_day IS NULL OR finished_day > 20453) THEN 1 ELSE 0 END), SUM(CASE WHEN (finished_day IS NULL OR finished_day > 20453) AND due_day <= 20453 AND (held_day IS NULL OR held_day > 20453) THEN 1 ELSE 0 END)
 FROM dossiers WHERE received_day <= 20453 AND (finished_day IS NULL OR finished_day >= 20089) GROUP BY 1 ORDER BY 1"
run_backend sqlite "sqlite://$W/data/motcua.db"
python3 - "$W/data/motcua.db" "$HAND" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); q = sys.argv[2]
ts = []
for _ in range(5):
    t = time.perf_counter(); c.execute(q).fetchall(); ts.append(time.perf_counter() - t)
print(f"sqlite the same aggregate run by hand, field grouping (python sqlite3 {sqlite3.sqlite_version}): median of 5 {sorted(ts)[2]:.3f} s")
PY
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" postgres
run_backend postgres "postgres://postgres@127.0.0.1:5432/$DB"
for i in 1 2 3 4 5; do psql -U postgres -h 127.0.0.1 $DB -c '\timing on' -c "$HAND" | grep Time | awk '{print $2/1000}'; done | sort -n | awk '{a[NR]=$1} END {print "postgres the same aggregate run by hand (psql), field grouping: median of 5 " a[3] " s"}'
psql -q -U postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS $DB" postgres
