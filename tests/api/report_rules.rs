//! Issue 13: the statistics follow the rules. Hand-computed fixtures, back-entered on
//! 15/04/2025 for March 2025 (procedure P1: 5 working days, pause policy, no holidays in March
//! 2025), under each setting: paused and frozen dossiers, withdrawals, the due-time basis,
//! periods, and the printable page.

use chrono::DateTime;
use motcua::domain::stats::DueBasis;
use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::*;

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn back_enter(app: &TestApp, received: &str) -> String {
    let mut body = dossier_body("P1", "direct");
    body["received_at"] = json!(received);
    let r = app
        .post("/api/v1/dossiers", Some(&app.admin_token), &body)
        .await
        .expect(201);
    r.body["code"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, code: &str, action: &str, occurred: &str, mut body: Value) {
    body["occurred_at"] = json!(occurred);
    app.act(&app.admin_token, code, action, body)
        .await
        .expect(200);
}

fn ask() -> Value {
    json!({"reasons": ["Bản sao chưa chứng thực"], "items": ["TP02"]})
}

struct Pauses {
    j: String,
    k: String,
    l: String,
    m: String,
    n: String,
}

/// J received Mon 03/03 09:00 (due 10/03 09:00), supplement asked 05/03 09:00 with 3 working
///   days left, still waiting: within time at the end of March (the unmoved due time is past).
/// K the same, supplement asked 11/03 09:00, a day after its due time: overdue.
/// L the same, supplement asked 04/03 09:00 and received 06/03 09:00: due moved by 2 working
///   days to 12/03 09:00, open: overdue.
/// M received Mon 17/03 09:00 (due 24/03 09:00), withdrawal asked 19/03 09:00, still frozen:
///   within time.
/// N received Mon 10/03 09:00 (due 17/03 09:00), withdrawal asked 11/03 09:00 (frozen with 4
///   working days left), stopped Thu 20/03 09:00: judged against 17/03 + 7 working days frozen
///   = 26/03 09:00, early (against the unmoved due time it would be late).
async fn pauses(app: &TestApp) -> Pauses {
    app.office().await;
    app.clock.set(at("2025-04-15T10:00:00+07:00"));
    let j = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &j, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        app,
        &j,
        "request_supplement",
        "2025-03-05T09:00:00+07:00",
        ask(),
    )
    .await;
    let k = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &k, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        app,
        &k,
        "request_supplement",
        "2025-03-11T09:00:00+07:00",
        ask(),
    )
    .await;
    let l = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &l, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        app,
        &l,
        "request_supplement",
        "2025-03-04T09:00:00+07:00",
        ask(),
    )
    .await;
    act(
        app,
        &l,
        "supplement_received",
        "2025-03-06T09:00:00+07:00",
        json!({}),
    )
    .await;
    let m = back_enter(app, "2025-03-17T09:00:00+07:00").await;
    act(
        app,
        &m,
        "request_withdrawal",
        "2025-03-19T09:00:00+07:00",
        json!({}),
    )
    .await;
    let n = back_enter(app, "2025-03-10T09:00:00+07:00").await;
    act(
        app,
        &n,
        "request_withdrawal",
        "2025-03-11T09:00:00+07:00",
        json!({}),
    )
    .await;
    act(
        app,
        &n,
        "stop",
        "2025-03-20T09:00:00+07:00",
        json!({"reasons": "Công dân rút hồ sơ"}),
    )
    .await;
    Pauses { j, k, l, m, n }
}

/// received (total, online, direct/postal, carried over), resolved (total, early, on time,
/// late, of which withdrawn), stopped (total, withdrawn, other), in progress (total, within,
/// overdue).
fn numbers(row: &Value) -> [[i64; 5]; 4] {
    let g = |group: &str, keys: &[&str]| {
        let mut out = [0; 5];
        for (o, k) in out.iter_mut().zip(keys) {
            *o = row[group][k].as_i64().unwrap();
        }
        out
    };
    [
        g(
            "received",
            &["total", "online", "direct_postal", "carried_over"],
        ),
        g(
            "resolved",
            &["total", "early", "on_time", "late", "withdrawn"],
        ),
        g("stopped", &["total", "withdrawn", "other"]),
        g("in_progress", &["total", "within", "overdue"]),
    ]
}

async fn march(app: &TestApp) -> Value {
    app.get(
        "/api/v1/reports/bieu-06?period=2025-M03",
        Some(&app.admin_token),
    )
    .await
    .expect(200)
    .body
}

