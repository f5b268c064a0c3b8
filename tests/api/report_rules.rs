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
