//! Email through the outbox, against a real SMTP server on loopback.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::*;
use crate::smtp::{SmtpSink, parse};

use crate::per_backend_test as mail_test;

mail_test!(
    receipt_email_arrives_in_vietnamese_with_code_key_and_appointment,
    |backend| {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_mail(backend, &sink.url()).await;
        let o = app.office().await;
        let d = app.receive(&o.clerk, "P1").await;
        let mails = sink.wait_for(1, 20).await;
        let m = parse(&mails[0]);
        assert_eq!(m.to, "ung.vien@example.com");
        assert!(
            m.subject
                .contains("Đã tiếp nhận hồ sơ 000.00.00.H00-250303-0001"),
            "{}",
            m.subject
        );
        assert!(
            m.text.contains("Mã hồ sơ: 000.00.00.H00-250303-0001"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains(&format!(
                "Mã tra cứu: {}",
                d["lookup_key"].as_str().unwrap()
            )),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("Ngày hẹn trả kết quả: 09:00 10/03/2025"),
            "{}",
            m.text
        );
        assert!(m.html.contains("<b>000.00.00.H00-250303-0001</b>"));
        // The worker marks the row sent after the SMTP server has taken the message: the
        // email can reach the sink a moment before the row says so.
        let n = crate::helpers::poll_until("the receipt email to be marked sent", 20, || async {
            let n = app
                .get(
                    "/api/v1/notifications?dossier=000.00.00.H00-250303-0001",
                    Some(&app.admin_token),
                )
                .await
                .expect(200);
            (n.body["items"][0]["status"] == "sent").then_some(n)
        })
        .await;
        assert_eq!(n.body["items"][0]["event"], "received");
        assert_eq!(
            format!("<{}>", m.message_id),
            n.body["items"][0]["message_id"].as_str().unwrap()
        );

        // English on request.
        let mut body = dossier_body("P1", "direct");
        body["applicant"]["language"] = json!("en");
        body["applicant"]["email"] = json!("english@example.com");
        app.post("/api/v1/dossiers", Some(&o.clerk), &body)
            .await
            .expect(201);
        let mails = sink.wait_for(2, 20).await;
        let en = mails
            .iter()
            .map(|r| parse(r))
            .find(|m| m.to == "english@example.com")
            .unwrap();
        assert!(en.subject.contains("received"), "{}", en.subject);
        assert!(
            en.text.contains("Result due: 09:00 10/03/2025"),
            "{}",
            en.text
        );
    }
);

mail_test!(each_event_sends_its_email, |backend| {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_mail(backend, &sink.url()).await;
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    app.act(&o.clerk, &code, "transfer", json!({}))
        .await
        .expect(200);
    app.act(
        &o.officer,
        &code,
        "request_supplement",
        json!({"reasons": ["Thiếu chữ ký"], "items": ["TP02"]}),
    )
    .await
    .expect(200);
    app.act(&o.clerk, &code, "supplement_received", json!({}))
        .await
        .expect(200);
    app.act(
        &o.leader,
        &code,
        "apologize",
        json!({"reasons": ["Cần lấy ý kiến"], "new_due_at": "2025-03-20T09:00:00+07:00"}),
    )
    .await
    .expect(200);
    app.act(&o.officer, &code, "forward", json!({}))
        .await
        .expect(200);
    app.act(
        &o.leader,
        &code,
        "approve",
        json!({"result_reference": "9/GCN"}),
    )
    .await
    .expect(200);
    app.act(&o.clerk, &code, "deliver", json!({"method": "counter"}))
        .await
        .expect(200);
    // Online: completion asked, then refused.
    let online = app
        .post(
            "/api/v1/dossiers",
            Some(&o.portal),
            &dossier_body("P1", "online"),
        )
        .await
        .expect(201);
    let oc = online.body["code"].as_str().unwrap().to_owned();
    app.act(
        &o.clerk,
        &oc,
        "ask_completion",
        json!({"reasons": ["Thiếu bản vẽ"]}),
    )
    .await
    .expect(200);
    app.act(
        &o.clerk,
        &oc,
        "refuse",
        json!({"reasons": ["Không bổ sung"]}),
    )
    .await
    .expect(200);

    // received, step_assigned ×2 (B1, B2), supplement, apology, resolved, delivered, completion, refused.
    let mails: Vec<_> = sink
        .wait_for(9, 30)
        .await
        .iter()
        .map(|r| parse(r))
        .collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    for needle in [
        "Đã tiếp nhận",
        "Yêu cầu bổ sung",
        "Thư xin lỗi",
        "đã có kết quả",
        "Đã trả kết quả",
        "cần bổ sung, hoàn thiện",
        "Từ chối tiếp nhận",
    ] {
        assert!(
            subjects.iter().any(|s| s.contains(needle)),
            "{needle} missing in {subjects:?}"
        );
    }
    let to_unit: Vec<_> = mails.iter().filter(|m| m.to == "u1@example.test").collect();
    assert_eq!(to_unit.len(), 2, "{subjects:?}");
    assert!(to_unit.iter().all(|m| m.subject.contains("chuyển đến")));
    let supplement = mails
        .iter()
        .find(|m| m.subject.contains("Yêu cầu bổ sung"))
        .unwrap();
    assert!(
        supplement.text.contains("Bản sao giấy tờ pháp lý")
            && supplement.text.contains("Thiếu chữ ký"),
        "{}",
        supplement.text
    );
    let apology = mails
        .iter()
        .find(|m| m.subject.contains("Thư xin lỗi"))
        .unwrap();
    assert!(
        apology.text.contains("09:00 20/03/2025"),
        "{}",
        apology.text
    );
    let ids: HashSet<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), mails.len());
});

