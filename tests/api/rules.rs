//! Issue 14's rules over HTTP: online acceptance needs a complete dossier (and components can
//! be added while it waits for completion), an apology during a supplement wait, the restart
//! policy's new appointment, the due-soon notice's lead time and procedures settled on the
//! spot. Same calendar facts as `actions.rs`: March 2025 has no special day, a working day is
//! 07:30–11:30 and 13:00–17:00, the clock starts Mon 03/03 09:00 (+07:00); P1 is 5 working
//! days, steps B1 (3 wd) and B2 (2 wd) in U1, supplements pause the clock.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::{TestApp, dossier_body, poll_until, test_procedure};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn code_of(d: &Value) -> String {
    d["code"].as_str().unwrap().to_owned()
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

async fn events_of(app: &TestApp, code: &str) -> Vec<String> {
    let n = app
        .get(
            &format!("/api/v1/notifications?dossier={code}"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    n.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap().to_owned())
        .collect()
}

backend_test!(
    accept_needs_the_checklist_and_components_can_be_added,
    |app| {
        let o = app.office().await;
        // Filed online with TP01 only: TP02 (required) is missing.
        let mut body = dossier_body("P1", "online");
        body["components"] = json!([{"item_code": "TP01", "kind": "electronic", "count": 1}]);
        let code = code_of(
            &app.post("/api/v1/dossiers", Some(&o.portal), &body)
                .await
                .expect(201)
                .body,
        );
        let r = app
            .act(&o.clerk, &code, "accept", json!({}))
            .await
            .expect_problem(422, "dossier.missing_items");
        assert_eq!(r.body["missing_items"], json!(["TP02"]), "{}", r.text);
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(
            d.body["state"], "submitted",
            "a refused accept changes nothing"
        );
        assert_eq!(d.body["version"], 1);
        app.act(
            &o.clerk,
            &code,
            "ask_completion",
            json!({"reasons": "Thiếu bản sao giấy tờ pháp lý"}),
        )
        .await
        .expect(200);

        let path = format!("/api/v1/dossiers/{code}/components");
        let tp02 = json!({"components": [{"item_code": "TP02", "kind": "electronic", "count": 1}],
                      "note": "Bổ sung qua cổng"});
        // Officers do not take in components; an unknown item is a field error; nothing changes.
        app.post(&path, Some(&o.officer), &tp02)
            .await
            .expect_problem(403, "auth.forbidden");
        let r = app
            .post(
                &path,
                Some(&o.portal),
                &json!({"components": [{"item_code": "XX", "kind": "copy"}]}),
            )
            .await
            .expect_problem(422, "validation.failed");
        assert!(
            r.body["errors"]["components[0].item_code"].is_string(),
            "{}",
            r.text
        );
        app.post(&path, Some(&o.portal), &json!({"components": []}))
            .await
            .expect_problem(422, "validation.failed");
        // The portal hands in the missing item for the applicant.
        let r = app.post(&path, Some(&o.portal), &tp02).await.expect(200);
        let items: Vec<&str> = r.body["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["item_code"].as_str().unwrap())
            .collect();
        assert_eq!(items, ["TP01", "TP02"], "{}", r.text);
        assert_eq!(r.body["state"], "submitted");
        let rows = history(&app, &code).await;
        let last = rows.last().unwrap();
        assert_eq!(last["action"], "add_components");
        assert_eq!(last["role"], "portal");
        assert_eq!(last["note"], "Bổ sung qua cổng");
        assert_eq!(last["details"]["components"][0]["item_code"], "TP02");

        let r = app
            .act(&o.clerk, &code, "accept", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["state"], "received");
        assert_eq!(r.body["due_at"], "2025-03-10T09:00:00+07:00");
        // Once received, components go in with a supplement only.
        app.post(&path, Some(&o.clerk), &tp02)
            .await
            .expect_problem(409, "dossier.illegal_transition");
    }
);

backend_test!(
    an_apology_in_a_supplement_wait_moves_only_by_the_later_wait,
    |app| {
        let o = app.office().await;
        // Received and transferred Mon 03/03 09:00: due Mon 10/03 09:00.
        let code = app.receive_code(&o.clerk, "P1").await;
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.clock.set(at("2025-03-04T09:00:00+07:00"));
        app.act(
            &o.officer,
            &code,
            "request_supplement",
            json!({"reasons": "Thiếu tài liệu", "items": ["TP03"]}),
        )
        .await
        .expect(200);
        // A day into the wait the leader promises Wed 12/03 09:00 (form 04).
        app.clock.set(at("2025-03-05T09:00:00+07:00"));
        let r = app
        .act(
            &o.leader,
            &code,
            "apologize",
            json!({"reasons": "Chờ ý kiến phối hợp", "new_due_at": "2025-03-12T09:00:00+07:00"}),
        )
        .await
        .expect(200);
        assert_eq!(r.body["due_at_current"], "2025-03-12T09:00:00+07:00");
        // The supplement comes Thu 06/03 09:00: two working days waited, one after the apology.
        app.clock.set(at("2025-03-06T09:00:00+07:00"));
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["due_at"], "2025-03-12T09:00:00+07:00", "{}", r.text);
        // Not Fri 14/03 (the whole wait): the promise already counted the first day.
        assert_eq!(
            r.body["due_at_current"], "2025-03-13T09:00:00+07:00",
            "{}",
            r.text
        );
    }
);

backend_test!(
    restart_gives_a_new_appointment_and_keeps_the_old_one,
    |app| {
        let o = app.office().await;
        app.post(
            "/api/v1/procedures",
            Some(&app.admin_token),
            &test_procedure("P2", "restart", 1),
        )
        .await
        .expect(201);
        let code = app.receive_code(&o.clerk, "P2").await;
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.clock.set(at("2025-03-04T10:00:00+07:00"));
        app.act(
            &o.officer,
            &code,
            "request_supplement",
            json!({"reasons": "Thiếu tài liệu", "items": ["TP03"]}),
        )
        .await
        .expect(200);
        assert!(
            !events_of(&app, &code)
                .await
                .contains(&"reappointed".to_owned())
        );
        // An apology while the applicant is away (the restart replaces its promise too).
        app.clock.set(at("2025-03-05T10:00:00+07:00"));
        app.act(
            &o.leader,
            &code,
            "apologize",
            json!({"reasons": "Chờ bổ sung", "new_due_at": "2025-03-20T09:00:00+07:00"}),
        )
        .await
        .expect(200);
        app.clock.set(at("2025-03-06T14:00:00+07:00"));
        let r = app
            .act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        assert_eq!(r.body["due_at"], "2025-03-13T14:00:00+07:00");
        // The history keeps what was promised before, and the new appointment.
        let last = history(&app, &code).await.pop().unwrap();
        assert_eq!(last["action"], "supplement_received");
        let details = &last["details"];
        let time = |k: &str| {
            at(details[k]
                .as_str()
                .unwrap_or_else(|| panic!("{k}: {details}")))
        };
        assert_eq!(time("previous_due_at"), at("2025-03-10T09:00:00+07:00"));
        assert_eq!(
            time("previous_due_at_current"),
            at("2025-03-20T09:00:00+07:00")
        );
        assert_eq!(time("new_due_at"), at("2025-03-13T14:00:00+07:00"));
        // The applicant is told the new appointment (the old one named too).
        let events = events_of(&app, &code).await;
        assert_eq!(
            events.iter().filter(|e| *e == "reappointed").count(),
            1,
            "{events:?}"
        );
        let mut conn = app.state.pool.get().unwrap();
        let body: String = {
            use diesel::prelude::*;
            use motcua::db::schema::outbox;
            outbox::table
                .filter(outbox::event.eq("reappointed"))
                .select(outbox::body_text)
                .first(&mut conn)
                .unwrap()
        };
        assert!(body.contains("14:00 13/03/2025"), "{body}");
        // What the applicant held last was the apology's promise: the email names it.
        assert!(body.contains("09:00 20/03/2025"), "{body}");
        drop(conn);
        // Form 01 is reissued: the new appointment, dated by the supplement, naming the old one.
        let f01 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/01"), Some(&o.clerk))
            .await
            .expect(200)
            .text
            .replace("&#x2f;", "/");
        assert!(
            f01.contains("cấp lại</b> 14 giờ 00 phút, ngày 06/03/2025"),
            "{f01}"
        );
        assert!(
            f01.contains("trước đây: 09 giờ 00 phút, ngày 10/03/2025"),
            "{f01}"
        );
        assert!(
            f01.contains("<b>14 giờ 00 phút, ngày 13/03/2025</b>"),
            "{f01}"
        );
        assert!(f01.contains("ngày 06 tháng 03 năm 2025"), "{f01}");
        // On the control slip the supplement goes back to the counter, taken by the clerk who
        // received it — not by the leader who apologised in between.
        let f05 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/05"), Some(&o.clerk))
            .await
            .expect(200)
            .text;
        let row = f05
            .split("<tr>")
            .find(|r| r.contains("Yêu cầu bổ sung hồ sơ"))
            .expect("the supplement hand-over");
        assert!(
            row.contains(r#"Người nhận<br><span style="font-weight:normal">clerk1</span>"#),
            "{row}"
        );
    }
);

backend_test!(
    due_soon_leaves_a_day_to_apologise_and_skips_on_the_spot_procedures,
    settings = |s| s.jobs.enabled = false,
    |app| {
        assert_eq!(app.state.settings.notify.due_soon_working_days, 2);
        let o = app.office().await;
        let mut spot = test_procedure("P9", "pause", 1);
        spot["issues_appointment"] = json!(false);
        app.post("/api/v1/procedures", Some(&app.admin_token), &spot)
            .await
            .expect(201);
        // Both received Mon 03/03 09:00, due Mon 10/03 09:00.
        let code = app.receive_code(&o.clerk, "P1").await;
        let on_the_spot = app.receive_code(&o.clerk, "P9").await;
        // Its receipt email promises no appointment.
        let receipt_text = |code: &str| {
            use diesel::prelude::*;
            use motcua::db::schema::outbox;
            let mut conn = app.state.pool.get().unwrap();
            outbox::table
                .filter(outbox::dossier_code.eq(code))
                .filter(outbox::event.eq("received"))
                .select(outbox::body_text)
                .first::<String>(&mut conn)
                .unwrap()
        };
        assert!(receipt_text(&on_the_spot).contains("không hẹn ngày trả"));
        assert!(receipt_text(&code).contains("Ngày hẹn trả kết quả: 09:00 10/03/2025"));
        let scan = |app: &TestApp, days: u32| {
            let mut conn = app.state.pool.get().unwrap();
            let cal = app.state.calendar.current(&mut conn).unwrap();
            motcua::jobs::watcher::scan(
                &mut conn,
                &cal,
                &app.state.templates,
                app.clock.now(),
                days,
            )
            .unwrap()
        };
        // Thu 06/03 10:00: 15 working hours left — within two working days, not within one.
        app.clock.set(at("2025-03-06T10:00:00+07:00"));
        assert_eq!(scan(&app, 1), 0);
        // The watcher job reads notify.due_soon_working_days (2): an instance that runs the
        // jobs scans at start.
        let other = app.another_instance(|s| s.jobs.enabled = true);
        poll_until("the dossier_due_soon notice", 30, || async {
            events_of(&app, &code)
                .await
                .contains(&"dossier_due_soon".to_owned())
                .then_some(())
        })
        .await;
        other.stop().await.unwrap();
        assert_eq!(scan(&app, 2), 0, "raised once");
        // Settled on the spot: no appointment, so no due-soon notice (overdue still is).
        assert!(
            !events_of(&app, &on_the_spot)
                .await
                .contains(&"dossier_due_soon".to_owned())
        );
        app.clock.set(at("2025-03-10T10:00:00+07:00"));
        assert_eq!(scan(&app, 2), 2, "both overdue");
        let events = events_of(&app, &on_the_spot).await;
        assert!(events.contains(&"dossier_overdue".to_owned()), "{events:?}");
        assert!(
            !events.contains(&"dossier_due_soon".to_owned()),
            "{events:?}"
        );
    }
);

backend_test!(
    back_entered_events_tell_nobody_and_keep_the_version_in_force,
    settings = |s| s.jobs.enabled = false,
    |app| {
        app.office().await;
        // P1 v1 exists from Mon 03/03 09:00; v2 (10 working days) from Wed 05/03 09:00.
        app.clock.set(at("2025-03-05T09:00:00+07:00"));
        let mut v2 = test_procedure("P1", "pause", 1);
        v2["duration"] = json!({"value": 10, "unit": "working_days"});
        app.request(
            actix_web::http::Method::PUT,
            "/api/v1/procedures/P1",
            Some(&app.admin_token),
            Some(&v2),
        )
        .await
        .expect(200);
        app.clock.set(at("2025-03-12T09:00:00+07:00"));
        let back = |received: &str| {
            let mut body = dossier_body("P1", "direct");
            body["received_at"] = json!(received);
            body
        };
        // Received Tue 04/03 under v1 (5 wd, due Tue 11/03: overdue now), entered a week later.
        let r = app
            .post(
                "/api/v1/dossiers",
                Some(&app.admin_token),
                &back("2025-03-04T10:00:00+07:00"),
            )
            .await
            .expect(201);
        assert_eq!(r.body["procedure"]["version"], 1);
        assert_eq!(r.body["due_at"], "2025-03-11T10:00:00+07:00");
        let old = code_of(&r.body);
        // Received Thu 06/03 under v2.
        let r = app
            .post(
                "/api/v1/dossiers",
                Some(&app.admin_token),
                &back("2025-03-06T10:00:00+07:00"),
            )
            .await
            .expect(201);
        assert_eq!(r.body["procedure"]["version"], 2);
        let newer = code_of(&r.body);
        // Back-dated actions tell nobody either (transfer would email the unit).
        app.act(
            &app.admin_token,
            &old,
            "transfer",
            json!({"occurred_at": "2025-03-04T14:00:00+07:00"}),
        )
        .await
        .expect(200);
        assert!(events_of(&app, &old).await.is_empty());
        assert!(events_of(&app, &newer).await.is_empty());
        // The watcher raises nothing for what had passed when it was entered.
        let mut conn = app.state.pool.get().unwrap();
        let cal = app.state.calendar.current(&mut conn).unwrap();
        let raised =
            motcua::jobs::watcher::scan(&mut conn, &cal, &app.state.templates, app.clock.now(), 2)
                .unwrap();
        drop(conn);
        assert_eq!(raised, 0);
        assert!(events_of(&app, &old).await.is_empty());
        // Within a few minutes it is ordinary work: the applicant is told.
        let r = app
            .post(
                "/api/v1/dossiers",
                Some(&app.admin_token),
                &back("2025-03-12T08:58:00+07:00"),
            )
            .await
            .expect(201);
        assert_eq!(events_of(&app, &code_of(&r.body)).await, ["received"]);
    }
);
