#!/usr/bin/env bash
# Renders every printable form with headless Chromium into docs/forms/*.png.
#
#   cargo build && scripts/form-screenshots.sh [path/to/motcua]
#
# Starts `motcua serve` on a throwaway SQLite database, drives dossiers through the API
# (a live one under Nghị định 118/2025: TT 03/2025 numbering, and a 2024 paper dossier
# back-entered by an admin: TT 01/2018 numbering), saves each form's HTML and screenshots it:
#   chromium --headless --screenshot=docs/forms/NAME.png --window-size=900,1400 NAME.html
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/target/debug/motcua}"
out="$root/docs/forms"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export MOTCUA_ENV=dev MOTCUA_CONFIG_DIR="$root/config" MOTCUA__SERVER__PORT="$port" \
  MOTCUA__DATABASE__URL="sqlite://$work/motcua.db" MOTCUA__STORAGE__DIR="$work/files" \
  MOTCUA__CALENDAR__DATA_DIR="$root/config/calendars" MOTCUA__BOOTSTRAP__ADMIN_PASSWORD=admin-password-1 \
  MOTCUA__AGENCY__NAME="Ban Quản lý các khu công nghiệp tỉnh Hòa Bình" RUST_LOG=warn
"$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

api() { # METHOD PATH TOKEN [JSON]
  curl -sS --fail-with-body -X "$1" "$base$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
login() { curl -fsS "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"$2\"}" | jq -r .access_token; }
admin=$(login admin admin-password-1)
api POST /api/v1/units "$admin" '{"code":"QLDT","name":"Phòng Quản lý Đầu tư","email":"qldt@example.gov.vn"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
user() { api POST /api/v1/users "$admin" "{\"username\":\"$1\",\"password\":\"$1-password-1\",\"full_name\":\"$2\",\"role\":\"$3\",\"unit_code\":$4}" >/dev/null; login "$1" "$1-password-1"; }
clerk=$(user tiepnhan "Nguyễn Thị Hồng Nhung" clerk null)
officer=$(user chuyenvien "Lê Văn Thành" officer '"QLDT"')
leader=$(user truongphong "Phạm Quang Minh" leader '"QLDT"')
api POST /api/v1/procedures "$admin" '{"code":"1.009645","name":"Điều chỉnh Giấy chứng nhận đăng ký đầu tư","field":"Đầu tư","unit_code":"QLDT",
 "duration":{"value":15,"unit":"working_days"},"online_duration":{"value":10,"unit":"working_days"},"online_level":"partial","supplement_policy":"pause",
 "checklist":[{"code":"TP01","name":"Văn bản đề nghị điều chỉnh dự án đầu tư","required":true,"originals":1},
              {"code":"TP02","name":"Báo cáo tình hình thực hiện dự án","required":true,"originals":1},
              {"code":"TP03","name":"Bản sao giấy tờ pháp lý của nhà đầu tư","required":true,"copies":1}],
 "steps":[{"code":"B1","name":"Thẩm định hồ sơ","unit_code":"QLDT","role":"officer","allowance":{"value":7,"unit":"working_days"}},
          {"code":"B2","name":"Phê duyệt","unit_code":"QLDT","role":"leader","allowance":{"value":3,"unit":"working_days"}}]}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
body='{"procedure_code":"1.009645","channel":"direct","applicant":{"kind":"organisation","name":"Công ty TNHH Sản xuất Giấy Lương Sơn","id_number":"5400123456","phone":"0218 3856 123","email":"giayls@example.com","address":"Lô C2, KCN Lương Sơn, tỉnh Hòa Bình"},
 "components":[{"item_code":"TP01","kind":"original"},{"item_code":"TP02","kind":"original"},{"item_code":"TP03","kind":"certified_copy"}]'
save() { api GET "/api/v1/dossiers/$1/forms/$2${4:-}" "$clerk" >"$work/$3.html"; }

# Live (nd118_2025): receipt, supplement request, apology, rejection, control slip.
live=$(api POST /api/v1/dossiers "$clerk" "$body}")
code=$(jq -r .code <<<"$live"); key=$(jq -r .lookup_key <<<"$live")
save "$code" 01 01-receipt "?key=$key"
api POST "/api/v1/dossiers/$code/actions/transfer" "$clerk" '{}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$code/actions/request_supplement" "$officer" '{"reasons":["Báo cáo chưa có số liệu vốn đầu tư đã giải ngân"],"items":["TP02"]}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$code" 02 02-supplement
api POST "/api/v1/dossiers/$code/actions/apologize" "$leader" "{\"reasons\":\"Chờ ý kiến thẩm định của Sở Xây dựng\",\"new_due_at\":\"$(date -d '+30 days' +%Y-%m-%dT09:00:00+07:00)\"}" >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$code" 04 04-apology
api POST "/api/v1/dossiers/$code/actions/supplement_received" "$clerk" '{}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$code/actions/forward" "$officer" '{"note":"Đủ điều kiện trình lãnh đạo"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$code/actions/reject" "$leader" '{"reasons":["Nội dung điều chỉnh không phù hợp quy hoạch phân khu"]}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$code" 03 03-rejection
api POST "/api/v1/dossiers/$code/actions/deliver" "$clerk" '{"method":"counter"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$code" 06 06-control-slip-tt03-2025
# A stop after a withdrawal request: TT 03/2025 form 05.
stop=$(api POST /api/v1/dossiers "$clerk" "$body}" | jq -r .code)
api POST "/api/v1/dossiers/$stop/actions/request_withdrawal" "$clerk" '{"note":"Đơn xin rút hồ sơ"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$stop/actions/stop" "$leader" '{"reasons":["Nhà đầu tư đề nghị rút hồ sơ"]}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$stop" 05 05-stop-notice-tt03-2025
# A 2024 paper dossier back-entered by an admin (nd61_2018): dated 2024, TT 01/2018 form 05.
paper=$(api POST /api/v1/dossiers "$admin" "$body, \"received_at\": \"2024-06-12T14:00:00+07:00\"}" | jq -r .code)
api POST "/api/v1/dossiers/$paper/actions/transfer" "$admin" '{"occurred_at":"2024-06-12T15:30:00+07:00"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$paper/actions/forward" "$admin" '{"occurred_at":"2024-06-19T10:00:00+07:00"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
api POST "/api/v1/dossiers/$paper/actions/approve" "$admin" '{"occurred_at":"2024-06-24T16:00:00+07:00","result_reference":"125/QĐ-BQL"}' >/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
save "$paper" 01 01-receipt-2024-back-entry
save "$paper" 05 05-control-slip-tt01-2018
# Refusal at the counter.
refused=$(api POST /api/v1/dossiers "$clerk" "$body, \"refused_reasons\": [\"Thủ tục không thuộc thẩm quyền giải quyết của Ban Quản lý\"]}" | jq -r .code)
save "$refused" 03 03-refusal-at-counter

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
for html in "$work"/*.html; do
  name=$(basename "$html" .html)
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --screenshot="$out/$name.png" --window-size=900,1400 "file://$html" 2>/dev/null || { echo "failed: $BASH_COMMAND" >&2; exit 1; }
  echo "docs/forms/$name.png"
done
