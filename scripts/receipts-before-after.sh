#!/usr/bin/env bash
# Counter receipts against two builds of motcua, back to back (SQLite FULL, wrk -t2 -c64, D s each):
# BEFORE_AFTER_DIR=/tmp/ab scripts/receipts-before-after.sh, with /tmp/ab/before/motcua and /tmp/ab/after/motcua.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-receipt}; D=${D:-8}
for which in before after; do
  BIN=${BEFORE_AFTER_DIR:?folder with before/motcua and after/motcua}/$which/motcua; W=$(mktemp -d); cd $W
  export MOTCUA_CONFIG_DIR=$ROOT/config MOTCUA_ENV=load MOTCUA__DATABASE__URL=${URL:-sqlite://$W/p.db} \
    MOTCUA__SERVER__PORT=18779 MOTCUA__SERVER__WORKERS=2 MOTCUA__AUTH__JWT_SECRET=load-secret-load-secret-load-secret-load! \
    MOTCUA__CALENDAR__DATA_DIR=$ROOT/config/calendars MOTCUA__STORAGE__DIR=$W/files MOTCUA__PUBLIC__LOOKUP_PER_MINUTE=1000000000
  $BIN demo --with-published-passwords >/dev/null 2>&1
  $BIN serve > serve.log 2>&1 & P=$!; sleep 2
  B=http://127.0.0.1:18779/api/v1
  TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"clerk","password":"motcua-clerk"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  cat > r.lua <<LUA
wrk.method = "POST"
wrk.body = '{"procedure_code":"1.009662","channel":"direct","applicant":{"kind":"organisation","name":"Cong ty","id_number":"0100000001"},"components":[{"item_code":"TP01","kind":"original"},{"item_code":"TP02","kind":"original"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOK"
LUA
  ( while kill -0 $P 2>/dev/null; do grep Threads /proc/$P/status | awk '{print $2}'; sleep 0.5; done | sort -n | tail -1 > thr ) &
  echo "== $which: $(wrk -t2 -c64 -d${D}s --latency -s r.lua $B/dossiers | grep -E 'Requests/sec|50%|99%|Non-2xx' | tr -s ' ' | tr '\n' ' ')"
  M="RSS $(grep VmRSS /proc/$P/status | awk '{print $2/1024 " MB"}'), HWM $(grep VmHWM /proc/$P/status | awk '{print $2/1024 " MB"}')"
  kill $P; wait $P 2>/dev/null; sleep 1
  echo "   peak threads $(cat thr 2>/dev/null), $M"
done
