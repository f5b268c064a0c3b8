#!/usr/bin/env bash
# Build first: cargo build --release. The release `motcua serve`, configured by environment
# only (default poll interval), with an SMTP server on loopback (a small Python one below):
# N receipts with an applicant email, one at a time, each timed from the POST until its email
# has arrived. SQLite in a temporary folder, or PostgreSQL with
# DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres (a scratch database is made and dropped).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/motcua}
N=${N:-20}
W=$(mktemp -d); cd "$W"
PORT=${PORT:-18383}; SMTP_PORT=${SMTP_PORT:-18384}
cat > sink.py <<'EOF'
import socket, sys, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(64)
out = open(sys.argv[2], "a", buffering=1)
def serve(c):
    f = c.makefile("rb"); c.sendall(b"220 sink\r\n")
    while True:
        line = f.readline()
        if not line: return
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"): c.sendall(b"250-sink\r\n250 8BITMIME\r\n")
        elif cmd.startswith(b"DATA"):
            c.sendall(b"354 go\r\n")
            while f.readline() not in (b".\r\n", b".\n", b""): pass
            out.write(f"{time.time()}\n"); c.sendall(b"250 queued\r\n")
        elif cmd.startswith(b"QUIT"): c.sendall(b"221 bye\r\n"); return
        else: c.sendall(b"250 OK\r\n")
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 sink.py $SMTP_PORT arrivals.txt & SINK=$!
if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
  DB=motcua_email_$$; psql -q "$DATABASE_ADMIN_URL" -c "CREATE DATABASE $DB"
  export MOTCUA__DATABASE__URL=${DATABASE_ADMIN_URL%/*}/$DB
  drop() { psql -q "$DATABASE_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; }
else
  drop() { :; }
fi
export MOTCUA_CONFIG_DIR=$ROOT/config RUST_LOG=warn MOTCUA__SERVER__PORT=$PORT \
  MOTCUA__AUTH__JWT_SECRET=email-latency-secret-email-latency-secret \
  MOTCUA__BOOTSTRAP__ADMIN_PASSWORD=admin-password-1 MOTCUA__SMTP__URL=smtp://127.0.0.1:$SMTP_PORT \
  MOTCUA__CALENDAR__DATA_DIR=$ROOT/config/calendars
$BIN serve > serve.log 2>&1 & PID=$!
trap 'kill $PID $SINK 2>/dev/null; wait $PID 2>/dev/null; drop; rm -rf "$W"' EXIT
B=http://127.0.0.1:$PORT/api/v1
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz && break; sleep 0.1; done
curl -s http://127.0.0.1:$PORT/readyz | jq -c '{mail, outbox: .jobs.outbox.running, database: .database.detail}'
TOK=$(curl -s $B/auth/login -H 'content-type: application/json' -d '{"username":"admin","password":"admin-password-1"}' | jq -r .access_token)
curl -s -o /dev/null $B/units -H "authorization: Bearer $TOK" -H 'content-type: application/json' -d '{"code":"U1","name":"Phòng 1"}'
curl -s -o /dev/null $B/procedures -H "authorization: Bearer $TOK" -H 'content-type: application/json' -d '{"code":"P1","name":"Thủ tục","field":"Đầu tư","unit_code":"U1","duration":{"value":5,"unit":"working_days"},"fee_vnd":0,"online_level":"full","paper_result":true,"issues_appointment":true,"supplement_policy":"pause","max_supplement_requests":1,"checklist":[{"code":"TP01","name":"Đơn","required":true,"originals":1,"copies":0,"must_digitise":false}],"steps":[{"code":"B1","name":"Xử lý","unit_code":"U1","role":"officer","allowance":{"value":5,"unit":"working_days"}}]}'
: > waits.txt
for i in $(seq $N); do
  # A random pause, so that receipts do not fall in step with the worker's polls.
  sleep "$(python3 -c 'import random; print(random.random())')"
  before=$(wc -l < arrivals.txt)
  s=$(date +%s.%N)
  curl -sf -o /dev/null $B/dossiers -H "authorization: Bearer $TOK" -H 'content-type: application/json' -d '{"procedure_code":"P1","channel":"direct","applicant":{"kind":"citizen","name":"Nguyễn Văn A","email":"a@example.com"},"components":[{"item_code":"TP01","kind":"original"}]}'
  for _ in $(seq 1000); do [ "$(wc -l < arrivals.txt)" -gt "$before" ] && break; sleep 0.01; done
  [ "$(wc -l < arrivals.txt)" -gt "$before" ] || { echo "no email within 10 s" >&2; exit 1; }
  a=$(tail -1 arrivals.txt)
  python3 -c "print($a - $s)" >> waits.txt
done
sort -n waits.txt | python3 -c '
import sys
w = [float(x) for x in sys.stdin]
print(f"receipt → email arrived, {len(w)} receipts: min {w[0]:.2f} s, median {w[len(w)//2]:.2f} s, max {w[-1]:.2f} s")'
