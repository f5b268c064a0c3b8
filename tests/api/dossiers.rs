//! The dossier lifecycle end to end: receipt, workflow, supplements, decisions, delivery,
//! the control slip, concurrency and codes.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::backend_test;

fn times(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_default().to_owned()
}

backend_test!(receipt_assigns_code_key_and_due_time, |app| {
    let o = app.office().await;
    // Monday 2025-03-03 09:00 + 5 working days → Monday 2025-03-10 09:00.
    let d = app.receive(&o.clerk, "P1").await;
    assert_eq!(d["code"], "000.00.00.H00-250303-0001");
    assert_eq!(d["state"], "received");
    assert_eq!(d["status_code"], 2);
    assert_eq!(times(&d, "received_at"), "2025-03-03T09:00:00+07:00");
    assert_eq!(times(&d, "due_at"), "2025-03-10T09:00:00+07:00");
    assert_eq!(d["due_at_current"], d["due_at"]);
    assert_eq!(d["rule_regime"], "nd61_2018");
    let key = d["lookup_key"].as_str().unwrap();
    assert_eq!(key.len(), 6);
    assert_eq!(d["components"].as_array().unwrap().len(), 2);
    assert_eq!(d["procedure"]["version"], 1);

    // The key is shown only at creation.
    let got = app
        .get("/api/v1/dossiers/000.00.00.H00-250303-0001", Some(&o.clerk))
        .await
        .expect(200);
    assert!(got.body.get("lookup_key").is_none());
    assert_eq!(got.headers.get("etag").unwrap(), "\"1\"");
    let second = app.receive(&o.clerk, "P1").await;
    assert_eq!(second["code"], "000.00.00.H00-250303-0002");
    // A new local day starts a new sequence.
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        app.receive(&o.clerk, "P1").await["code"],
        "000.00.00.H00-250304-0001"
    );
});