async fn indicator(app: &TestApp, id: &str) -> (f64, f64) {
    let r = app
        .get(
            "/api/v1/reports/indicators?period=2025-M03",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let i = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap();
    (
        i["numerator"].as_f64().unwrap(),
        i["denominator"].as_f64().unwrap(),
    )
}

async fn view(app: &TestApp, code: &str) -> Value {
    app.get(&format!("/api/v1/dossiers/{code}"), Some(&app.admin_token))
        .await
        .expect(200)
        .body
}

backend_test!(
    paused_and_frozen_dossiers_are_judged_against_their_moved_due_time,
    |app| {
        let p = pauses(&app).await;
        let r = march(&app).await;
        assert_eq!(r["from"], "2025-03-01");
        assert_eq!(r["to"], "2025-03-31");
        assert_eq!(r["period"]["preset"], "2025-M03");
        assert_eq!(r["period"]["cutoff"], "calendar");
        assert_eq!(r["rules"]["withdrawn_counts_as_resolved"], false);
        assert_eq!(
            numbers(&r["total"]),
            [
                [5, 0, 5, 0, 0],
                [0, 0, 0, 0, 0],
                [1, 1, 0, 0, 0],
                // J and M within (the old report said overdue), K and L overdue.
                [4, 2, 2, 0, 0],
            ],
            "{r}"
        );
        assert!(r["total"]["on_time_rate"].is_null());

        // The same rule in the dossier view, the list filter and the queue (now 15/04).
        for (code, overdue) in [(&p.j, false), (&p.k, true), (&p.l, true), (&p.m, false)] {
            assert_eq!(view(&app, code).await["overdue"], overdue, "{code}");
        }
        let listed = app
            .get("/api/v1/dossiers?overdue=true", Some(&app.admin_token))
            .await
            .expect(200);
        let mut codes: Vec<&str> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        codes.sort();
        let mut expected = vec![p.k.as_str(), p.l.as_str()];
        expected.sort();
        assert_eq!(codes, expected);
        let queue = app
            .get("/api/v1/reports/queue", Some(&app.admin_token))
            .await
            .expect(200);
        assert_eq!(queue.body["overdue"], 2, "{}", queue.text);

        // `stop` from the frozen state judged against the moved due time: early.
        assert_eq!(view(&app, &p.n).await["timeliness"], "early");

        // 766 2.1: J, K, L, M in scope (N withdrawn, not counted by default); in time J and M
        // (K's single supplement request, its end, came after its due time).
        assert_eq!(indicator(&app, "2.1").await, (2.0, 4.0));
    }
);

backend_test!(
    withdrawals_count_as_resolved_when_so_configured,
    settings = |s| s.reports.withdrawn_counts_as_resolved = true,
    |app| {
        pauses(&app).await;
        let r = march(&app).await;
        assert_eq!(r["rules"]["withdrawn_counts_as_resolved"], true);
        assert_eq!(
            numbers(&r["total"]),
            [
                [5, 0, 5, 0, 0],
                // N, withdrawn, counted as resolved by its stop's timeliness: early.
                [1, 1, 0, 0, 1],
                [0, 0, 0, 0, 0],
                [4, 2, 2, 0, 0],
            ],
            "{r}"
        );
        assert_eq!(r["total"]["on_time_rate"], 100.0);
        // 2.1 counts N too, in time.
        assert_eq!(indicator(&app, "2.1").await, (3.0, 5.0));
    }
);

/// O received 03/03 09:00 (due 10/03 09:00), apology on 06/03 with a new appointment on
///   14/03 09:00, approved 12/03 10:00: late against due_at, early against due_at_current.
/// Q the same apology, still open at the end of 13/03: overdue against due_at, within against
///   due_at_current.
/// S waits for a supplement asked on 11/03 09:00, after its due time (10/03 09:00) but before
///   the apology's 14/03 09:00: overdue against due_at, within against due_at_current.
async fn apologies(app: &TestApp) {
    app.office().await;
    app.clock.set(at("2025-04-15T10:00:00+07:00"));
    let apology =
        json!({"reasons": "Cần xác minh thực địa", "new_due_at": "2025-03-14T09:00:00+07:00"});
    let o = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &o, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        app,
        &o,
        "apologize",
        "2025-03-06T09:00:00+07:00",
        apology.clone(),
    )
    .await;
    act(app, &o, "approve", "2025-03-12T10:00:00+07:00", json!({})).await;
    let q = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &q, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        app,
        &q,
        "apologize",
        "2025-03-06T09:00:00+07:00",
        apology.clone(),
    )
    .await;
    let s = back_enter(app, "2025-03-03T09:00:00+07:00").await;
    act(app, &s, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(app, &s, "apologize", "2025-03-06T09:00:00+07:00", apology).await;
    act(
        app,
        &s,
        "request_supplement",
        "2025-03-11T09:00:00+07:00",
        ask(),
    )
    .await;
}

