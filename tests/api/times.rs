//! Every time in every answer is written the way api.md says: RFC 3339 in the agency's zone
//! (+07:00), whole seconds. The test walks an answer of each route family — with the
//! business clock set to a time with microseconds and the login's expiry on the real clock —
//! and checks every string that is a time, so that a new field written in UTC or with
//! fractions fails here.

use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::*;

/// Strings shaped like a date-time (`YYYY-MM-DDTHH:MM…`), with where they were found.
fn times<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            if b.len() >= 16 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' {
                out.push((path, s));
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                times(x, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                times(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Checks one answer; answers how many times it held.
#[track_caller]
fn check(what: &str, v: &Value) -> usize {
    let mut found = Vec::new();
    times(v, String::new(), &mut found);
    for (path, s) in &found {
        let ok = s.len() == 25
            && s.ends_with("+07:00")
            && chrono::DateTime::parse_from_rfc3339(s).is_ok()
            && !s.contains('.');
        assert!(ok, "{what}: {path} = {s:?} is not local time to the second");
    }
    found.len()
}

backend_test!(
    every_answer_writes_times_in_the_agency_zone_to_the_second,
    |app| {
        // A business time with microseconds: every row stamped now carries them.
        app.clock.set(
            chrono::DateTime::parse_from_rfc3339("2025-03-03T09:00:00.123456+07:00")
                .unwrap()
                .to_utc(),
        );
        let o = app.office().await;
        let admin = app.admin_token.clone();
        let mut n = 0;
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "clerk1", "password": "clerk1-password"}),
            )
            .await
            .expect(200);
        n += check("login", &login.body);
        assert!(login.body["expires_at"].is_string());
        n += check(
            "me",
            &app.get("/api/v1/auth/me", Some(&o.clerk))
                .await
                .expect(200)
                .body,
        );
        n += check(
            "users",
            &app.get("/api/v1/users", Some(&admin))
                .await
                .expect(200)
                .body,
        );
        n += check(
            "user",
            &app.get("/api/v1/users/clerk1", Some(&admin))
                .await
                .expect(200)
                .body,
        );
        n += check(
            "user patch",
            &app.patch(
                "/api/v1/users/viewer1",
                Some(&admin),
                &json!({"full_name": "Trần Thị Xem"}),
            )
            .await
            .expect(200)
            .body,
        );
        n += check("units", &app.get("/api/v1/units", None).await.body);
        n += check(
            "procedures",
            &app.get("/api/v1/procedures", None).await.expect(200).body,
        );
        n += check(
            "procedure",
            &app.get("/api/v1/procedures/P1", None)
                .await
                .expect(200)
                .body,
        );
        let mut p = test_procedure("P1", "pause", 1);
        p["name"] = json!("Thủ tục thử P1 (sửa)");
        n += check(
            "procedure put",
            &app.request(
                actix_web::http::Method::PUT,
                "/api/v1/procedures/P1",
                Some(&admin),
                Some(&p),
            )
            .await
            .expect(200)
            .body,
        );

        // A dossier through several actions, with an apology and a supplement deadline.
        let created = app.receive(&o.clerk, "P1").await;
        n += check("dossier created", &created);
        let code = created["code"].as_str().unwrap().to_owned();
        let key = created["lookup_key"].as_str().unwrap().to_owned();
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.act(
        &o.officer,
        &code,
        "request_supplement",
        json!({"reasons": "Thiếu", "items": ["TP03"], "applicant_deadline": "2025-03-14T10:00:00.5Z"}),
    )
    .await
    .expect(200);
        let r = app
            .act(
                &o.leader,
                &code,
                "apologize",
                json!({"reasons": "Chậm", "new_due_at": "2025-03-20T02:00:00.250Z"}),
            )
            .await
            .expect(200);
        n += check("action", &r.body);
        assert!(r.body["apology"]["new_due_at"].is_string());
        n += check(
            "dossier",
            &app.get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
                .await
                .expect(200)
                .body,
        );
        n += check(
            "dossiers",
            &app.get("/api/v1/dossiers", Some(&o.clerk))
                .await
                .expect(200)
                .body,
        );
        let history = app
            .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
            .await
            .expect(200);
        n += check("history", &history.body);
        let rows = history.body.as_array().unwrap();
        assert!(
            rows.iter()
                .any(|r| r["details"]["applicant_deadline"].is_string())
        );
        assert!(rows.iter().any(|r| r["details"]["new_due_at"].is_string()));

        // An online filing with components added.
        let filed = app
            .post(
                "/api/v1/dossiers",
                Some(&o.portal),
                &dossier_body("P1", "online"),
            )
            .await
            .expect(201);
        n += check("filed", &filed.body);
        let filed_code = filed.body["code"].as_str().unwrap().to_owned();
        n += check(
            "components",
            &app.post(
                &format!("/api/v1/dossiers/{filed_code}/components"),
                Some(&o.portal),
                &json!({"components": [{"item_code": "TP03", "kind": "electronic"}]}),
            )
            .await
            .expect(200)
            .body,
        );

        // Files.
        let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        pdf.extend_from_slice(b"motcua times test");
        let (ct, body) = multipart(&[("file", Some("a.pdf"), "application/pdf", &pdf)]);
        let mut resp = app
            .client
            .post(format!(
                "{}/api/v1/dossiers/{code}/components/TP01/files",
                app.base
            ))
            .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
            .insert_header(("Content-Type", ct))
            .send_body(body)
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let uploaded: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
        n += check("upload", &uploaded);
        let files = app
            .get(&format!("/api/v1/dossiers/{code}/files"), Some(&o.clerk))
            .await
            .expect(200);
        assert!(check("files", &files.body) > 0, "{}", files.text);

        // Notifications, calendar, public lookup, reports, readiness.
        let notes = app
            .get("/api/v1/notifications", Some(&admin))
            .await
            .expect(200);
        assert!(check("notifications", &notes.body) > 0, "{}", notes.text);
        app.request(
            actix_web::http::Method::PUT,
            "/api/v1/calendar/days/2025-03-12",
            Some(&admin),
            Some(&json!({"kind": "holiday", "name": "Ngày nghỉ thử"})),
        )
        .await
        .expect(200);
        let changes = app
            .get("/api/v1/calendar/changes", Some(&admin))
            .await
            .expect(200);
        assert!(
            check("calendar changes", &changes.body) > 0,
            "{}",
            changes.text
        );
        n += check(
            "calendar days",
            &app.get("/api/v1/calendar/days?year=2025", Some(&o.clerk))
                .await
                .expect(200)
                .body,
        );
        n += check(
            "calendar due",
            &app.get(
                "/api/v1/calendar/due?start=2025-03-03T09:00:00%2B07:00&value=3&unit=working_days",
                Some(&o.clerk),
            )
            .await
            .expect(200)
            .body,
        );
        let public = app
            .get(
                &format!("/api/v1/public/lookup?code={code}&key={key}"),
                None,
            )
            .await
            .expect(200);
        assert!(check("public lookup", &public.body) > 0, "{}", public.text);
        n += check(
            "public lookup post",
            &app.post(
                "/api/v1/public/lookup",
                None,
                &json!({"code": code, "key": key}),
            )
            .await
            .expect(200)
            .body,
        );
        n += check(
            "bieu-06",
            &app.get(
                "/api/v1/reports/bieu-06?from=2025-03-01&to=2025-03-31",
                Some(&admin),
            )
            .await
            .expect(200)
            .body,
        );
        n += check(
            "indicators",
            &app.get(
                "/api/v1/reports/indicators?from=2025-03-01&to=2025-03-31",
                Some(&admin),
            )
            .await
            .expect(200)
            .body,
        );
        n += check(
            "queue",
            &app.get("/api/v1/reports/queue", Some(&o.clerk))
                .await
                .expect(200)
                .body,
        );
        n += check("readyz", &app.get("/readyz", None).await.body);
        // Enough times were seen for the walk to mean something.
        assert!(n > 60, "only {n} times seen");
    }
);