mail_test!(smtp_down_then_up_delivers_once, |backend| {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_mail(backend, &format!("smtp://127.0.0.1:{port}")).await;
    let o = app.office().await;
    app.receive(&o.clerk, "P1").await;
    // Wait until at least one attempt failed.
    let mut tries = 0;
    let row = loop {
        let n = app
            .get("/api/v1/notifications", Some(&app.admin_token))
            .await
            .expect(200);
        let row = n.body["items"][0].clone();
        if row["attempts"].as_i64().unwrap_or(0) >= 1 {
            break row;
        }
        tries += 1;
        assert!(tries < 200, "no attempt recorded");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(row["status"], "pending");
    assert!(row["last_error"].as_str().is_some());
    let sink = SmtpSink::start_on(port);
    app.wait_sent(1, 30).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "sent more than once");
    assert!(parse(&mails[0]).subject.contains("Đã tiếp nhận"));
});

mail_test!(
    restart_with_unsent_rows_sends_each_once_and_two_workers_share_the_work,
    |backend| {
        let sink = SmtpSink::start();
        // An instance that runs no jobs (HTTP only): rows pile up.
        let app = TestApp::spawn_mail_with(backend, &sink.url(), |s| s.jobs.enabled = false).await;
        let o = app.office().await;
        for _ in 0..24 {
            app.receive(&o.clerk, "P1").await;
        }
        let pending = app
            .get(
                "/api/v1/notifications?status=pending",
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        assert_eq!(pending.body["total"], 24);
        let ready = app.get("/readyz", None).await.expect(200);
        assert_eq!(ready.body["mail"], "off", "{}", ready.text);
        assert_eq!(ready.body["jobs"]["outbox"]["running"], false);
        assert_eq!(ready.body["jobs"]["outbox"]["pending"], 24);
        // Two more instances on the same database, each with its own worker.
        let a = app.another_instance(|s| s.jobs.enabled = true);
        let b = app.another_instance(|s| s.jobs.enabled = true);
        // Once every row is recorded as sent, nothing more can be sent.
        app.wait_sent(24, 30).await;
        let mails = sink.messages();
        let ids: HashSet<_> = mails.iter().map(|r| parse(r).message_id).collect();
        assert_eq!(mails.len(), 24, "some email was sent twice");
        assert_eq!(ids.len(), 24);
        a.stop().await.unwrap();
        b.stop().await.unwrap();
    }
);

mail_test!(due_soon_and_overdue_notices_are_enqueued_once, |backend| {
    // The scans are driven here, one at a time.
    let app = TestApp::spawn_with(backend, |s| s.jobs.enabled = false).await;
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    app.act(&o.clerk, &code, "transfer", json!({}))
        .await
        .expect(200);
    let scan = |app: &TestApp| {
        let mut conn = app.state.pool.get().unwrap();
        let cal = app.state.calendar.current(&mut conn).unwrap();
        motcua::jobs::watcher::scan(&mut conn, &cal, &app.state.templates, app.clock.now(), 2)
            .unwrap()
    };
    assert_eq!(scan(&app), 0, "nothing is due yet");
    // Step B1 is due Thu 06/03 09:00 and the dossier Mon 10/03 09:00. Wednesday 10:00: the step is due soon.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2025-03-05T10:00:00+07:00")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(scan(&app), 1);
    assert_eq!(scan(&app), 0, "the same notice twice");
    // Friday 10:00: the dossier is due soon (within one working day).
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2025-03-07T10:00:00+07:00")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(scan(&app), 1);
    assert_eq!(scan(&app), 0);
    // Monday 10/03 10:00: overdue.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2025-03-10T10:00:00+07:00")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(scan(&app), 1);
    assert_eq!(scan(&app), 0);
    let n = app
        .get(
            &format!("/api/v1/notifications?dossier={code}"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let events: Vec<&str> = n.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    for e in [
        "step_due_soon",
        "dossier_due_soon",
        "dossier_overdue",
        "received",
        "step_assigned",
    ] {
        assert_eq!(
            events.iter().filter(|x| **x == e).count(),
            1,
            "{e} in {events:?}"
        );
    }
});
