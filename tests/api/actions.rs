//! Every lifecycle action of design §4 over HTTP: its happy path, the wrong-state refusal
//! (409 with `allowed_actions`), the wrong-role refusal (403), each required field (422) and
//! its effect on the clock (design §5), with the expected times worked out by hand.
//!
//! Calendar facts used below (2025): March has no special day; office hours 07:30–11:30 and
//! 13:00–17:00, so a working day is 8 h. The test clock starts Mon 03/03 09:00 (+07:00).
//! P1: 5 working days, B1 (officer, 3 wd) then B2 (leader, 2 wd), both in U1; policy
//! "pause", at most 1 supplement request.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::{Office, Response, TestApp};

/// An RFC 3339 time with offset as a UTC instant.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn set_clock(app: &TestApp, local: &str) {
    app.clock.set(at(local));
}

fn code_of(d: &Value) -> String {
    d["code"].as_str().unwrap().to_owned()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// 409 `dossier.illegal_transition`, naming the state and what the caller may do instead.
#[track_caller]
fn illegal(r: Response, state: &str, allowed: &[&str]) {
    let r = r.expect_problem(409, "dossier.illegal_transition");
    assert_eq!(r.body["state"], state, "{}", r.text);
    assert_eq!(strs(&r.body["allowed_actions"]), allowed, "{}", r.text);
}

#[track_caller]
fn forbidden(r: Response) {
    r.expect_problem(403, "auth.forbidden");
}

/// 422 `validation.failed` naming `field`.
#[track_caller]
fn invalid(r: Response, field: &str) {
    let r = r.expect_problem(422, "validation.failed");
    assert!(
        r.body["errors"][field].is_string(),
        "errors.{field} expected: {}",
        r.text
    );
}

async fn dossier(app: &TestApp, token: &str, code: &str) -> Value {
    app.get(&format!("/api/v1/dossiers/{code}"), Some(token))
        .await
        .expect(200)
        .body
}

async fn history(app: &TestApp, code: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/dossiers/{code}/history"),
        Some(&app.admin_token),
    )
    .await
    .expect(200)
    .body
    .as_array()
    .unwrap()
    .clone()
}

async fn last_row(app: &TestApp, code: &str) -> Value {
    history(app, code).await.pop().unwrap()
}

/// Codes of `GET /api/v1/dossiers?{query}` as the admin sees them, sorted.
async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/v1/dossiers?{query}"), Some(&app.admin_token))
        .await
        .expect(200);
    let mut codes: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(code_of)
        .collect();
    codes.sort();
    assert_eq!(r.body["total"], codes.len(), "{query}: {}", r.text);
    codes
}

/// A counter receipt of `procedure` now; answers its code.
async fn received(app: &TestApp, o: &Office, procedure: &str) -> String {
    code_of(&app.receive(&o.clerk, procedure).await)
}

/// A counter receipt transferred at once to step B1; answers its code.
async fn processing(app: &TestApp, o: &Office, procedure: &str) -> String {
    let code = received(app, o, procedure).await;
    app.act(&o.clerk, &code, "transfer", json!({}))
        .await
        .expect(200);
    code
}

/// An online filing by the portal: `submitted`, with a code but no clock.
async fn file_online(app: &TestApp, o: &Office) -> String {
    let r = app
        .post(
            "/api/v1/dossiers",
            Some(&o.portal),
            &crate::helpers::dossier_body("P1", "online"),
        )
        .await
        .expect(201);
    assert_eq!(r.body["state"], "submitted");
    assert_eq!(r.body["status_code"], 1);
    assert!(r.body["due_at"].is_null(), "{}", r.text);
    assert!(r.body["received_at"].is_null(), "{}", r.text);
    code_of(&r.body)
}

/// What the leader may do on a processing dossier (design §4, in the API's order).
const LEADER_PROCESSING: [&str; 6] = [
    "forward",
    "request_supplement",
    "request_payment",
    "approve",
    "reject",
    "apologize",
];

