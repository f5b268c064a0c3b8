#!/usr/bin/env bash
# Property-based fuzz of the whole API from its own OpenAPI document with schemathesis (PyPI,
# pinned, in a virtual environment under target/), against `motcua serve` on a temporary SQLite
# database: once with an admin token, once with none. Bounded by FUZZ_SECONDS per run.
# Exit status: non-zero when schemathesis reports any failure.
#   scripts/fuzz.sh            (from the repository root; builds the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
FUZZ_SECONDS=${FUZZ_SECONDS:-90}
ROOT=$PWD
VENV=$ROOT/target/fuzz/venv
OUT=$ROOT/target/fuzz

mkdir -p "$OUT"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet --bin motcua
BIN=$PWD/target/debug/motcua

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
export MOTCUA_CONFIG_DIR=$PWD/config MOTCUA_ENV=test RUST_LOG=warn
export MOTCUA__DATABASE__URL=sqlite://$WORK/motcua.db MOTCUA__STORAGE__DIR=$WORK/files
export MOTCUA__CALENDAR__DATA_DIR=$PWD/config/calendars MOTCUA__SERVER__PORT=$PORT
export MOTCUA__AUTH__JWT_SECRET=fuzz-secret-fuzz-secret-fuzz-secret-0123
export MOTCUA__BOOTSTRAP__ADMIN_PASSWORD=fuzz-bootstrap-password
# The fuzzer is one client sending thousands of requests: lift the per-address limits so that
# it explores the API instead of the 429 answers (the throttles have their own tests).
export MOTCUA__PUBLIC__LOOKUP_PER_MINUTE=100000 MOTCUA__AUTH__LOGIN_FAILURES_PER_WINDOW=100000
"$BIN" serve 2> "$OUT/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" > /dev/null && break; sleep 0.2; done

login() {
  curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# The fuzzer's own admin, with a name it will not guess: it may demote or disable "admin" and
# anyone else, but not itself; it cannot change its own password without knowing it.
FUZZ_USER=fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(8))')
FUZZ_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
BOOT=$(login admin fuzz-bootstrap-password)
curl -sf "$BASE/api/v1/users" -H "authorization: Bearer $BOOT" -H 'content-type: application/json' \
  -d "{\"username\":\"$FUZZ_USER\",\"password\":\"$FUZZ_PASSWORD\",\"full_name\":\"fuzz\",\"role\":\"admin\"}" > /dev/null
TOKEN=$(login "$FUZZ_USER" "$FUZZ_PASSWORD")

run() {
  local name=$1; shift
  # From target/fuzz, so that schemathesis keeps its caches there.
  (cd "$OUT" && "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" run \
    "$BASE/api/v1/openapi.json" --checks all --max-time "$FUZZ_SECONDS" --seed 10 --workers 2 \
    --no-color --report junit --report-junit-path "$OUT/$name.xml" "$@" > "$OUT/$name.txt" 2>&1)
}
# Operations that change the caller's own account run in their own short run, with an admin of
# their own: revoking that token (by demoting or disabling itself) cannot blind the main run.
SELF_USER=fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(8))')
curl -sf "$BASE/api/v1/users" -H "authorization: Bearer $BOOT" -H 'content-type: application/json' \
  -d "{\"username\":\"$SELF_USER\",\"password\":\"$FUZZ_PASSWORD\",\"full_name\":\"fuzz\",\"role\":\"admin\"}" > /dev/null
SELF_TOKEN=$(login "$SELF_USER" "$FUZZ_PASSWORD")
status=0
# The console's pages (/console, HTML for browsers, with its own session and CSRF tests in
# tests/api/console.rs) are left out: this fuzzes the API.
run admin -H "Authorization: Bearer $TOKEN" --exclude-path-regex '^/console' \
  --exclude-operation-id update_user --exclude-operation-id change_password || status=1
run anonymous --exclude-path-regex '^/console' || status=1
FUZZ_SECONDS=$(( FUZZ_SECONDS / 4 + 1 )) run self -H "Authorization: Bearer $SELF_TOKEN" \
  --include-operation-id update_user --include-operation-id change_password || status=1
for name in admin anonymous self; do
  echo "== fuzz ($name): $OUT/$name.txt"
  # The summary: operations, test cases, failures.
  sed -n '/SUMMARY/,$p' "$OUT/$name.txt"
done
if grep -q "panicked\|internal error" "$OUT/serve.log"; then
  echo "== server log has errors:"; grep -m 20 "panicked\|internal error" "$OUT/serve.log"; status=1
fi
exit $status