async fn march_1_to_13(app: &TestApp) -> Value {
    app.get(
        "/api/v1/reports/bieu-06?from=2025-03-01&to=2025-03-13",
        Some(&app.admin_token),
    )
    .await
    .expect(200)
    .body
}

backend_test!(statistics_judge_against_due_at_by_default, |app| {
    apologies(&app).await;
    let r = march_1_to_13(&app).await;
    assert_eq!(r["rules"]["judged_against"], "due_at");
    assert_eq!(
        numbers(&r["total"]),
        [
            [3, 0, 3, 0, 0],
            [1, 0, 0, 1, 0],
            [0, 0, 0, 0, 0],
            [2, 0, 2, 0, 0]
        ],
        "{r}"
    );
    assert_eq!(r["total"]["on_time_rate"], 0.0);
});

backend_test!(
    statistics_judge_against_the_apology_when_so_configured,
    settings = |s| s.reports.judge_against = DueBasis::DueAtCurrent,
    |app| {
        apologies(&app).await;
        let r = march_1_to_13(&app).await;
        assert_eq!(r["rules"]["judged_against"], "due_at_current");
        assert_eq!(
            numbers(&r["total"]),
            [
                [3, 0, 3, 0, 0],
                [1, 1, 0, 0, 0],
                [0, 0, 0, 0, 0],
                [2, 2, 0, 0, 0]
            ],
            "{r}"
        );
        assert_eq!(r["total"]["on_time_rate"], 100.0);
    }
);

async fn upload_pdf(app: &TestApp, code: &str, item: &str) {
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    pdf.extend(b"1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
    let (ct, body) = multipart(&[("file", Some("scan.pdf"), "application/pdf", &pdf)]);
    let mut resp = app
        .client
        .post(format!(
            "{}/api/v1/dossiers/{code}/components/{item}/files",
            app.base
        ))
        .insert_header(("Authorization", format!("Bearer {}", app.admin_token)))
        .insert_header(("Content-Type", ct))
        .send_body(body)
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body().await.unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&text));
}

async fn indicators(app: &TestApp) -> Vec<Value> {
    app.get(
        "/api/v1/reports/indicators?from=2025-03-01&to=2025-03-31",
        Some(&app.admin_token),
    )
    .await
    .expect(200)
    .body
    .as_array()
    .unwrap()
    .clone()
}

fn ratio(list: &[Value], id: &str) -> (f64, f64) {
    let i = list.iter().find(|i| i["id"] == id).unwrap();
    (
        i["numerator"].as_f64().unwrap(),
        i["denominator"].as_f64().unwrap(),
    )
}