backend_test!(online_filing_ask_completion_accept_and_refuse, |app| {
    let o = app.office().await;
    let online = file_online(&app, &o).await;
    let to_refuse = file_online(&app, &o).await;
    let counter = received(&app, &o, "P1").await;

    // ask_completion (1 → 1, clerk, reasons, once).
    forbidden(
        app.act(
            &o.officer,
            &online,
            "ask_completion",
            json!({"reasons": "x"}),
        )
        .await,
    );
    invalid(
        app.act(&o.clerk, &online, "ask_completion", json!({}))
            .await,
        "reasons",
    );
    invalid(
        app.act(
            &o.clerk,
            &online,
            "ask_completion",
            json!({"reasons": ["  ", ""]}),
        )
        .await,
        "reasons",
    );
    illegal(
        app.act(
            &o.clerk,
            &counter,
            "ask_completion",
            json!({"reasons": "x"}),
        )
        .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    let asked = app
        .act(
            &o.clerk,
            &online,
            "ask_completion",
            json!({"reasons": ["Thiếu bản sao chứng thực", "Sai mẫu đơn"]}),
        )
        .await
        .expect(200);
    assert_eq!(asked.body["state"], "submitted");
    assert!(asked.body["due_at"].is_null());
    let row = last_row(&app, &online).await;
    assert_eq!(row["action"], "ask_completion");
    assert_eq!(row["from_state"], "submitted");
    assert_eq!(row["to_state"], "submitted");
    assert_eq!(
        row["details"]["reasons"],
        json!(["Thiếu bản sao chứng thực", "Sai mẫu đơn"])
    );
    app.act(
        &o.clerk,
        &online,
        "ask_completion",
        json!({"reasons": "lần hai"}),
    )
    .await
    .expect_problem(409, "dossier.completion_already_asked");

    // accept (1 → 2, clerk): the clock starts at the accept time rolled into working time.
    forbidden(app.act(&o.leader, &online, "accept", json!({})).await);
    illegal(
        app.act(&o.clerk, &counter, "accept", json!({})).await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    // Accepted Mon 03/03 17:30, after the close: the clock starts Tue 04/03 07:30, and
    // 5 working days (Wed 05, Thu 06, Fri 07, Mon 10, Tue 11) → due Tue 11/03 07:30.
    set_clock(&app, "2025-03-03T17:30:00+07:00");
    let a = app
        .act(&o.clerk, &online, "accept", json!({}))
        .await
        .expect(200);
    assert_eq!(a.body["state"], "received");
    assert_eq!(a.body["status_code"], 2);
    assert_eq!(a.body["due_at"], "2025-03-11T07:30:00+07:00", "{}", a.text);
    assert_eq!(a.body["due_at_current"], "2025-03-11T07:30:00+07:00");
    assert_eq!(
        strs(&a.body["allowed_actions"]),
        ["transfer", "request_withdrawal"]
    );
    let row = last_row(&app, &online).await;
    assert_eq!(row["action"], "accept");
    assert_eq!(row["from_state"], "submitted");
    assert_eq!(row["to_state"], "received");
    assert_eq!(row["due_at"], "2025-03-11T07:30:00+07:00");
    illegal(
        app.act(&o.clerk, &online, "accept", json!({})).await,
        "received",
        &["transfer", "request_withdrawal"],
    );

    // refuse (1 → 3, clerk, reasons).
    forbidden(
        app.act(&o.officer, &to_refuse, "refuse", json!({"reasons": "x"}))
            .await,
    );
    invalid(
        app.act(
            &o.clerk,
            &to_refuse,
            "refuse",
            json!({"note": "thiếu lý do"}),
        )
        .await,
        "reasons",
    );
    illegal(
        app.act(&o.clerk, &counter, "refuse", json!({"reasons": "x"}))
            .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    let r = app
        .act(
            &o.clerk,
            &to_refuse,
            "refuse",
            json!({"reasons": "Không thuộc thẩm quyền giải quyết"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["state"], "refused");
    assert_eq!(r.body["status_code"], 3);
    assert!(r.body["due_at"].is_null());
    assert_eq!(r.body["finished_at"], "2025-03-03T17:30:00+07:00");
    assert!(strs(&r.body["allowed_actions"]).is_empty());
    let row = last_row(&app, &to_refuse).await;
    assert_eq!(row["action"], "refuse");
    assert_eq!(
        row["details"]["reasons"],
        json!(["Không thuộc thẩm quyền giải quyết"])
    );
    // Terminal: nothing more, not even a second refusal.
    illegal(
        app.act(&o.clerk, &to_refuse, "refuse", json!({"reasons": "x"}))
            .await,
        "refused",
        &[],
    );
    illegal(
        app.act(&o.clerk, &to_refuse, "accept", json!({})).await,
        "refused",
        &[],
    );
});

backend_test!(accept_sets_the_rule_regime_by_the_receipt_date, |app| {
    let o = app.office().await;
    // Filed online Mon 30/06/2025 16:00 (Nghị định 61/2018 still in force), officially
    // received by `accept` on Tue 01/07/2025 08:00, the day Nghị định 118/2025 applies.
    // Design §1: the regime is chosen by the receipt date, and for an online dossier the
    // receipt is the accept (docs/deadlines.md §3, Nghị định 45/2020 Điều 11(1)).
    set_clock(&app, "2025-06-30T16:00:00+07:00");
    let code = file_online(&app, &o).await;
    assert!(code.contains("-250630-"), "{code}");
    set_clock(&app, "2025-07-01T08:00:00+07:00");
    let a = app
        .act(&o.clerk, &code, "accept", json!({}))
        .await
        .expect(200);
    // Tue 01/07 08:00 + 5 wd (Wed 02 … Tue 08) → Tue 08/07 08:00.
    assert_eq!(a.body["due_at"], "2025-07-08T08:00:00+07:00");
    assert_eq!(a.body["rule_regime"], "nd118_2025", "{}", a.text);
});

backend_test!(
    transfer_and_forward_record_steps_and_their_timeliness,
    |app| {
        let o = app.office().await;
        // Received Mon 03/03 09:00 + 5 wd → due Mon 10/03 09:00.
        let code = received(&app, &o, "P1").await;

        // transfer (2 → 4, clerk or leader).
        forbidden(app.act(&o.officer, &code, "transfer", json!({})).await);
        forbidden(app.act(&o.viewer, &code, "transfer", json!({})).await);
        forbidden(app.act(&o.portal, &code, "transfer", json!({})).await);
        // forward before the transfer: wrong state (the admin sees every dossier).
        illegal(
            app.act(&app.admin_token, &code, "forward", json!({})).await,
            "received",
            &["transfer", "request_withdrawal"],
        );
        app.clock.advance(chrono::Duration::hours(1)); // Mon 10:00
        let t = app
            .act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        assert_eq!(t.body["state"], "processing");
        assert_eq!(t.body["current_unit"], "U1");
        // B1: Mon 10:00 + 3 wd → Thu 06/03 10:00. The dossier's due time does not move.
        assert_eq!(t.body["current_step"]["code"], "B1");
        assert_eq!(
            t.body["current_step"]["due_at"],
            "2025-03-06T10:00:00+07:00"
        );
        assert_eq!(t.body["due_at"], "2025-03-10T09:00:00+07:00");
        let row = last_row(&app, &code).await;
        assert_eq!(
            (&row["action"], &row["from_state"], &row["to_state"]),
            (&json!("transfer"), &json!("received"), &json!("processing"))
        );
        assert_eq!(row["step"], "B1");
        assert_eq!(row["step_unit"], "U1");
        assert_eq!(row["step_due_at"], "2025-03-06T10:00:00+07:00");
        assert!(row["closed_step"].is_null());
        illegal(
            app.act(&o.clerk, &code, "transfer", json!({})).await,
            "processing",
            &["request_withdrawal"],
        );

        // forward (4 → 4, officer or leader).
        forbidden(app.act(&o.clerk, &code, "forward", json!({})).await);
        forbidden(app.act(&o.viewer, &code, "forward", json!({})).await);
        invalid(
            app.act(&o.officer, &code, "forward", json!({"to_step": "B9"}))
                .await,
            "to_step",
        );
        // B1 ends Fri 07/03 10:00, a day after its due time Thu 06/03 10:00: late.
        // B2: Fri 10:00 + 2 wd (Mon 10, Tue 11) → Tue 11/03 10:00.
        set_clock(&app, "2025-03-07T10:00:00+07:00");
        let f = app
            .act(
                &o.officer,
                &code,
                "forward",
                json!({"note": "Đủ điều kiện"}),
            )
            .await
            .expect(200);
        assert_eq!(f.body["state"], "processing");
        assert_eq!(f.body["current_step"]["code"], "B2");
        assert_eq!(
            f.body["current_step"]["due_at"],
            "2025-03-11T10:00:00+07:00"
        );
        assert_eq!(f.body["due_at"], "2025-03-10T09:00:00+07:00");
        let row = last_row(&app, &code).await;
        assert_eq!(row["action"], "forward");
        assert_eq!(row["closed_step"], "B1");
        assert_eq!(row["closed_step_due_at"], "2025-03-06T10:00:00+07:00");
        assert_eq!(row["step_timeliness"], "late");
        assert_eq!(row["step"], "B2");
        assert_eq!(row["step_due_at"], "2025-03-11T10:00:00+07:00");
        // B2 is the last step: only a decision ends it.
        app.act(&o.leader, &code, "forward", json!({}))
            .await
            .expect_problem(409, "dossier.last_step");

        // Back to a named step on B2's due date, before its due time: B2 ends on time.
        // B1 again: Tue 11/03 09:00 + 3 wd → Fri 14/03 09:00.
        set_clock(&app, "2025-03-11T09:00:00+07:00");
        let back = app
            .act(&o.leader, &code, "forward", json!({"to_step": "B1"}))
            .await
            .expect(200);
        assert_eq!(back.body["current_step"]["code"], "B1");
        assert_eq!(
            back.body["current_step"]["due_at"],
            "2025-03-14T09:00:00+07:00"
        );
        let row = last_row(&app, &code).await;
        assert_eq!(row["closed_step"], "B2");
        assert_eq!(row["step_timeliness"], "on_time");
        assert_eq!(row["actor"], "leader1");
        assert_eq!(row["role"], "leader");

        // After the decision the workflow is over: forwarding is a wrong-state action.
        app.act(
            &o.leader,
            &code,
            "approve",
            json!({"result_reference": "1/QĐ"}),
        )
        .await
        .expect(200);
        illegal(
            app.act(&o.officer, &code, "forward", json!({})).await,
            "resolved",
            &[],
        );
    }
);

backend_test!(
    leader_may_transfer_and_decide_withdrawals_before_the_first_step,
    |app| {
        let o = app.office().await;
        // Design §4: transfer (2 → 4) is for clerks and leaders; stop and decline_withdrawal
        // are for leaders, from withdrawal_requested whatever the state before it (2, 4, 5, 6).
        // A received dossier has no current unit yet; its first step is in U1, the leader's.
        let code = received(&app, &o, "P1").await;
        let withdrawn = received(&app, &o, "P1").await;
        let stopped = received(&app, &o, "P1").await;
        for c in [&withdrawn, &stopped] {
            app.act(&o.clerk, c, "request_withdrawal", json!({}))
                .await
                .expect(200);
        }
        // Asked Mon 09:00 while received, declined Mon 11:00: 2 h frozen, so due
        // Mon 10/03 09:00 → Mon 10/03 11:00, back in `received`.
        app.clock.advance(chrono::Duration::hours(2));
        let t = app.act(&o.leader, &code, "transfer", json!({})).await;
        let d = app
            .act(
                &o.leader,
                &withdrawn,
                "decline_withdrawal",
                json!({"reasons": "Không đủ căn cứ"}),
            )
            .await;
        let s = app
            .act(
                &o.leader,
                &stopped,
                "stop",
                json!({"reasons": "Công dân rút hồ sơ"}),
            )
            .await;
        let statuses = [t.status.as_u16(), d.status.as_u16(), s.status.as_u16()];
        assert_eq!(
            statuses,
            [200, 200, 200],
            "leader transfer / decline_withdrawal / stop:\n{}\n{}\n{}",
            t.text,
            d.text,
            s.text
        );
        assert_eq!(t.body["state"], "processing");
        assert_eq!(t.body["current_step"]["code"], "B1");
        assert_eq!(d.body["state"], "received");
        assert_eq!(d.body["due_at"], "2025-03-10T11:00:00+07:00");
        assert_eq!(s.body["state"], "stopped");
        // The leader's own queue lists what they may transfer.
        let mine = app
            .get("/api/v1/dossiers?state=received", Some(&o.leader))
            .await
            .expect(200);
        assert_eq!(mine.body["total"], 1, "{}", mine.text);
    }
);

backend_test!(approve_and_reject_are_judged_against_due_at, |app| {
    let o = app.office().await;
    // Three dossiers received Mon 03/03 09:00, all due Mon 10/03 09:00, forwarded to B2 at
    // once (B2 due Mon 09:00 + 2 wd = Wed 05/03 09:00).
    let mut codes = Vec::new();
    for _ in 0..3 {
        let c = processing(&app, &o, "P1").await;
        app.act(&o.officer, &c, "forward", json!({}))
            .await
            .expect(200);
        codes.push(c);
    }
    let (on_time, late, rejected) = (&codes[0], &codes[1], &codes[2]);
    let fresh = received(&app, &o, "P1").await;

    // approve (4 → 9, leader).
    forbidden(app.act(&o.officer, on_time, "approve", json!({})).await);
    forbidden(app.act(&o.clerk, on_time, "approve", json!({})).await);
    illegal(
        app.act(&app.admin_token, &fresh, "approve", json!({}))
            .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    // Mon 10/03 08:00: the due date, before the due time → on_time. B2 (due Wed 05/03
    // 09:00) ends late.
    set_clock(&app, "2025-03-10T08:00:00+07:00");
    let a = app
        .act(
            &o.leader,
            on_time,
            "approve",
            json!({"result_reference": "12/GP-UBND", "electronic_result": true}),
        )
        .await
        .expect(200);
    assert_eq!(a.body["state"], "resolved");
    assert_eq!(a.body["status_code"], 9);
    assert_eq!(a.body["outcome"], "approved");
    assert_eq!(a.body["timeliness"], "on_time", "{}", a.text);
    assert_eq!(a.body["resolved_at"], "2025-03-10T08:00:00+07:00");
    assert_eq!(a.body["result_reference"], "12/GP-UBND");
    assert!(a.body["current_step"].is_null());
    assert_eq!(a.body["overdue"], false);
    let row = last_row(&app, on_time).await;
    assert_eq!(row["action"], "approve");
    assert_eq!(row["to_state"], "resolved");
    assert_eq!(row["closed_step"], "B2");
    assert_eq!(row["step_timeliness"], "late");

    // Mon 10/03 09:30, half an hour after the due time → late.
    set_clock(&app, "2025-03-10T09:30:00+07:00");
    let l = app
        .act(
            &o.leader,
            late,
            "approve",
            json!({"result_reference": "13/GP"}),
        )
        .await
        .expect(200);
    assert_eq!(l.body["timeliness"], "late", "{}", l.text);
    illegal(
        app.act(&o.leader, late, "approve", json!({})).await,
        "resolved",
        &[],
    );

    // reject (4 → 9, leader, reasons): the third dossier, rejected at the same 09:30, is
    // late too, and its reasons are kept.
    forbidden(
        app.act(&o.officer, rejected, "reject", json!({"reasons": "x"}))
            .await,
    );
    invalid(
        app.act(
            &o.leader,
            rejected,
            "reject",
            json!({"result_reference": "14/TB"}),
        )
        .await,
        "reasons",
    );
    illegal(
        app.act(&app.admin_token, &fresh, "reject", json!({"reasons": "x"}))
            .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    let r = app
        .act(
            &o.leader,
            rejected,
            "reject",
            json!({"reasons": ["Không đủ điều kiện"], "result_reference": "14/TB"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["state"], "resolved");
    assert_eq!(r.body["outcome"], "rejected");
    assert_eq!(r.body["timeliness"], "late");
    assert_eq!(
        last_row(&app, rejected).await["details"]["reasons"],
        json!(["Không đủ điều kiện"])
    );
    illegal(
        app.act(&o.leader, rejected, "reject", json!({"reasons": "x"}))
            .await,
        "resolved",
        &[],
    );

    // A decision on the day of receipt is early (Mon 03/03 < Mon 10/03).
    set_clock(&app, "2025-03-10T10:00:00+07:00");
    let e = processing(&app, &o, "P1").await; // received Mon 10/03 10:00, due Mon 17/03 10:00
    let r = app
        .act(&o.leader, &e, "reject", json!({"reasons": "Hồ sơ giả mạo"}))
        .await
        .expect(200);
    assert_eq!(r.body["timeliness"], "early");
    // B1 (due Thu 13/03 10:00) closed by the decision, on its start day: early.
    assert_eq!(last_row(&app, &e).await["step_timeliness"], "early");
});

backend_test!(deliver_records_method_and_rating, |app| {
    let o = app.office().await;
    let code = processing(&app, &o, "P1").await;
    // deliver (9 → 10, clerk, method).
    illegal(
        app.act(&o.clerk, &code, "deliver", json!({"method": "counter"}))
            .await,
        "processing",
        &["request_withdrawal"],
    );
    app.act(
        &o.leader,
        &code,
        "approve",
        json!({"result_reference": "9/GP"}),
    )
    .await
    .expect(200);
    forbidden(
        app.act(&o.officer, &code, "deliver", json!({"method": "counter"}))
            .await,
    );
    forbidden(
        app.act(&o.leader, &code, "deliver", json!({"method": "counter"}))
            .await,
    );
    invalid(
        app.act(&o.clerk, &code, "deliver", json!({"satisfaction": 5}))
            .await,
        "method",
    );
    invalid(
        app.act(&o.clerk, &code, "deliver", json!({"method": "pigeon"}))
            .await,
        "method",
    );
    invalid(
        app.act(
            &o.clerk,
            &code,
            "deliver",
            json!({"method": "post", "satisfaction": 6}),
        )
        .await,
        "satisfaction",
    );
    app.clock.advance(chrono::Duration::hours(2)); // Mon 11:00
    let d = app
        .act(
            &o.clerk,
            &code,
            "deliver",
            json!({"method": "post", "satisfaction": 4}),
        )
        .await
        .expect(200);
    assert_eq!(d.body["state"], "delivered");
    assert_eq!(d.body["status_code"], 10);
    assert_eq!(d.body["delivered_at"], "2025-03-03T11:00:00+07:00");
    assert_eq!(d.body["delivery_method"], "post");
    assert_eq!(d.body["satisfaction"], 4);
    // Delivery does not re-judge the decision, taken Mon 09:00 (early).
    assert_eq!(d.body["timeliness"], "early");
    assert!(strs(&d.body["allowed_actions"]).is_empty());
    let row = last_row(&app, &code).await;
    assert_eq!(
        (&row["from_state"], &row["to_state"]),
        (&json!("resolved"), &json!("delivered"))
    );
    illegal(
        app.act(&o.clerk, &code, "deliver", json!({"method": "counter"}))
            .await,
        "delivered",
        &[],
    );
});

backend_test!(
    supplement_with_pause_moves_due_by_the_working_time_waited,
    |app| {
        let o = app.office().await;
        // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00, B1 due Thu 06/03 09:00.
        let fresh = received(&app, &o, "P1").await;
        let code = processing(&app, &o, "P1").await;
        let other = processing(&app, &o, "P1").await;
        let ask = json!({"reasons": ["Bản sao chưa chứng thực"], "items": ["TP02"],
                         "applicant_deadline": "2025-03-14T17:00:00+07:00"});

        // request_supplement (4 → 5, officer or leader, reasons and items).
        forbidden(
            app.act(&o.clerk, &code, "request_supplement", ask.clone())
                .await,
        );
        illegal(
            app.act(&app.admin_token, &fresh, "request_supplement", ask.clone())
                .await,
            "received",
            &["transfer", "request_withdrawal"],
        );
        invalid(
            app.act(
                &o.officer,
                &code,
                "request_supplement",
                json!({"items": ["TP02"]}),
            )
            .await,
            "reasons",
        );
        for items in [json!(null), json!([]), json!(["TP09"])] {
            invalid(
                app.act(
                    &o.officer,
                    &code,
                    "request_supplement",
                    json!({"reasons": "x", "items": items}),
                )
                .await,
                "items",
            );
        }

        // Paused Tue 04/03 10:00.
        set_clock(&app, "2025-03-04T10:00:00+07:00");
        let s = app
            .act(&o.officer, &code, "request_supplement", ask.clone())
            .await
            .expect(200);
        assert_eq!(s.body["state"], "supplement_requested");
        assert_eq!(s.body["status_code"], 5);
        assert_eq!(s.body["supplement_count"], 1);
        assert_eq!(s.body["due_at"], "2025-03-10T09:00:00+07:00");
        let row = last_row(&app, &code).await;
        assert_eq!(row["action"], "request_supplement");
        assert_eq!(row["details"]["items"], json!(["TP02"]));
        assert_eq!(row["details"]["policy"], "pause");
        illegal(
            app.act(&o.officer, &code, "request_supplement", ask.clone())
                .await,
            "supplement_requested",
            &[],
        );

        // supplement_received (5 → 4, clerk).
        forbidden(
            app.act(&o.officer, &code, "supplement_received", json!({}))
                .await,
        );
        illegal(
            app.act(&o.clerk, &other, "supplement_received", json!({}))
                .await,
            "processing",
            &["request_withdrawal"],
        );
        // Resumed Thu 06/03 10:00: Tue 10:00 → Thu 10:00 is 16 working hours (2 wd).
        // Due Mon 10/03 09:00 + 16 h → Wed 12/03 09:00; B1 Thu 06/03 09:00 + 16 h → Mon 10/03 09:00.
        set_clock(&app, "2025-03-06T10:00:00+07:00");
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["state"], "processing");
        assert_eq!(r.body["due_at"], "2025-03-12T09:00:00+07:00", "{}", r.text);
        assert_eq!(r.body["due_at_current"], "2025-03-12T09:00:00+07:00");
        assert_eq!(r.body["current_step"]["code"], "B1");
        assert_eq!(
            r.body["current_step"]["due_at"],
            "2025-03-10T09:00:00+07:00"
        );
        let row = last_row(&app, &code).await;
        assert_eq!(row["action"], "supplement_received");
        assert_eq!(row["details"]["waited_working_minutes"], 960);
        assert_eq!(row["due_at"], "2025-03-12T09:00:00+07:00");

        // P1 allows one request per dossier.
        app.act(&o.officer, &code, "request_supplement", ask)
            .await
            .expect_problem(409, "dossier.supplement_limit");
        let now = dossier(&app, &o.officer, &code).await;
        assert_eq!(now["supplement_count"], 1);
        assert_eq!(now["state"], "processing");
    }
);

backend_test!(
    supplement_with_restart_recomputes_due_and_respects_the_limit,
    |app| {
        let o = app.office().await;
        app.post(
            "/api/v1/procedures",
            Some(&app.admin_token),
            &crate::helpers::test_procedure("P2", "restart", 2),
        )
        .await
        .expect(201);
        // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00, B1 Thu 06/03 09:00.
        let code = processing(&app, &o, "P2").await;
        let ask = json!({"reasons": "Thiếu tài liệu", "items": ["TP03"]});

        set_clock(&app, "2025-03-04T10:00:00+07:00");
        let s = app
            .act(&o.officer, &code, "request_supplement", ask.clone())
            .await
            .expect(200);
        assert_eq!(s.body["supplement_count"], 1);
        assert_eq!(last_row(&app, &code).await["details"]["policy"], "restart");
        // Back Thu 06/03 14:00. Restart: the full 5 wd from now → Thu 13/03 14:00 (a pause
        // would have given Mon 10/03 09:00 + 18.5 h = Wed 12/03 11:30), and B1 starts over:
        // Thu 14:00 + 3 wd → Tue 11/03 14:00.
        set_clock(&app, "2025-03-06T14:00:00+07:00");
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["due_at"], "2025-03-13T14:00:00+07:00", "{}", r.text);
        assert_eq!(r.body["due_at_current"], "2025-03-13T14:00:00+07:00");
        assert_eq!(r.body["current_step"]["code"], "B1");
        assert_eq!(
            r.body["current_step"]["due_at"],
            "2025-03-11T14:00:00+07:00"
        );
        assert_eq!(
            last_row(&app, &code).await["details"]["waited_working_minutes"],
            1110
        );

        // Second request (P2 allows two): Fri 07/03 09:00, back Fri 15:00 →
        // due Fri 15:00 + 5 wd = Fri 14/03 15:00; B1 Fri 15:00 + 3 wd = Wed 12/03 15:00.
        set_clock(&app, "2025-03-07T09:00:00+07:00");
        app.act(&o.leader, &code, "request_supplement", ask.clone())
            .await
            .expect(200);
        set_clock(&app, "2025-03-07T15:00:00+07:00");
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["supplement_count"], 2);
        assert_eq!(r.body["due_at"], "2025-03-14T15:00:00+07:00");
        assert_eq!(
            r.body["current_step"]["due_at"],
            "2025-03-12T15:00:00+07:00"
        );

        app.act(&o.officer, &code, "request_supplement", ask)
            .await
            .expect_problem(409, "dossier.supplement_limit");
    }
);

backend_test!(payment_request_and_receipt_keep_the_clock_running, |app| {
    let o = app.office().await;
    // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00.
    let fresh = received(&app, &o, "P1").await;
    let code = processing(&app, &o, "P1").await;
    let other = processing(&app, &o, "P1").await;

    // request_payment (4 → 6, officer or leader, amount).
    forbidden(
        app.act(
            &o.clerk,
            &code,
            "request_payment",
            json!({"amount_vnd": 500_000}),
        )
        .await,
    );
    illegal(
        app.act(
            &app.admin_token,
            &fresh,
            "request_payment",
            json!({"amount_vnd": 500_000}),
        )
        .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    invalid(
        app.act(&o.officer, &code, "request_payment", json!({"note": "phí"}))
            .await,
        "amount_vnd",
    );
    invalid(
        app.act(
            &o.officer,
            &code,
            "request_payment",
            json!({"amount_vnd": 0}),
        )
        .await,
        "amount_vnd",
    );
    set_clock(&app, "2025-03-04T09:00:00+07:00");
    let p = app
        .act(
            &o.officer,
            &code,
            "request_payment",
            json!({"amount_vnd": 500_000}),
        )
        .await
        .expect(200);
    assert_eq!(p.body["state"], "awaiting_payment");
    assert_eq!(p.body["status_code"], 6);
    assert_eq!(p.body["due_at"], "2025-03-10T09:00:00+07:00");
    assert_eq!(
        last_row(&app, &code).await["details"]["amount_vnd"],
        500_000
    );
    illegal(
        app.act(
            &o.officer,
            &code,
            "request_payment",
            json!({"amount_vnd": 1}),
        )
        .await,
        "awaiting_payment",
        &[],
    );

    // The clock runs while the applicant pays: after Mon 10/03 09:00 the dossier is overdue.
    set_clock(&app, "2025-03-10T10:00:00+07:00");
    let now = dossier(&app, &o.clerk, &code).await;
    assert_eq!(now["overdue"], true, "{now}");
    assert!(listed(&app, "overdue=true").await.contains(&code));

    // payment_received (6 → 4, clerk): nothing to give back to the clock.
    forbidden(
        app.act(&o.officer, &code, "payment_received", json!({}))
            .await,
    );
    illegal(
        app.act(&o.clerk, &other, "payment_received", json!({}))
            .await,
        "processing",
        &["request_withdrawal"],
    );
    let r = app
        .act(
            &o.clerk,
            &code,
            "payment_received",
            json!({"reference": "BL-0001", "online": true}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["state"], "processing");
    assert_eq!(r.body["due_at"], "2025-03-10T09:00:00+07:00");
    assert_eq!(
        r.body["current_step"]["due_at"],
        "2025-03-06T09:00:00+07:00"
    );
    let row = last_row(&app, &code).await;
    assert_eq!(row["action"], "payment_received");
    assert_eq!(row["details"]["reference"], "BL-0001");
    assert_eq!(row["details"]["online"], true);
});

backend_test!(
    withdrawal_declined_from_processing_resumes_the_frozen_clock,
    |app| {
        let o = app.office().await;
        // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00, B1 Thu 06/03 09:00.
        let code = processing(&app, &o, "P1").await;
        let other = processing(&app, &o, "P1").await;
        let online = file_online(&app, &o).await;

        // request_withdrawal (2,4,5,6 → 7, clerk).
        forbidden(
            app.act(&o.officer, &code, "request_withdrawal", json!({}))
                .await,
        );
        forbidden(
            app.act(&o.leader, &code, "request_withdrawal", json!({}))
                .await,
        );
        illegal(
            app.act(&o.clerk, &online, "request_withdrawal", json!({}))
                .await,
            "submitted",
            &["ask_completion", "accept", "refuse"],
        );
        set_clock(&app, "2025-03-04T09:00:00+07:00");
        let w = app
            .act(
                &o.clerk,
                &code,
                "request_withdrawal",
                json!({"note": "Đơn xin rút hồ sơ ngày 04/03"}),
            )
            .await
            .expect(200);
        assert_eq!(w.body["state"], "withdrawal_requested");
        assert_eq!(w.body["status_code"], 7);
        assert_eq!(w.body["due_at"], "2025-03-10T09:00:00+07:00");
        illegal(
            app.act(&o.clerk, &code, "request_withdrawal", json!({}))
                .await,
            "withdrawal_requested",
            &[],
        );

        // decline_withdrawal (7 → previous, leader, reasons).
        forbidden(
            app.act(
                &o.clerk,
                &code,
                "decline_withdrawal",
                json!({"reasons": "x"}),
            )
            .await,
        );
        forbidden(
            app.act(
                &o.officer,
                &code,
                "decline_withdrawal",
                json!({"reasons": "x"}),
            )
            .await,
        );
        invalid(
            app.act(&o.leader, &code, "decline_withdrawal", json!({}))
                .await,
            "reasons",
        );
        illegal(
            app.act(
                &o.leader,
                &other,
                "decline_withdrawal",
                json!({"reasons": "x"}),
            )
            .await,
            "processing",
            &LEADER_PROCESSING,
        );
        // Declined Wed 05/03 11:00. Frozen Tue 09:00 → Wed 11:00 = 6.5 h + 3.5 h = 10 h.
        // Due Mon 10/03 09:00 + 10 h = (2.5 + 4) Mon, 3.5 Tue → Tue 11/03 11:00;
        // B1 Thu 06/03 09:00 + 10 h → Fri 07/03 11:00.
        set_clock(&app, "2025-03-05T11:00:00+07:00");
        let d = app
            .act(
                &o.leader,
                &code,
                "decline_withdrawal",
                json!({"reasons": ["Hồ sơ đã được thẩm định xong"]}),
            )
            .await
            .expect(200);
        assert_eq!(d.body["state"], "processing");
        assert_eq!(d.body["due_at"], "2025-03-11T11:00:00+07:00", "{}", d.text);
        assert_eq!(d.body["due_at_current"], "2025-03-11T11:00:00+07:00");
        assert_eq!(
            d.body["current_step"]["due_at"],
            "2025-03-07T11:00:00+07:00"
        );
        let row = last_row(&app, &code).await;
        assert_eq!(
            (&row["from_state"], &row["to_state"]),
            (&json!("withdrawal_requested"), &json!("processing"))
        );
        assert_eq!(row["due_at"], "2025-03-11T11:00:00+07:00");

        // From awaiting_payment, a declined withdrawal goes back to awaiting_payment.
        app.act(
            &o.officer,
            &other,
            "request_payment",
            json!({"amount_vnd": 1000}),
        )
        .await
        .expect(200);
        app.act(&o.clerk, &other, "request_withdrawal", json!({}))
            .await
            .expect(200);
        let back = app
            .act(
                &o.leader,
                &other,
                "decline_withdrawal",
                json!({"reasons": "x"}),
            )
            .await
            .expect(200);
        assert_eq!(back.body["state"], "awaiting_payment");
    }
);

backend_test!(withdrawal_during_a_supplement_wait_and_stop, |app| {
    let o = app.office().await;
    // Three dossiers received and transferred Mon 03/03 09:00 (due Mon 10/03 09:00), asked
    // to supplement Tue 04/03 10:00.
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(processing(&app, &o, "P1").await);
    }
    let running = processing(&app, &o, "P1").await;
    set_clock(&app, "2025-03-04T10:00:00+07:00");
    for c in &codes {
        app.act(
            &o.officer,
            c,
            "request_supplement",
            json!({"reasons": "x", "items": ["TP01"]}),
        )
        .await
        .expect(200);
    }
    let (withdrawn, declined, lapsed) = (&codes[0], &codes[1], &codes[2]);

    // stop (7,5 → 8, leader, reasons).
    illegal(
        app.act(&o.leader, &running, "stop", json!({"reasons": "x"}))
            .await,
        "processing",
        &LEADER_PROCESSING,
    );
    set_clock(&app, "2025-03-05T10:00:00+07:00");
    for c in [withdrawn, declined] {
        let w = app
            .act(&o.clerk, c, "request_withdrawal", json!({}))
            .await
            .expect(200);
        assert_eq!(w.body["state"], "withdrawal_requested");
    }
    forbidden(
        app.act(&o.clerk, withdrawn, "stop", json!({"reasons": "x"}))
            .await,
    );
    forbidden(
        app.act(&o.officer, withdrawn, "stop", json!({"reasons": "x"}))
            .await,
    );
    invalid(
        app.act(&o.leader, withdrawn, "stop", json!({"note": "rút"}))
            .await,
        "reasons",
    );
    let s = app
        .act(
            &o.leader,
            withdrawn,
            "stop",
            json!({"reasons": "Công dân rút hồ sơ"}),
        )
        .await
        .expect(200);
    assert_eq!(s.body["state"], "stopped");
    assert_eq!(s.body["status_code"], 8);
    assert_eq!(s.body["finished_at"], "2025-03-05T10:00:00+07:00");
    assert_eq!(s.body["overdue"], false);
    assert!(strs(&s.body["allowed_actions"]).is_empty());
    let row = last_row(&app, withdrawn).await;
    assert_eq!(
        (&row["from_state"], &row["to_state"]),
        (&json!("withdrawal_requested"), &json!("stopped"))
    );
    illegal(
        app.act(&o.clerk, withdrawn, "supplement_received", json!({}))
            .await,
        "stopped",
        &[],
    );

    // Declined Wed 11:00: back to waiting for the supplement; the clock stays paused since
    // Tue 10:00, so on receipt Thu 06/03 10:00 the wait is 16 h: due → Wed 12/03 09:00.
    set_clock(&app, "2025-03-05T11:00:00+07:00");
    let d = app
        .act(
            &o.leader,
            declined,
            "decline_withdrawal",
            json!({"reasons": "x"}),
        )
        .await
        .expect(200);
    assert_eq!(d.body["state"], "supplement_requested");
    assert_eq!(d.body["due_at"], "2025-03-10T09:00:00+07:00");
    set_clock(&app, "2025-03-06T10:00:00+07:00");
    let r = app
        .act(&o.clerk, declined, "supplement_received", json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["due_at"], "2025-03-12T09:00:00+07:00", "{}", r.text);

    // A supplement that never came: stopped straight from supplement_requested.
    let l = app
        .act(
            &o.leader,
            lapsed,
            "stop",
            json!({"reasons": "Quá hạn bổ sung hồ sơ"}),
        )
        .await
        .expect(200);
    assert_eq!(l.body["state"], "stopped");
    let row = last_row(&app, lapsed).await;
    assert_eq!(row["from_state"], "supplement_requested");
});

backend_test!(apology_once_moves_due_at_current_only, |app| {
    let o = app.office().await;
    // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00.
    let fresh = received(&app, &o, "P1").await;
    let early = processing(&app, &o, "P1").await;
    let late = processing(&app, &o, "P1").await;
    let waiting = processing(&app, &o, "P1").await;
    let apology =
        |new_due: &str| json!({"reasons": "Cần xác minh thực địa", "new_due_at": new_due});

    // apologize (4,5,6 stays, leader, reason + new appointment, once).
    forbidden(
        app.act(
            &o.officer,
            &early,
            "apologize",
            apology("2025-03-12T09:00:00+07:00"),
        )
        .await,
    );
    forbidden(
        app.act(
            &o.clerk,
            &early,
            "apologize",
            apology("2025-03-12T09:00:00+07:00"),
        )
        .await,
    );
    illegal(
        app.act(
            &app.admin_token,
            &fresh,
            "apologize",
            apology("2025-03-12T09:00:00+07:00"),
        )
        .await,
        "received",
        &["transfer", "request_withdrawal"],
    );
    invalid(
        app.act(
            &o.leader,
            &early,
            "apologize",
            json!({"new_due_at": "2025-03-12T09:00:00+07:00"}),
        )
        .await,
        "reasons",
    );
    invalid(
        app.act(&o.leader, &early, "apologize", json!({"reasons": "x"}))
            .await,
        "new_due_at",
    );
    // A new appointment must be later than the current one.
    invalid(
        app.act(
            &o.leader,
            &early,
            "apologize",
            apology("2025-03-07T09:00:00+07:00"),
        )
        .await,
        "new_due_at",
    );

    // Fri 07/03 09:00 is exactly one working day before Mon 10/03 09:00: in time.
    set_clock(&app, "2025-03-07T09:00:00+07:00");
    let a = app
        .act(
            &o.leader,
            &early,
            "apologize",
            apology("2025-03-12T09:00:00+07:00"),
        )
        .await
        .expect(200);
    assert_eq!(a.body["state"], "processing");
    assert_eq!(a.body["due_at"], "2025-03-10T09:00:00+07:00");
    assert_eq!(a.body["due_at_current"], "2025-03-12T09:00:00+07:00");
    assert_eq!(a.body["apology"]["late"], false, "{}", a.text);
    assert_eq!(a.body["apology"]["reason"], "Cần xác minh thực địa");
    assert_eq!(
        at(a.body["apology"]["new_due_at"].as_str().unwrap()),
        at("2025-03-12T09:00:00+07:00")
    );
    let row = last_row(&app, &early).await;
    assert_eq!(
        (&row["action"], &row["from_state"], &row["to_state"]),
        (
            &json!("apologize"),
            &json!("processing"),
            &json!("processing")
        )
    );
    assert_eq!(row["due_at"], "2025-03-10T09:00:00+07:00");
    app.act(
        &o.leader,
        &early,
        "apologize",
        apology("2025-03-13T09:00:00+07:00"),
    )
    .await
    .expect_problem(409, "dossier.already_apologized");

    // Fri 07/03 10:00: 7 working hours left, less than a day → accepted but late.
    set_clock(&app, "2025-03-07T10:00:00+07:00");
    let b = app
        .act(
            &o.leader,
            &late,
            "apologize",
            apology("2025-03-12T09:00:00+07:00"),
        )
        .await
        .expect(200);
    assert_eq!(b.body["apology"]["late"], true, "{}", b.text);
    assert_eq!(b.body["due_at"], "2025-03-10T09:00:00+07:00");
    assert_eq!(b.body["due_at_current"], "2025-03-12T09:00:00+07:00");

    // While waiting for a supplement the leader may apologise too; the state stays.
    app.act(
        &o.officer,
        &waiting,
        "request_supplement",
        json!({"reasons": "x", "items": ["TP01"]}),
    )
    .await
    .expect(200);
    let c = app
        .act(
            &o.leader,
            &waiting,
            "apologize",
            apology("2025-03-14T09:00:00+07:00"),
        )
        .await
        .expect(200);
    assert_eq!(c.body["state"], "supplement_requested");

    // The decision is judged against due_at (the legal appointment), not the apology's time:
    // Tue 11/03 09:00 is after Mon 10/03 09:00 → late, though before Wed 12/03.
    set_clock(&app, "2025-03-11T09:00:00+07:00");
    let d = app
        .act(
            &o.leader,
            &early,
            "approve",
            json!({"result_reference": "5/GP"}),
        )
        .await
        .expect(200);
    assert_eq!(d.body["timeliness"], "late");
    illegal(
        app.act(
            &o.leader,
            &early,
            "apologize",
            apology("2025-03-20T09:00:00+07:00"),
        )
        .await,
        "resolved",
        &[],
    );
});

backend_test!(
    apology_while_waiting_for_a_supplement_uses_the_frozen_clock,
    |app| {
        let o = app.office().await;
        // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00. Paused Tue 04/03
        // 10:00 with 5.5 + 8 + 8 + 8 + 1.5 = 31 working hours left.
        let code = processing(&app, &o, "P1").await;
        set_clock(&app, "2025-03-04T10:00:00+07:00");
        app.act(
            &o.officer,
            &code,
            "request_supplement",
            json!({"reasons": "x", "items": ["TP01"]}),
        )
        .await
        .expect(200);
        // Mon 10/03 10:00, still waiting: the clock is stopped with 31 h (almost 4 working days)
        // left, so the dossier is not overdue and an apology now is in time (design §4: due
        // one working day before the due time; the due time moves by the wait, §4/§5).
        set_clock(&app, "2025-03-10T10:00:00+07:00");
        let v = dossier(&app, &o.leader, &code).await;
        assert_eq!(v["overdue"], false);
        let a = app
        .act(
            &o.leader,
            &code,
            "apologize",
            json!({"reasons": "Chờ kết quả xác minh", "new_due_at": "2025-03-21T09:00:00+07:00"}),
        )
        .await
        .expect(200);
        assert_eq!(a.body["state"], "supplement_requested");
        assert_eq!(
            a.body["apology"]["late"], false,
            "31 working hours were left on the stopped clock: {}",
            a.text
        );
        // The supplement comes back at once: waited Tue 10:00 → Mon 10:00 = 32 h, so
        // due Mon 10/03 09:00 + 32 h → Fri 14/03 09:00, more than a day after the apology.
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["due_at"], "2025-03-14T09:00:00+07:00");
    }
);

backend_test!(back_entry_by_admins_only_and_never_out_of_order, |app| {
    let o = app.office().await;
    let mut paper = crate::helpers::dossier_body("P1", "direct");
    // Back-entered receipt Wed 26/02 10:00 + 5 wd (Thu 27, Fri 28, Mon 03, Tue 04, Wed 05)
    // → due Wed 05/03 10:00; the code carries the receipt date.
    paper["received_at"] = json!("2025-02-26T10:00:00+07:00");
    forbidden(app.post("/api/v1/dossiers", Some(&o.clerk), &paper).await);
    let d = app
        .post("/api/v1/dossiers", Some(&app.admin_token), &paper)
        .await
        .expect(201);
    assert_eq!(d.body["state"], "received");
    assert_eq!(d.body["received_at"], "2025-02-26T10:00:00+07:00");
    assert_eq!(d.body["due_at"], "2025-03-05T10:00:00+07:00", "{}", d.text);
    assert!(code_of(&d.body).contains("-250226-"), "{}", d.text);
    let code = code_of(&d.body);
    let mut future = paper.clone();
    future["received_at"] = json!("2025-03-03T09:30:00+07:00"); // now is 09:00
    invalid(
        app.post("/api/v1/dossiers", Some(&app.admin_token), &future)
            .await,
        "received_at",
    );

    // occurred_at: admins only, not in the future, not before the last event.
    forbidden(
        app.act(
            &o.clerk,
            &code,
            "transfer",
            json!({"occurred_at": "2025-02-27T10:00:00+07:00"}),
        )
        .await,
    );
    invalid(
        app.act(
            &app.admin_token,
            &code,
            "transfer",
            json!({"occurred_at": "2025-02-25T10:00:00+07:00"}),
        )
        .await,
        "occurred_at",
    );
    invalid(
        app.act(
            &app.admin_token,
            &code,
            "transfer",
            json!({"occurred_at": "2025-03-03T09:30:00+07:00"}),
        )
        .await,
        "occurred_at",
    );
    // Transferred Thu 27/02 10:00: B1 + 3 wd (Fri 28, Mon 03, Tue 04) → Tue 04/03 10:00.
    let t = app
        .act(
            &app.admin_token,
            &code,
            "transfer",
            json!({"occurred_at": "2025-02-27T10:00:00+07:00"}),
        )
        .await
        .expect(200);
    assert_eq!(
        t.body["current_step"]["due_at"],
        "2025-03-04T10:00:00+07:00"
    );
    let row = last_row(&app, &code).await;
    assert_eq!(row["at"], "2025-02-27T10:00:00+07:00");
    assert_eq!(row["actor"], "admin");
    assert_eq!(row["role"], "admin");
    assert_eq!(row["recorded_at"], "2025-03-03T09:00:00+07:00");
    invalid(
        app.act(
            &app.admin_token,
            &code,
            "forward",
            json!({"occurred_at": "2025-02-26T15:00:00+07:00"}),
        )
        .await,
        "occurred_at",
    );
    // Forwarded Fri 28/02 10:00: B1 ends early; B2 + 2 wd → Tue 04/03 10:00.
    app.act(
        &app.admin_token,
        &code,
        "forward",
        json!({"occurred_at": "2025-02-28T10:00:00+07:00"}),
    )
    .await
    .expect(200);
    let row = last_row(&app, &code).await;
    assert_eq!(row["step_timeliness"], "early");
    assert_eq!(row["step_due_at"], "2025-03-04T10:00:00+07:00");
    // Approved Mon 03/03 08:00, before the due date Wed 05/03 → early.
    let a = app
        .act(
            &app.admin_token,
            &code,
            "approve",
            json!({"occurred_at": "2025-03-03T08:00:00+07:00", "result_reference": "1/GP"}),
        )
        .await
        .expect(200);
    assert_eq!(a.body["resolved_at"], "2025-03-03T08:00:00+07:00");
    assert_eq!(a.body["timeliness"], "early");
    let rows = history(&app, &code).await;
    let ats: Vec<&str> = rows.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert_eq!(
        ats,
        [
            "2025-02-26T10:00:00+07:00",
            "2025-02-27T10:00:00+07:00",
            "2025-02-28T10:00:00+07:00",
            "2025-03-03T08:00:00+07:00"
        ]
    );
});

backend_test!(calendar_change_recomputes_due_times_never_earlier, |app| {
    let o = app.office().await;
    // Received Mon 03/03 09:00 → due Mon 10/03 09:00.
    let open = received(&app, &o, "P1").await;
    let done = processing(&app, &o, "P1").await;
    app.act(
        &o.leader,
        &done,
        "approve",
        json!({"result_reference": "2/GP"}),
    )
    .await
    .expect(200);
    // Transferred Mon 09:00, paused Tue 04/03 10:00 (still waiting at the change).
    let paused = processing(&app, &o, "P1").await;
    set_clock(&app, "2025-03-04T10:00:00+07:00");
    app.act(
        &o.officer,
        &paused,
        "request_supplement",
        json!({"reasons": "x", "items": ["TP01"]}),
    )
    .await
    .expect(200);
    let done_rows = history(&app, &done).await.len();

    // Thu 06/03 becomes a holiday: Mon 03/03 09:00 + 5 wd now counts Tue, Wed, Fri, Mon,
    // Tue → due Tue 11/03 09:00.
    app.request(
        actix_web::http::Method::PUT,
        "/api/v1/calendar/days/2025-03-06",
        Some(&app.admin_token),
        Some(&json!({"kind": "holiday", "name": "Nghỉ đột xuất"})),
    )
    .await
    .expect(200);
    let d = dossier(&app, &o.clerk, &open).await;
    assert_eq!(d["due_at"], "2025-03-11T09:00:00+07:00", "{d}");
    assert_eq!(d["due_at_current"], "2025-03-11T09:00:00+07:00");
    let rows = history(&app, &open).await;
    let row = rows.last().unwrap();
    assert_eq!(row["action"], "calendar_recomputed");
    assert_eq!(row["from_state"], "received");
    assert_eq!(row["to_state"], "received");
    assert_eq!(row["due_at"], "2025-03-11T09:00:00+07:00");
    assert_eq!(
        at(row["details"]["old_due_at"].as_str().unwrap()),
        at("2025-03-10T09:00:00+07:00")
    );
    assert_eq!(
        at(row["details"]["new_due_at"].as_str().unwrap()),
        at("2025-03-11T09:00:00+07:00")
    );
    let open_rows = rows.len();
    // A finished dossier is left alone.
    assert_eq!(history(&app, &done).await.len(), done_rows);
    assert_eq!(
        dossier(&app, &o.clerk, &done).await["due_at"],
        "2025-03-10T09:00:00+07:00"
    );
    // The paused dossier moves too; when the supplement arrives Fri 07/03 10:00 the wait
    // Tue 10:00 → Fri 10:00 skips the holiday: 5.5 + 8 + 2.5 = 16 h, so
    // Tue 11/03 09:00 + 16 h → Thu 13/03 09:00.
    assert_eq!(
        dossier(&app, &o.clerk, &paused).await["due_at"],
        "2025-03-11T09:00:00+07:00"
    );
    set_clock(&app, "2025-03-07T10:00:00+07:00");
    let r = app
        .act(&o.clerk, &paused, "supplement_received", json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["due_at"], "2025-03-13T09:00:00+07:00", "{}", r.text);

    // Removing the holiday never makes a due time earlier, and changes no history.
    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/calendar/days/2025-03-06",
        Some(&app.admin_token),
        None,
    )
    .await
    .expect(204);
    let d = dossier(&app, &o.clerk, &open).await;
    assert_eq!(d["due_at"], "2025-03-11T09:00:00+07:00");
    assert_eq!(d["due_at_current"], "2025-03-11T09:00:00+07:00");
    assert_eq!(history(&app, &open).await.len(), open_rows);
});

backend_test!(overdue_and_due_soon_queues_follow_the_clock, |app| {
    let o = app.office().await;
    // Mon 03/03 09:00: `a` due Mon 10/03 09:00; `done` resolved at once; `waiting` paused
    // Tue 09:00 (same due, clock stopped). Tue 04/03 09:00: `b` due Tue 11/03 09:00.
    let a = received(&app, &o, "P1").await;
    let done = processing(&app, &o, "P1").await;
    app.act(
        &o.leader,
        &done,
        "approve",
        json!({"result_reference": "3/GP"}),
    )
    .await
    .expect(200);
    let waiting = processing(&app, &o, "P1").await;
    set_clock(&app, "2025-03-04T09:00:00+07:00");
    app.act(
        &o.officer,
        &waiting,
        "request_supplement",
        json!({"reasons": "x", "items": ["TP01"]}),
    )
    .await
    .expect(200);
    let b = received(&app, &o, "P1").await;

    // Fri 07/03 10:00: `a` has 1.5 + 4 + 1.5 = 7 working hours left (≤ 1 day) → due soon;
    // `b` has 15 h; `waiting` is paused; nothing is overdue.
    set_clock(&app, "2025-03-07T10:00:00+07:00");
    assert_eq!(listed(&app, "due_soon=true").await, [a.as_str()]);
    assert!(listed(&app, "overdue=true").await.is_empty());
    let view = dossier(&app, &o.clerk, &a).await;
    assert_eq!(
        (&view["due_soon"], &view["overdue"]),
        (&json!(true), &json!(false))
    );
    let view = dossier(&app, &o.clerk, &b).await;
    assert_eq!(view["due_soon"], false);

    // Mon 10/03 10:00: `a` is an hour past due → overdue (no longer due soon); `b` has
    // 7 h left → due soon. The resolved and the paused dossiers are in neither queue.
    set_clock(&app, "2025-03-10T10:00:00+07:00");
    assert_eq!(listed(&app, "overdue=true").await, [a.as_str()]);
    assert_eq!(listed(&app, "due_soon=true").await, [b.as_str()]);
    let view = dossier(&app, &o.clerk, &a).await;
    assert_eq!(
        (&view["due_soon"], &view["overdue"]),
        (&json!(false), &json!(true))
    );
    for c in [&done, &waiting] {
        let v = dossier(&app, &o.clerk, c).await;
        assert_eq!(
            (&v["due_soon"], &v["overdue"]),
            (&json!(false), &json!(false)),
            "{c}"
        );
    }

    // Other filters of the same list.
    assert_eq!(listed(&app, "state=resolved").await, [done.as_str()]);
    assert_eq!(
        listed(&app, "state=supplement_requested,resolved")
            .await
            .len(),
        2
    );
    assert_eq!(
        listed(&app, "received_from=2025-03-04&received_to=2025-03-04").await,
        [b.as_str()]
    );
    assert_eq!(listed(&app, &format!("q={b}")).await, [b.as_str()]);
});

backend_test!(queue_search_is_the_same_on_both_backends, |app| {
    let o = app.office().await;
    // Applicant "Công ty TNHH Thử Nghiệm", id 0108000001. `q` is a "contains" search of the
    // code, name or id (api.md); one query serves SQLite and PostgreSQL (design §10), so a
    // search typed in lower case finds the same dossiers on both.
    let code = received(&app, &o, "P1").await;
    assert_eq!(listed(&app, "q=0108000001").await, [code.as_str()]);
    assert_eq!(
        listed(&app, "q=Th%E1%BB%AD%20Nghi%E1%BB%87m").await,
        [code.as_str()]
    );
    assert_eq!(listed(&app, "q=tnhh").await, [code.as_str()], "q=tnhh");
});
