#!/usr/bin/env bash
# Build first: cargo build --release. Instruction profile (valgrind --tool=callgrind; perf is not
# available in this container) of `motcua serve` on SQLite under wrk: public lookups (MODE=lookup)
# or receipts (MODE=receipt), C connections for D seconds. Then: callgrind_annotate --inclusive=yes $OUT.$MODE.out
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/motcua}; MODE=${MODE:-lookup}; OUT=${OUT:-/tmp/motcua-callgrind}
W=$(mktemp -d); cd $W
export MOTCUA_CONFIG_DIR=$ROOT/config MOTCUA_ENV=load MOTCUA__DATABASE__URL=sqlite://$W/p.db \
  MOTCUA__SERVER__PORT=18777 MOTCUA__SERVER__WORKERS=2 MOTCUA__AUTH__JWT_SECRET=load-secret-load-secret-load-secret-load! \
  MOTCUA__CALENDAR__DATA_DIR=$ROOT/config/calendars MOTCUA__STORAGE__DIR=$W/files MOTCUA__PUBLIC__LOOKUP_PER_MINUTE=1000000000
$BIN demo --with-published-passwords >/dev/null 2>&1
$BIN serve > serve1.log 2>&1 & P=$!; sleep 2
B=http://127.0.0.1:18777/api/v1
TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"clerk","password":"motcua-clerk"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
BODY='{"procedure_code":"1.009662","channel":"direct","applicant":{"kind":"organisation","name":"Công ty Tải Thử","id_number":"0100000001"},"components":[{"item_code":"TP01","kind":"original"},{"item_code":"TP02","kind":"original"}]}'
: > pairs
for i in $(seq 100); do curl -s $B/dossiers -H "authorization: Bearer $TOK" -H 'content-type: application/json' -d "$BODY" | python3 -c 'import sys,json;d=json.load(sys.stdin);print(d["code"],d["lookup_key"])' >> pairs; done
kill $P; wait $P 2>/dev/null || true
python3 - "$TOK" "$BODY" <<'PY' > script.lua
import sys
tok, body = sys.argv[1], sys.argv[2]
pairs = [l.split() for l in open("pairs")]
print("local reqs = {")
for c,k in pairs: print('  "GET /api/v1/public/lookup?code=%s&key=%s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",' % (c,k))
print("}")
print('lookup = function() return reqs[math.random(#reqs)] end')
# wrk.format at the top level has no Host header yet (it is set after the script loads): 400s.
print('receipt = "POST /api/v1/dossiers HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nAuthorization: Bearer %s\\r\\nContent-Length: %d\\r\\n\\r\\n" .. %r' % (tok, len(body.encode()), body))
PY
if [ "$MODE" = lookup ]; then echo 'request = lookup' >> script.lua; else echo 'request = function() return receipt end' >> script.lua; fi
valgrind --tool=callgrind --callgrind-out-file=$OUT.$MODE.out $BIN serve > serve2.log 2>&1 & P=$!
sleep 15
wrk -t1 -c${C:-16} -d${D:-30}s -s script.lua http://127.0.0.1:18777 | grep -E "Requests/sec|requests in|Non-2xx"
kill -INT $P; wait $P 2>/dev/null || true
grep -c "" serve2.log >/dev/null; ls -la $OUT.$MODE.out*