backend_test!(
    receipt_refuses_missing_required_items_and_changes_nothing,
    |app| {
        let o = app.office().await;
        let mut body = crate::helpers::dossier_body("P1", "direct");
        body["components"] = json!([{"item_code": "TP01", "kind": "original"}]);
        let r = app
            .post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect_problem(422, "dossier.missing_items");
        assert_eq!(r.body["missing_items"], json!(["TP02"]));
        body["components"] = json!([{"item_code": "TP01", "kind": "original"}, {"item_code": "NOPE", "kind": "copy"}]);
        let r = app
            .post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect_problem(422, "validation.failed");
        assert!(
            r.body["errors"]["components[1].item_code"].is_string(),
            "{}",
            r.text
        );
        body["procedure_code"] = json!("NOPE");
        app.post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect_problem(422, "validation.failed");
        let list = app
            .get("/api/v1/dossiers", Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(list.body["total"], 0);
        // No number was used up: the next receipt is 0001.
        assert_eq!(
            app.receive(&o.clerk, "P1").await["code"],
            "000.00.00.H00-250303-0001"
        );
    }
);

backend_test!(
    walk_from_receipt_to_delivery_reads_as_a_control_slip,
    |app| {
        let o = app.office().await;
        let d = app.receive(&o.clerk, "P1").await;
        let code = d["code"].as_str().unwrap().to_owned();

        app.clock.advance(chrono::Duration::hours(1)); // 10:00
        let t = app
            .act(
                &o.clerk,
                &code,
                "transfer",
                json!({"note": "Chuyển phòng U1"}),
            )
            .await
            .expect(200);
        assert_eq!(t.body["state"], "processing");
        assert_eq!(t.body["current_step"]["code"], "B1");
        // Step B1: 3 working days from Mon 10:00 → Thu 2025-03-06 10:00.
        assert_eq!(
            t.body["current_step"]["due_at"],
            "2025-03-06T10:00:00+07:00"
        );

        app.clock.advance(chrono::Duration::days(1)); // Tue 10:00: B1 ends early
        let f = app
            .act(
                &o.officer,
                &code,
                "forward",
                json!({"note": "Đủ điều kiện"}),
            )
            .await
            .expect(200);
        assert_eq!(f.body["current_step"]["code"], "B2");
        assert_eq!(
            f.body["current_step"]["due_at"],
            "2025-03-06T10:00:00+07:00"
        );

        app.clock.advance(chrono::Duration::days(1)); // Wed 10:00
        let a = app
            .act(
                &o.leader,
                &code,
                "approve",
                json!({"result_reference": "15/GCN-BQL", "electronic_result": true}),
            )
            .await
            .expect(200);
        assert_eq!(a.body["state"], "resolved");
        assert_eq!(a.body["outcome"], "approved");
        assert_eq!(a.body["timeliness"], "early");
        assert_eq!(a.body["resolved_at"], "2025-03-05T10:00:00+07:00");

        let del = app
            .act(
                &o.clerk,
                &code,
                "deliver",
                json!({"method": "counter", "satisfaction": 5}),
            )
            .await
            .expect(200);
        assert_eq!(del.body["state"], "delivered");
        assert_eq!(del.body["status_code"], 10);
        assert!(del.body["allowed_actions"].as_array().unwrap().is_empty());

        let h = app
            .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.viewer))
            .await
            .expect(200);
        let rows = h.body.as_array().unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            ["receive", "transfer", "forward", "approve", "deliver"]
        );
        let seqs: Vec<i64> = rows.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert_eq!(rows[1]["step"], "B1");
        assert_eq!(rows[1]["step_unit"], "U1");
        assert_eq!(rows[2]["closed_step"], "B1");
        assert_eq!(rows[2]["step_timeliness"], "early");
        assert_eq!(rows[3]["closed_step"], "B2");
        assert_eq!(rows[3]["step_timeliness"], "early");
        assert_eq!(rows[2]["actor"], "officer1");
        assert_eq!(rows[2]["role"], "officer");
        assert_eq!(rows[2]["unit"], "U1");
        assert_eq!(rows[1]["note"], "Chuyển phòng U1");
        assert_eq!(rows[0]["at"], "2025-03-03T09:00:00+07:00");
    }
);

backend_test!(
    wrong_state_is_409_with_allowed_actions_and_wrong_role_403,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        let r = app
            .act(&o.clerk, &code, "deliver", json!({"method": "counter"}))
            .await
            .expect_problem(409, "dossier.illegal_transition");
        assert_eq!(r.body["state"], "received");
        let allowed: Vec<&str> = r.body["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(allowed, ["transfer", "request_withdrawal"]);
        // An officer may not transfer; a viewer may not act at all.
        app.act(&o.officer, &code, "transfer", json!({}))
            .await
            .expect_problem(403, "auth.forbidden");
        app.act(&o.viewer, &code, "transfer", json!({}))
            .await
            .expect_problem(403, "auth.forbidden");
        app.act(&o.clerk, &code, "fly", json!({}))
            .await
            .expect_problem(404, "dossier.unknown_action");
        app.act(&o.clerk, "NOPE-1", "transfer", json!({}))
            .await
            .expect_problem(404, "dossier.not_found");
        // An officer of another unit neither sees nor works the dossier.
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.act(&o.other_officer, &code, "forward", json!({}))
            .await
            .expect_problem(404, "dossier.not_found");
        app.get(&format!("/api/v1/dossiers/{code}"), Some(&o.other_officer))
            .await
            .expect(404);
        let mine = app
            .get("/api/v1/dossiers", Some(&o.officer))
            .await
            .expect(200);
        assert_eq!(mine.body["total"], 1);
        let theirs = app
            .get("/api/v1/dossiers", Some(&o.other_officer))
            .await
            .expect(200);
        assert_eq!(theirs.body["total"], 0);
        let h = app
            .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(
            h.body.as_array().unwrap().len(),
            2,
            "refused actions left no history"
        );
    }
);

