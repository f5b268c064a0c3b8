//! Reports over back-entered dossiers, worked out by hand, and the public lookup.

use actix_web::http::Method;
use chrono::DateTime;
use motcua::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::*;

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Back-enters a dossier received at `received` (local, +07:00) through `channel`.
async fn back_enter(app: &TestApp, procedure: &str, channel: &str, received: &str) -> String {
    let mut body = dossier_body(procedure, channel);
    body["received_at"] = json!(received);
    let r = app
        .post("/api/v1/dossiers", Some(&app.admin_token), &body)
        .await
        .expect(201);
    r.body["code"].as_str().unwrap().to_owned()
}

async fn admin_act(app: &TestApp, code: &str, action: &str, occurred: &str, mut body: Value) {
    body["occurred_at"] = json!(occurred);
    app.act(&app.admin_token, code, action, body)
        .await
        .expect(200);
}

/// The March 2025 fixture (design §9):
/// A received 20/02, decided 04/03 (due 27/02): carried over, resolved late.
/// B received 25/02, decided 28/02: finished before the period, out of scope.
/// C received 03/03 direct, decided 05/03 (due 10/03 09:00): early.
/// D received 03/03 online, decided 10/03 08:00 (due 10/03 09:00): on time.
/// E received 20/03 by post, open (due 27/03 09:00 < 01/04): in progress, overdue.
/// F received 28/03 direct, procedure of another field, open (due 04/04): in progress, within.
/// G received 10/03 (due 17/03 09:00), withdrawal asked 11/03, stopped 20/03: withdrawn on
///   request; judged against the due time moved by the freeze (26/03 09:00), early.
/// H received 02/04: after the period.
/// I received 26/02, open (due 05/03): carried over, in progress, overdue.
/// R filed online 12/03 and refused: never received, not counted.
async fn march(app: &TestApp) {
    app.office().await;
    let mut p3 = test_procedure("P3", "pause", 1);
    p3["field"] = json!("Xây dựng");
    app.post("/api/v1/procedures", Some(&app.admin_token), &p3)
        .await
        .expect(201);
    // R, filed and refused in March at the counter's real time.
    app.clock.set(at("2025-03-12T10:00:00+07:00"));
    let portal = app.user_with_role("portal9", Role::Portal, None).await;
    let clerk = app.user_with_role("clerk9", Role::Clerk, None).await;
    let r = app
        .post(
            "/api/v1/dossiers",
            Some(&portal),
            &dossier_body("P1", "online"),
        )
        .await
        .expect(201);
    app.act(
        &clerk,
        r.body["code"].as_str().unwrap(),
        "refuse",
        json!({"reasons": "Sai thủ tục"}),
    )
    .await
    .expect(200);
    // The rest is back-entered in April.
    app.clock.set(at("2025-04-15T10:00:00+07:00"));
    let a = back_enter(app, "P1", "direct", "2025-02-20T09:00:00+07:00").await;
    admin_act(app, &a, "transfer", "2025-02-20T10:00:00+07:00", json!({})).await;
    admin_act(
        app,
        &a,
        "approve",
        "2025-03-04T10:00:00+07:00",
        json!({"result_reference": "A"}),
    )
    .await;
    let b = back_enter(app, "P1", "direct", "2025-02-25T09:00:00+07:00").await;
    admin_act(app, &b, "transfer", "2025-02-25T10:00:00+07:00", json!({})).await;
    admin_act(app, &b, "approve", "2025-02-28T10:00:00+07:00", json!({})).await;
    let c = back_enter(app, "P1", "direct", "2025-03-03T09:00:00+07:00").await;
    admin_act(app, &c, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    admin_act(
        app,
        &c,
        "approve",
        "2025-03-05T10:00:00+07:00",
        json!({"electronic_result": true}),
    )
    .await;
    admin_act(
        app,
        &c,
        "deliver",
        "2025-03-06T10:00:00+07:00",
        json!({"method": "counter", "satisfaction": 5}),
    )
    .await;
    let d = back_enter(app, "P1", "online", "2025-03-03T09:00:00+07:00").await;
    admin_act(app, &d, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    admin_act(app, &d, "approve", "2025-03-10T08:00:00+07:00", json!({})).await;
    admin_act(
        app,
        &d,
        "deliver",
        "2025-03-10T09:00:00+07:00",
        json!({"method": "electronic", "satisfaction": 2}),
    )
    .await;
    back_enter(app, "P1", "postal", "2025-03-20T09:00:00+07:00").await;
    back_enter(app, "P3", "direct", "2025-03-28T09:00:00+07:00").await;
    let g = back_enter(app, "P1", "direct", "2025-03-10T09:00:00+07:00").await;
    admin_act(
        app,
        &g,
        "request_withdrawal",
        "2025-03-11T09:00:00+07:00",
        json!({}),
    )
    .await;
    admin_act(
        app,
        &g,
        "stop",
        "2025-03-20T09:00:00+07:00",
        json!({"reasons": "Công dân rút hồ sơ"}),
    )
    .await;
    back_enter(app, "P1", "direct", "2025-04-02T09:00:00+07:00").await;
    back_enter(app, "P1", "direct", "2025-02-26T09:00:00+07:00").await;
}

/// A row's numbers in the order of the CSV / XLSX / HTML columns.
fn counts(row: &Value) -> [i64; 13] {
    [
        &row["received"]["total"],
        &row["received"]["online"],
        &row["received"]["direct_postal"],
        &row["received"]["carried_over"],
        &row["resolved"]["total"],
        &row["resolved"]["early"],
        &row["resolved"]["on_time"],
        &row["resolved"]["late"],
        &row["in_progress"]["total"],
        &row["in_progress"]["within"],
        &row["in_progress"]["overdue"],
        &row["stopped"]["withdrawn"],
        &row["stopped"]["other"],
    ]
    .map(|v| v.as_i64().unwrap())
}

/// Every identity of a row: received = resolved + stopped + in progress, each total the sum
/// of its parts.
fn balanced(row: &Value) -> bool {
    let c = counts(row);
    let stopped = row["stopped"]["total"].as_i64().unwrap();
    c[0] == c[1] + c[2] + c[3]
        && c[0] == c[4] + stopped + c[8]
        && c[4] == c[5] + c[6] + c[7]
        && c[8] == c[9] + c[10]
        && stopped == c[11] + c[12]
}

const MARCH: &str = "/api/v1/reports/bieu-06?from=2025-03-01&to=2025-03-31";

backend_test!(bieu06_counts_march_by_hand, |app| {
    march(&app).await;
    let r = app.get(MARCH, Some(&app.admin_token)).await.expect(200);
    let total = &r.body["total"];
    //             recv on dp co  res e ot l  prog wi ov  wd st
    assert_eq!(
        counts(total),
        [7, 1, 4, 2, 3, 1, 1, 1, 3, 1, 2, 1, 0],
        "{}",
        r.text
    );
    assert!(balanced(total));
    // The classic rate (design §9): (early + on time) / (early + on time + late).
    assert_eq!(total["on_time_rate"], 66.67);
    assert_eq!(r.body["rules"]["withdrawn_counts_as_resolved"], false);
    assert_eq!(r.body["rules"]["judged_against"], "due_at");
    assert_eq!(r.body["period"]["from"], "2025-03-01");
    assert_eq!(r.body["period"]["preset"], Value::Null);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 1);
    assert_eq!(counts(&r.body["rows"][0]), counts(total));

    let by_field = app
        .get(&format!("{MARCH}&group_by=field"), Some(&app.admin_token))
        .await
        .expect(200);
    let rows = by_field.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let dt = rows.iter().find(|x| x["key"] == "Đầu tư").unwrap();
    let xd = rows.iter().find(|x| x["key"] == "Xây dựng").unwrap();
    assert_eq!(counts(dt), [6, 1, 3, 2, 3, 1, 1, 1, 2, 0, 2, 1, 0]);
    assert_eq!(counts(xd), [1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0]);
    assert!(xd["on_time_rate"].is_null());
    for row in rows.iter().chain([&by_field.body["total"]]) {
        assert!(balanced(row), "identity: {row}");
    }
    let by_proc = app
        .get(
            &format!("{MARCH}&group_by=procedure"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let p1 = by_proc.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "P1")
        .unwrap()
        .clone();
    assert_eq!(p1["label"], "Thủ tục thử P1");
    let by_unit = app
        .get(&format!("{MARCH}&group_by=unit"), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(by_unit.body["rows"][0]["label"], "Phòng U1");

    // February: A, B, I received; B decided 28/02 before its due (04/03): early. At the end of
    // February A (due 27/02) is overdue and I (due 05/03) within.
    let feb = app
        .get(
            "/api/v1/reports/bieu-06?from=2025-02-01&to=2025-02-28",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert_eq!(
        counts(&feb.body["total"]),
        [3, 0, 3, 0, 1, 1, 0, 0, 2, 1, 1, 0, 0]
    );

    app.get(
        "/api/v1/reports/bieu-06?from=2025-03-31&to=2025-03-01",
        Some(&app.admin_token),
    )
    .await
    .expect_problem(422, "validation.failed");
    app.get(
        "/api/v1/reports/bieu-06?from=2025-03-01",
        Some(&app.admin_token),
    )
    .await
    .expect_problem(422, "validation.failed");
    app.get(&format!("{MARCH}&group_by=colour"), Some(&app.admin_token))
        .await
        .expect_problem(422, "validation.failed");
});

backend_test!(csv_and_xlsx_match_json, |app| {
    march(&app).await;
    let json = app
        .get(&format!("{MARCH}&group_by=field"), Some(&app.admin_token))
        .await
        .expect(200);
    let csv = app
        .get(
            &format!("{MARCH}&group_by=field&format=csv"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert!(csv.content_type().starts_with("text/csv"));
    // A UTF-8 byte-order mark first, so that Excel reads the Vietnamese headings as UTF-8.
    assert!(
        csv.text.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]),
        "no BOM"
    );
    let text = csv.text.trim_start_matches('\u{feff}');
    assert!(text.contains("\r\n"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("STT,Mã,Lĩnh vực,Tổng số hồ sơ tiếp nhận,Tiếp nhận trực tuyến"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("Rút hồ sơ theo yêu cầu,Dừng xử lý,Tỷ lệ giải quyết đúng hạn (%)"));
    assert_eq!(lines.len(), 1 + 2 + 1);
    let json_rows: Vec<&Value> = json.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&json.body["total"]])
        .collect();
    for (line, row) in lines[1..].iter().zip(&json_rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], row["key"].as_str().unwrap());
        let nums: Vec<i64> = cells[3..16].iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(nums, counts(row).to_vec(), "{line}");
    }
    assert_eq!(lines[3].split(',').next_back().unwrap(), "66.67");

    let mut req = app
        .client
        .get(format!("{}{MARCH}&group_by=field&format=xlsx", app.base));
    req = req.insert_header(("Authorization", format!("Bearer {}", app.admin_token)));
    let mut resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.body().limit(10 << 20).await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    // Data start on row 7 (after the title and the two heading rows); column D is received.total.
    for (i, row) in json_rows.iter().enumerate() {
        let r = 7 + i;
        for (col, value) in [
            "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P",
        ]
        .iter()
        .zip(counts(row))
        {
            let needle = format!(r#"<c r="{col}{r}" s="#);
            let at = sheet
                .find(&needle)
                .unwrap_or_else(|| panic!("no cell {col}{r}"));
            let cell = &sheet[at..at + sheet[at..].find("</c>").unwrap()];
            assert!(
                cell.contains(&format!("<v>{value}</v>")),
                "{col}{r}: {cell} expected {value}"
            );
        }
    }
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    assert!(
        strings.contains("Biểu số 06/VPCP/KSTT") && strings.contains("Số hồ sơ đang giải quyết")
    );
});

backend_test!(indicators_and_queue_counts, |app| {
    march(&app).await;
    let r = app
        .get(
            "/api/v1/reports/indicators?from=2025-03-01&to=2025-03-31",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let find = |id: &str| {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    // 2.1: in scope as Biểu 06 without G (withdrawals do not count by default): 6; in time:
    // C, D (decided in time) and F (within at the end of March) = 3.
    let on_time = find("2.1");
    assert_eq!(
        (
            on_time["numerator"].as_f64(),
            on_time["denominator"].as_f64()
        ),
        (Some(3.0), Some(6.0))
    );
    assert_eq!(on_time["rate"], 50.0);
    // 3.3: D is the one received online of the 5 received in March (C, D, E, F, G), but P1
    // returns a paper result and D got no electronic one: 0 (the old formula said 1 / 5).
    let online = find("3.3");
    assert_eq!(
        (online["numerator"].as_f64(), online["denominator"].as_f64()),
        (Some(0.0), Some(5.0))
    );
    // 4.1: electronic results: C of A, C, D approved in March (P1 has a paper result).
    assert_eq!(find("4.1")["numerator"].as_f64(), Some(1.0));
    assert_eq!(find("4.1")["denominator"].as_f64(), Some(3.0));
    // 5.c: (6 − D dissatisfied (rated 2) − A, E, I late or overdue) / 6 (old: 1 satisfied of 2 rated).
    assert_eq!(find("5.c")["numerator"].as_f64(), Some(2.0));
    assert_eq!(find("5.c")["rate"], 33.33);
    // 2.2: of the dossiers received in March and decided: C 17 h (03/03 09:00 → 05/03 10:00),
    // D 39 h (→ 10/03 08:00): 28 h = 3.5 working days (A, received in February, no longer counts).
    let average = find("2.2");
    assert_eq!(average["rate"], 3.5);
    assert_eq!(average["by_procedure"][0]["procedure_code"], "P1");
    assert_eq!(average["by_procedure"][0]["dossiers"], 2);
    assert_eq!(
        r.headers.get("report-period").unwrap(),
        "2025-03-01/2025-03-31"
    );
    assert_eq!(
        r.headers.get("report-rules").unwrap(),
        "withdrawn_counts_as_resolved=false; judged_against=due_at"
    );

    // Queue on 15/04: E, F, I open and overdue; the one received 02/04 (due 09/04) too.
    let q = app
        .get("/api/v1/reports/queue", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(q.body["overdue"], 4, "{}", q.text);
    assert_eq!(q.body["by_state"]["received"], 4);
    assert_eq!(q.body["by_state"]["delivered"], 2);
    assert_eq!(q.body["by_state"]["refused"], 1);
    let leader = app
        .user_with_role("leader9", Role::Leader, Some("U2"))
        .await;
    let mine = app
        .get("/api/v1/reports/queue", Some(&leader))
        .await
        .expect(200);
    assert_eq!(mine.body["unit_code"], "U2");
    assert_eq!(mine.body["overdue"], 0);
    app.get("/api/v1/reports/queue?unit_code=U1", Some(&leader))
        .await
        .expect_problem(403, "auth.forbidden");
});

backend_test!(
    public_lookup_shows_minimal_data_and_is_rate_limited,
    |app| {
        let o = app.office().await;
        let d = app.receive(&o.clerk, "P1").await;
        let code = d["code"].as_str().unwrap();
        let key = d["lookup_key"].as_str().unwrap();
        let ok = app
            .get(
                &format!(
                    "/api/v1/public/lookup?code={code}&key={}",
                    key.to_lowercase()
                ),
                None,
            )
            .await
            .expect(200);
        assert_eq!(ok.body["state"], "received");
        assert_eq!(ok.body["status_label"], "Được tiếp nhận");
        assert_eq!(ok.body["applicant_masked"], "C*** t* T*** T** N*****");
        assert_eq!(ok.body["due_at_current"], "2025-03-10T09:00:00+07:00");
        let fields: Vec<&String> = ok.body.as_object().unwrap().keys().collect();
        for secret in ["applicant", "components", "note", "lookup_key", "id_number"] {
            assert!(
                !ok.text.contains("0108000001") && !fields.iter().any(|f| f.as_str() == secret),
                "{secret} leaked: {}",
                ok.text
            );
        }
        let wrong = app
            .get(
                &format!("/api/v1/public/lookup?code={code}&key=ZZZZZZ"),
                None,
            )
            .await
            .expect_problem(404, "lookup.not_found");
        let unknown = app
            .get(
                &format!("/api/v1/public/lookup?code=NOPE-1&key={key}"),
                None,
            )
            .await
            .expect_problem(404, "lookup.not_found");
        assert_eq!(wrong.body, unknown.body);
        // The page works too.
        let page = app
            .get(&format!("/tra-cuu?code={code}&key={key}"), None)
            .await
            .expect(200);
        assert!(page.content_type().starts_with("text/html"));
        // minijinja escapes '/' in HTML as &#x2f;, which browsers show as '/'.
        let shown = page.text.replace("&#x2f;", "/");
        assert!(
            shown.contains("Được tiếp nhận") && shown.contains("09:00 ngày 10/03/2025"),
            "{}",
            page.text
        );
        let blank = app.get("/tra-cuu", None).await.expect(200);
        assert!(blank.text.contains("<form"));
        // 10 a minute (default): 5 used above (3 JSON + 1 page + … ) — use them up.
        let mut limited = None;
        for _ in 0..12 {
            let r = app
                .request(
                    Method::GET,
                    &format!("/api/v1/public/lookup?code={code}&key={key}"),
                    None,
                    None,
                )
                .await;
            if r.status == 429 {
                limited = Some(r);
                break;
            }
        }
        let limited = limited
            .expect("rate limit reached")
            .expect_problem(429, "lookup.rate_limited");
        let retry: u64 = limited
            .headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry));
    }
);

backend_test!(generated_dossiers_balance_in_every_grouping, |app| {
    app.clock.set(at("2026-02-01T10:00:00+07:00"));
    let mut conn = app.state.pool.get().unwrap();
    motcua::app::demo::load(&mut conn, &app.state).unwrap();
    assert_eq!(
        motcua::app::demo::generate_dossiers(&mut conn, &app.state, 1500, 2025).unwrap(),
        1500
    );
    drop(conn);
    for group in ["none", "field", "procedure", "unit"] {
        for (from, to) in [
            ("2025-01-01", "2025-12-31"),
            ("2025-03-01", "2025-03-31"),
            ("2025-12-15", "2026-01-31"),
        ] {
            let r = app
                .get(
                    &format!("/api/v1/reports/bieu-06?from={from}&to={to}&group_by={group}"),
                    Some(&app.admin_token),
                )
                .await
                .expect(200);
            let rows = r.body["rows"].as_array().unwrap();
            let mut sum = [0i64; 13];
            for row in rows {
                let c = counts(row);
                assert!(balanced(row), "{group} {from}: {row}");
                for (s, v) in sum.iter_mut().zip(c) {
                    *s += v;
                }
            }
            assert_eq!(
                sum,
                counts(&r.body["total"]),
                "{group} {from}: rows add up to the total"
            );
        }
    }
    let year = app
        .get(
            "/api/v1/reports/bieu-06?from=2025-01-01&to=2025-12-31",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let c = counts(&year.body["total"]);
    assert!(
        c[0] > 1200 && c[1] > 300 && c[4] > 900 && c[7] > 0 && c[11] > 0 && c[12] > 0,
        "a realistic mix: {c:?}"
    );
});