// P4: no paper result, a fee. X (P4, online) digitised, paid online, approved 06/03 10:00
// without an electronic result; Y (P4) open; Z (P1, paper result) digitised, approved 05/03
// 10:00 with an electronic result.
backend_test!(the_766_formulas_are_the_official_ones, |app| {
    app.office().await;
    let mut p4 = test_procedure("P4", "pause", 1);
    p4["paper_result"] = json!(false);
    p4["fee_vnd"] = json!(50000);
    app.post("/api/v1/procedures", Some(&app.admin_token), &p4)
        .await
        .expect(201);
    app.clock.set(at("2025-04-15T10:00:00+07:00"));
    let enter = |procedure: &'static str, channel: &'static str| {
        let app = &app;
        async move {
            let mut body = dossier_body(procedure, channel);
            body["received_at"] = json!("2025-03-03T09:00:00+07:00");
            app.post("/api/v1/dossiers", Some(&app.admin_token), &body)
                .await
                .expect(201)
                .body["code"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let x = enter("P4", "online").await;
    upload_pdf(&app, &x, "TP01").await;
    upload_pdf(&app, &x, "TP02").await;
    act(&app, &x, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        &app,
        &x,
        "request_payment",
        "2025-03-04T09:00:00+07:00",
        json!({"amount_vnd": 50000}),
    )
    .await;
    act(
        &app,
        &x,
        "payment_received",
        "2025-03-05T09:00:00+07:00",
        json!({"online": true, "reference": "VNPAY-1"}),
    )
    .await;
    act(
        &app,
        &x,
        "approve",
        "2025-03-06T10:00:00+07:00",
        json!({"result_reference": "X"}),
    )
    .await;
    let _y = enter("P4", "direct").await;
    let z = enter("P1", "direct").await;
    upload_pdf(&app, &z, "TP01").await;
    upload_pdf(&app, &z, "TP02").await;
    act(&app, &z, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(
        &app,
        &z,
        "approve",
        "2025-03-05T10:00:00+07:00",
        json!({"result_reference": "Z", "electronic_result": true}),
    )
    .await;
    assert_eq!(view(&app, &x).await["digitised"], true);

    let list = indicators(&app).await;
    // 3.6: paid online / received of fee-bearing procedures: X of X, Y (old: X of the one
    // dossier with a recorded payment, 100 %).
    assert_eq!(ratio(&list, "3.6"), (1.0, 2.0));
    // 4.1: only procedures with a paper result: Z of Z (old: Z of X, Z, 50 %).
    assert_eq!(ratio(&list, "4.1"), (1.0, 1.0));
    // 4.2: digitised and an electronic result: Z of 3 received (old: X and Z digitised, 2 / 3).
    assert_eq!(ratio(&list, "4.2"), (1.0, 3.0));
    // 3.3: X online, and P4 has no paper result, so no electronic one is needed: 1 / 3.
    assert_eq!(ratio(&list, "3.3"), (1.0, 3.0));
    // 2.2: Z 17 h (03/03 09:00 → 05/03 10:00), X 25 h (→ 06/03 10:00); per procedure and over
    // both weighted by dossiers: 21 h = 2.63 working days.
    let average = list.iter().find(|i| i["id"] == "2.2").unwrap();
    assert_eq!(average["rate"], 2.63);
    let per = average["by_procedure"].as_array().unwrap();
    assert_eq!(
        per.iter()
            .map(|p| (
                p["procedure_code"].as_str().unwrap(),
                p["average_working_days"].as_f64().unwrap()
            ))
            .collect::<Vec<_>>(),
        [("P1", 2.13), ("P4", 3.13)]
    );
    assert!(
        list.iter()
            .all(|i| !i["formula"].as_str().unwrap().is_empty())
    );
});

backend_test!(statutory_periods_and_the_decree_09_cut_off, |app| {
    pauses(&app).await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            app.get(
                &format!("/api/v1/reports/bieu-06?{q}"),
                Some(&app.admin_token),
            )
            .await
        }
    };
    let q1 = get("period=2025-Q1").await.expect(200);
    assert_eq!(
        (&q1.body["from"], &q1.body["to"]),
        (&json!("2025-01-01"), &json!("2025-03-31"))
    );
    // Nghị định 09/2019 Art. 12: a month's figures run from the 15th of the month before to
    // the 14th. March 2025 = 15/02 – 14/03: J, K, L and N received (M came on 17/03); N not
    // yet stopped (20/03): K overdue since its supplement came after its due time, L overdue
    // (due 12/03), J and N (frozen with time left) within.
    let m = get("period=2025-M03&cutoff=nd09").await.expect(200);
    assert_eq!(
        (&m.body["from"], &m.body["to"]),
        (&json!("2025-02-15"), &json!("2025-03-14"))
    );
    assert_eq!(m.body["period"]["cutoff"], "nd09");
    assert_eq!(numbers(&m.body["total"])[0], [4, 0, 4, 0, 0]);
    assert_eq!(numbers(&m.body["total"])[3], [4, 2, 2, 0, 0]);
    let year = get("period=2025&cutoff=nd09").await.expect(200);
    assert_eq!(
        (&year.body["from"], &year.body["to"]),
        (&json!("2024-12-15"), &json!("2025-12-14"))
    );
    for (q, field) in [
        ("period=2025-M13", "period"),
        ("period=2025-Q1&from=2025-01-01", "period"),
        ("period=2025-Q1&cutoff=fiscal", "cutoff"),
        ("from=2025-01-01&to=2025-01-31&cutoff=nd09", "cutoff"),
    ] {
        let r = get(q).await.expect_problem(422, "validation.failed");
        assert!(r.text.contains(field), "{q}: {}", r.text);
    }
});

backend_test!(the_csv_opens_as_utf8_and_the_page_prints, |app| {
    pauses(&app).await;
    let csv = app
        .get(
            "/api/v1/reports/bieu-06?period=2025-M03&format=csv",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    // Read back by a CSV reader, as a spreadsheet would: the BOM, then the Vietnamese headings.
    let bytes = csv.text.as_bytes();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "STT");
    assert_eq!(&headers[3], "Tổng số hồ sơ tiếp nhận");
    assert_eq!(&headers[15], "Dừng xử lý");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][2], "Tổng cộng");
    assert_eq!(&rows[1][3], "5");
    assert_eq!(&rows[1][14], "1");

    let page = app
        .get(
            "/api/v1/reports/bieu-06?period=2025-Q1&format=html",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert!(page.content_type().starts_with("text/html"));
    // minijinja escapes '/' in text as &#x2f;, which browsers show as '/'.
    let html = &page.text.replace("&#x2f;", "/");
    for needle in [
        "Biểu số 06/VPCP/KSTT",
        "Số hồ sơ nhận giải quyết",
        "Số hồ sơ đang giải quyết",
        "từ ngày 01/01/2025 đến ngày 31/03/2025",
        "@media print",
        "<svg",
        "T01/2025",
        "T03/2025",
        "Tổng cộng",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    // No script, no external resource: only the SVG namespace names a URL.
    assert!(!html.contains("<script") && !html.contains("<link"));
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
});

#[derive(Debug, PartialEq, diesel::QueryableByName)]
struct ReportColumns {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    timeliness_current: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    due_current_day: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    held_day: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    held_current_day: Option<i32>,
}

fn report_columns(conn: &mut motcua::db::DbConnection) -> Vec<ReportColumns> {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT code, timeliness_current, due_current_day, held_day, held_current_day
         FROM dossiers ORDER BY code",
    )
    .load(conn)
    .unwrap()
}

/// Reverts the migrations down to and including 2026-12-01-000007_report_rules.
fn revert_report_rules(conn: &mut motcua::db::DbConnection) {
    use diesel_migrations::MigrationHarness;
    use motcua::db::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
    let mine = "20261201000007";
    loop {
        let applied: Vec<String> = match conn {
            DbConnection::Sqlite(c) => c.applied_migrations().unwrap(),
            DbConnection::Postgresql(c) => c.applied_migrations().unwrap(),
        }
        .into_iter()
        .map(|v| v.to_string())
        .collect();
        if !applied.iter().any(|v| v.as_str() == mine) {
            break;
        }
        match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
            DbConnection::Postgresql(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
        }
        .unwrap();
    }
}

backend_test!(the_migration_carries_the_report_columns_forward, |app| {
    let p = pauses(&app).await;
    // And a dossier decided after an apology (O of the apology fixture).
    let apology =
        json!({"reasons": "Cần xác minh thực địa", "new_due_at": "2025-03-14T09:00:00+07:00"});
    let o = back_enter(&app, "2025-03-03T09:00:00+07:00").await;
    act(&app, &o, "transfer", "2025-03-03T10:00:00+07:00", json!({})).await;
    act(&app, &o, "apologize", "2025-03-06T09:00:00+07:00", apology).await;
    act(&app, &o, "approve", "2025-03-12T10:00:00+07:00", json!({})).await;
    let mut conn = app.state.pool.get().unwrap();
    let stamped = report_columns(&mut conn);
    let day = |d: &str| {
        motcua::domain::stats::day_number(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
    };
    let of = |code: &str| stamped.iter().find(|r| r.code == code).unwrap();
    // What the service stamps: J held since 05/03, K (paused late) not held, M held since
    // 19/03; O early against the apology's 14/03.
    assert_eq!(of(&p.j).held_day, Some(day("2025-03-05")));
    assert_eq!(of(&p.k).held_day, None);
    assert_eq!(of(&p.m).held_current_day, Some(day("2025-03-19")));
    assert_eq!(
        (of(&o).timeliness_current.as_deref(), of(&o).due_current_day),
        (Some("early"), Some(day("2025-03-14")))
    );
    assert_eq!(of(&p.n).held_day, Some(day("2025-03-11")));
    // Without the columns, then migrated again: the same values, from the rows' own data —
    // except that a stop recorded before the migration no longer knows when its pause began
    // (the stop cleared it): N keeps its timeliness but has no held day (docs/reports.md).
    revert_report_rules(&mut conn);
    assert!(motcua::db::run_migrations(&mut conn).unwrap() > 0);
    let migrated = report_columns(&mut conn);
    for (after, before) in migrated.iter().zip(&stamped) {
        if after.code == p.n {
            assert_eq!(after.held_day, None);
            assert_eq!(after.timeliness_current, before.timeliness_current);
        } else {
            assert_eq!(after, before);
        }
    }
    assert_eq!(migrated.len(), stamped.len());
    drop(conn);
});