backend_test!(if_match_stale_is_412, |app| {
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    let path = format!("/api/v1/dossiers/{code}/actions/transfer");
    let mut req = app.client.post(format!("{}{path}", app.base));
    req = req
        .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
        .insert_header(("If-Match", "\"7\""));
    let resp = req.send_json(&json!({})).await.unwrap();
    assert_eq!(resp.status(), 412);
    let req = app
        .client
        .post(format!("{}{path}", app.base))
        .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
        .insert_header(("If-Match", "\"1\""));
    let resp = req.send_json(&json!({})).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("etag").unwrap(), "\"2\"");
});

backend_test!(idempotency_key_returns_the_first_answer, |app| {
    let o = app.office().await;
    let body = crate::helpers::dossier_body("P1", "direct");
    let send = |key: &'static str, body: Value| {
        let req = app
            .client
            .post(format!("{}/api/v1/dossiers", app.base))
            .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
            .insert_header(("Idempotency-Key", key));
        async move {
            let mut r = req.send_json(&body).await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().limit(1 << 20).await.unwrap();
            (status, v)
        }
    };
    let (s1, first) = send("k-1", body.clone()).await;
    let (s2, again) = send("k-1", body.clone()).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(first, again);
    let list = app
        .get("/api/v1/dossiers", Some(&o.clerk))
        .await
        .expect(200);
    assert_eq!(list.body["total"], 1);
    let mut other = body.clone();
    other["note"] = json!("khác");
    let (s3, p) = send("k-1", other).await;
    assert_eq!(s3, 422, "{p}");
    assert_eq!(p["code"], "idempotency.key_reused");
});

backend_test!(fifty_concurrent_conflicting_actions_apply_once, |app| {
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    let path = format!("/api/v1/dossiers/{code}/actions/transfer");
    let empty = json!({});
    let futures: Vec<_> = (0..50)
        .map(|_| app.request(Method::POST, &path, Some(&o.clerk), Some(&empty)))
        .collect();
    let results = futures_util::future::join_all(futures).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results
            .iter()
            .map(|r| r.status.as_u16())
            .collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r.status.as_u16(), 200 | 409))
    );
    let h = app
        .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
        .await
        .expect(200);
    let transfers = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "transfer")
        .count();
    assert_eq!(transfers, 1);
});

backend_test!(
    two_hundred_concurrent_receipts_get_distinct_gapless_codes,
    |app| {
        let o = app.office().await;
        let body = crate::helpers::dossier_body("P1", "direct");
        let futures: Vec<_> = (0..200)
            .map(|_| {
                app.request(
                    Method::POST,
                    "/api/v1/dossiers",
                    Some(&o.clerk),
                    Some(&body),
                )
            })
            .collect();
        let results = futures_util::future::join_all(futures).await;
        let mut numbers: Vec<u32> = results
            .iter()
            .map(|r| {
                assert_eq!(r.status, 201, "{}", r.text);
                r.body["code"]
                    .as_str()
                    .unwrap()
                    .rsplit('-')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=200).collect::<Vec<_>>());
    }
);

