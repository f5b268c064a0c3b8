#!/usr/bin/env bash
# Build first: cargo build --release. Upload throughput and peak server memory, release build, SQLite, server and curl on this machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/motcua}
W=$(mktemp -d); cd "$W"
export MOTCUA_CONFIG_DIR=$ROOT/config MOTCUA_ENV=dev RUST_LOG=warn MOTCUA__SERVER__PORT=18282 MOTCUA__SERVER__WORKERS=2
$BIN demo > /dev/null 2>&1
$BIN serve > serve.log 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null' EXIT
sleep 1
B=http://127.0.0.1:18282/api/v1
TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"clerk","password":"motcua-clerk"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
mk() { curl -s $B/dossiers -H "authorization: Bearer $TOK" -H 'content-type: application/json' -d '{"procedure_code":"1.009662","channel":"direct","applicant":{"kind":"organisation","name":"Cong ty","id_number":"01"},"components":[{"item_code":"TP01","kind":"original"},{"item_code":"TP02","kind":"original"}]}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["code"])'; }
hwm() { grep VmHWM /proc/$PID/status | awk '{print $2}'; }
rss() { grep VmRSS /proc/$PID/status | awk '{print $2}'; }
echo "idle: VmRSS $(rss) kB, VmHWM $(hwm) kB"
for SIZE_MB in 5 19; do
  for i in $(seq 1 10); do (printf '%%PDF-1.4\n'; head -c $((SIZE_MB*1024*1024 - 9)) /dev/urandom) > f$i.pdf; done
  CODES=(); for i in $(seq 1 10); do CODES+=($(mk)); done
  # one upload alone
  s=$(date +%s.%N)
  curl -s -o /dev/null -w '%{http_code}' $B/dossiers/${CODES[0]}/components/TP01/files -H "authorization: Bearer $TOK" -F "file=@f1.pdf;type=application/pdf" > code1.txt
  e=$(date +%s.%N)
  echo "${SIZE_MB} MB: one upload $(python3 -c "print(f'{$e-$s:.3f} s, {$SIZE_MB/($e-$s):.0f} MB/s')") (HTTP $(cat code1.txt))"
  s=$(date +%s.%N)
  for i in $(seq 2 10); do curl -s -o /dev/null -w '%{http_code}\n' $B/dossiers/${CODES[$((i-1))]}/components/TP01/files -H "authorization: Bearer $TOK" -F "file=@f$i.pdf;type=application/pdf" & done
  curl -s -o /dev/null -w '%{http_code}\n' $B/dossiers/${CODES[0]}/components/TP02/files -H "authorization: Bearer $TOK" -F "file=@f1.pdf;type=application/pdf" &
  wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
  e=$(date +%s.%N)
  echo "${SIZE_MB} MB: 10 concurrent uploads in $(python3 -c "print(f'{$e-$s:.3f} s, {10*$SIZE_MB/($e-$s):.0f} MB/s')"); server VmHWM (peak RSS) $(hwm) kB"
done
ls "$W"/data/files | head -3 >/dev/null