backend_test!(
    counter_refusal_records_a_refused_dossier_with_its_slip,
    |app| {
        let o = app.office().await;
        let mut body = crate::helpers::dossier_body("P1", "direct");
        body["components"] = json!([{"item_code": "TP01", "kind": "original"}]);
        body["refused_reasons"] = json!([]);
        app.post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect_problem(422, "validation.failed");
        body["refused_reasons"] = json!(["Hồ sơ không thuộc thẩm quyền giải quyết của Ban"]);
        let r = app
            .post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect(201);
        assert_eq!(r.body["state"], "refused");
        assert_eq!(r.body["status_code"], 3);
        assert!(r.body["due_at"].is_null() && r.body["received_at"].is_null());
        let code = r.body["code"].as_str().unwrap();
        let h = app
            .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(h.body[0]["action"], "refuse");
        assert_eq!(
            h.body[0]["details"]["reasons"][0],
            "Hồ sơ không thuộc thẩm quyền giải quyết của Ban"
        );
        let slip = app
            .get(&format!("/api/v1/dossiers/{code}/forms/03"), Some(&o.clerk))
            .await
            .expect(200);
        assert!(
            slip.text.contains("không thuộc thẩm quyền") && slip.text.contains("từ chối tiếp nhận")
        );
        // Not counted as received in Biểu 06.
        let report = app
            .get(
                "/api/v1/reports/bieu-06?from=2025-03-01&to=2025-03-31",
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        assert_eq!(report.body["total"]["received"]["total"], 0);
        app.post("/api/v1/dossiers", Some(&o.portal), &body)
            .await
            .expect_problem(403, "auth.forbidden");
    }
);

backend_test!(
    a_new_holiday_moves_the_current_step_and_the_dossier_never_earlier,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        app.clock.advance(chrono::Duration::hours(1));
        let t = app
            .act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        // B1: Mon 10:00 + 3 wd = Thu 06/03 10:00; the dossier: Mon 10/03 09:00.
        assert_eq!(
            t.body["current_step"]["due_at"],
            "2025-03-06T10:00:00+07:00"
        );
        app.request(
            Method::PUT,
            "/api/v1/calendar/days/2025-03-05",
            Some(&app.admin_token),
            Some(&json!({"kind": "holiday", "name": "Nghỉ đột xuất"})),
        )
        .await
        .expect(200);
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(
            d.body["current_step"]["due_at"],
            "2025-03-07T10:00:00+07:00"
        );
        assert_eq!(d.body["due_at"], "2025-03-11T09:00:00+07:00");
        let h = app
            .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
            .await
            .expect(200);
        let row = h.body.as_array().unwrap().last().unwrap().clone();
        assert_eq!(row["action"], "calendar_recomputed");
        assert_eq!(row["step_due_at"], "2025-03-07T10:00:00+07:00");
        // Removing the holiday again does not bring either due time back.
        app.request(
            Method::DELETE,
            "/api/v1/calendar/days/2025-03-05",
            Some(&app.admin_token),
            None,
        )
        .await
        .expect(204);
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(
            d.body["current_step"]["due_at"],
            "2025-03-07T10:00:00+07:00"
        );
        assert_eq!(d.body["due_at"], "2025-03-11T09:00:00+07:00");
    }
);

backend_test!(idempotency_keys_are_forgotten_after_a_day, |app| {
    let o = app.office().await;
    let body = crate::helpers::dossier_body("P1", "direct");
    let send = |key: &'static str| {
        let req = app
            .client
            .post(format!("{}/api/v1/dossiers", app.base))
            .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
            .insert_header(("Idempotency-Key", key));
        let body = body.clone();
        async move {
            let mut r = req.send_json(&body).await.unwrap();
            let v: serde_json::Value = r.json().limit(1 << 20).await.unwrap();
            v["code"].as_str().unwrap().to_owned()
        }
    };
    let first = send("k-day").await;
    assert_eq!(send("k-day").await, first);
    let mut conn = app.state.pool.get().unwrap();
    let now = app.clock.now();
    let purge = |conn: &mut motcua::db::PooledConnection, at: chrono::DateTime<chrono::Utc>| {
        motcua::db::dossiers::purge_idempotency(
            conn,
            motcua::db::to_db_time(at - motcua::jobs::retention::IDEMPOTENCY_TTL),
        )
        .unwrap()
    };
    assert_eq!(purge(&mut conn, now + chrono::Duration::hours(23)), 0);
    assert_eq!(purge(&mut conn, now + chrono::Duration::hours(25)), 1);
    drop(conn);
    assert_ne!(
        send("k-day").await,
        first,
        "a day later the key starts a new receipt"
    );
});
