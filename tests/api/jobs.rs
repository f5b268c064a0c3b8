//! The background jobs' passes, driven one at a time (`jobs.enabled = false` keeps the
//! instance's own from running), and how `/readyz` and `/metrics` report them.

use chrono::TimeDelta;
use diesel::prelude::*;
use motcua::db::notices::{self, Kind};
use motcua::db::schema::outbox;
use motcua::db::{self as store, to_db_time};
use motcua::jobs::Job;
use motcua::jobs::retention::{IdempotencyPurge, OutboxRetention};
use motcua::jobs::watcher::DueWatcher;

use crate::backend_test;
use crate::helpers::*;

/// Copies dossier `code` `n` times (new ids and codes) with a due time long past.
fn overdue_copies(app: &TestApp, code: &str, n: usize) {
    let mut conn = app.state.pool.get().unwrap();
    let row = store::dossiers::find_by_code(&mut conn, code)
        .unwrap()
        .unwrap();
    let long_ago = Some(default_now() - TimeDelta::days(30));
    store::write_tx(&mut conn, |conn| {
        for i in 0..n {
            let mut copy = row.clone();
            copy.id = uuid::Uuid::new_v4().to_string();
            copy.code = format!("OLD-{i:05}");
            copy.clock.due_at = long_ago;
            copy.clock.due_at_current = long_ago;
            store::dossiers::insert(conn, &copy)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
}

fn count(app: &TestApp, kind: Kind) -> i64 {
    let mut conn = app.state.pool.get().unwrap();
    notices::count(&mut conn, kind).unwrap()
}

async fn watch(app: &TestApp) {
    DueWatcher.run(&app.job_context()).await.unwrap();
}

backend_test!(
    newly_due_dossier_is_noticed_behind_5001_overdue_ones,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        // Received Monday 03/03 09:00: due Monday 10/03 09:00 (5 working days).
        let code = app.receive_code(&o.clerk, "P1").await;
        overdue_copies(&app, &code, 5001);

        watch(&app).await;
        assert_eq!(count(&app, Kind::DossierOverdue), 5001);
        assert_eq!(count(&app, Kind::DossierDueSoon), 0, "not due soon yet");

        // Friday 07/03 10:00: due within one working day. The overdue pile is still there.
        app.clock.set(
            chrono::DateTime::parse_from_rfc3339("2025-03-07T10:00:00+07:00")
                .unwrap()
                .to_utc(),
        );
        watch(&app).await;
        assert_eq!(count(&app, Kind::DossierDueSoon), 1);
        watch(&app).await;
        assert_eq!(count(&app, Kind::DossierDueSoon), 1, "raised twice");
        assert_eq!(count(&app, Kind::DossierOverdue), 5001, "raised twice");

        // Each notice is one email to the handling unit.
        let mine = app
            .get(
                &format!("/api/v1/notifications?dossier={code}"),
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        let events: Vec<&str> = mine.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events.iter().filter(|e| **e == "dossier_due_soon").count(),
            1,
            "{events:?}"
        );
        let mut conn = app.state.pool.get().unwrap();
        let overdue_emails: i64 = outbox::table
            .filter(outbox::event.eq("dossier_overdue"))
            .filter(outbox::recipient.eq("u1@example.test"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(overdue_emails, 5001);
    }
);

backend_test!(
    notices_survive_outbox_retention_and_are_not_raised_again,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        app.clock.set(
            chrono::DateTime::parse_from_rfc3339("2025-03-11T10:00:00+07:00")
                .unwrap()
                .to_utc(),
        );
        watch(&app).await;
        assert_eq!(count(&app, Kind::DossierOverdue), 1);
        // Every email sent long ago, then pruned: the notice stays raised.
        let long_ago = to_db_time(chrono::Utc::now() - TimeDelta::days(91));
        {
            let mut conn = app.state.pool.get().unwrap();
            diesel::update(outbox::table)
                .set((
                    outbox::status.eq("sent"),
                    outbox::sent_at.eq(Some(long_ago)),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        OutboxRetention.run(&app.job_context()).await.unwrap();
        let left = app
            .get(
                &format!("/api/v1/notifications?dossier={code}"),
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        assert_eq!(left.body["total"], 0, "{}", left.text);
        watch(&app).await;
        assert_eq!(count(&app, Kind::DossierOverdue), 1);
        let again = app
            .get(
                &format!("/api/v1/notifications?dossier={code}"),
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        assert_eq!(again.body["total"], 0, "overdue notice raised again");
    }
);

backend_test!(
    outbox_retention_keeps_recent_and_unsent_rows,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        for _ in 0..4 {
            app.receive(&o.clerk, "P1").await;
        }
        let now = chrono::Utc::now();
        let ids: Vec<String> = {
            let mut conn = app.state.pool.get().unwrap();
            outbox::table
                .order(outbox::id)
                .select(outbox::id)
                .load(&mut conn)
                .unwrap()
        };
        assert_eq!(ids.len(), 4);
        // Sent 91 days ago (goes), sent 89 days ago (stays), failed 91 days ago (goes), pending.
        let set = |id: &str, status: &str, days: i64| {
            let mut conn = app.state.pool.get().unwrap();
            let at = to_db_time(now - TimeDelta::days(days));
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(status),
                    outbox::sent_at.eq((status == "sent").then_some(at)),
                    outbox::next_attempt_at.eq(at),
                ))
                .execute(&mut conn)
                .unwrap();
        };
        set(&ids[0], "sent", 91);
        set(&ids[1], "sent", 89);
        set(&ids[2], "failed", 91);
        set(&ids[3], "pending", 91);
        OutboxRetention.run(&app.job_context()).await.unwrap();
        let mut conn = app.state.pool.get().unwrap();
        let mut left: Vec<String> = outbox::table.select(outbox::id).load(&mut conn).unwrap();
        left.sort();
        assert_eq!(left, vec![ids[1].clone(), ids[3].clone()]);
    }
);

backend_test!(
    idempotency_purge_job_forgets_keys_after_a_day,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        let body = dossier_body("P1", "direct");
        let send = || {
            let req = app
                .client
                .post(format!("{}/api/v1/dossiers", app.base))
                .insert_header(("Authorization", format!("Bearer {}", o.clerk)))
                .insert_header(("Idempotency-Key", "k-job"));
            let body = body.clone();
            async move {
                let mut r = req.send_json(&body).await.unwrap();
                let v: serde_json::Value = r.json().limit(1 << 20).await.unwrap();
                v["code"].as_str().unwrap().to_owned()
            }
        };
        let first = send().await;
        app.clock.advance(TimeDelta::hours(23));
        IdempotencyPurge.run(&app.job_context()).await.unwrap();
        assert_eq!(send().await, first, "kept for a day");
        app.clock.advance(TimeDelta::hours(2));
        IdempotencyPurge.run(&app.job_context()).await.unwrap();
        assert_ne!(send().await, first, "forgotten after a day");
    }
);

backend_test!(readyz_and_metrics_report_each_job, |app| {
    // This instance runs its jobs (the default).
    let ready = poll_until("every job running", 30, || async {
        let r = app.get("/readyz", None).await.expect(200).body;
        [
            "outbox",
            "due_watcher",
            "idempotency_purge",
            "outbox_retention",
            "orphan_file_sweep",
        ]
        .iter()
        .all(|j| r["jobs"][j]["running"] == true && r["jobs"][j]["last_success_at"].is_string())
        .then_some(r)
    })
    .await;
    assert_eq!(ready["jobs_enabled"], true);
    // No smtp.url: the worker runs but cannot send, so mail is off.
    assert_eq!(ready["mail"], "off", "{ready}");
    assert_eq!(ready["jobs"]["outbox"]["pending"], 0);
    assert!(ready["jobs"]["outbox"]["oldest_pending_seconds"].is_null());
    assert_eq!(ready["jobs"]["due_watcher"]["every_seconds"], 3600.0);
    let o = app.office().await;
    app.receive(&o.clerk, "P1").await;
    app.clock.advance(TimeDelta::minutes(5));
    let ready = app.get("/readyz", None).await.expect(200).body;
    assert_eq!(ready["jobs"]["outbox"]["pending"], 1, "{ready}");
    assert_eq!(ready["jobs"]["outbox"]["oldest_pending_seconds"], 300);
    // The gauges follow at the worker's next pass after the clock moved.
    let metrics = poll_until("the outbox gauges", 30, || async {
        let m = app.get("/metrics", None).await.expect(200).text;
        (m.contains("motcua_outbox_pending 1")
            && m.contains("motcua_outbox_oldest_pending_seconds 300"))
        .then_some(m)
    })
    .await;
    for job in [
        "outbox",
        "due_watcher",
        "idempotency_purge",
        "outbox_retention",
        "orphan_file_sweep",
    ] {
        assert!(
            metrics.contains(&format!(r#"motcua_job_running{{job="{job}"}} 1"#)),
            "{job}: {metrics}"
        );
        assert!(
            metrics.contains(&format!(
                r#"motcua_job_last_success_timestamp_seconds{{job="{job}"}}"#
            )),
            "{job}: {metrics}"
        );
    }

    // An HTTP-only instance on the same database: no jobs, mail off, no job gauges.
    let web = app.another_instance(|s| {
        s.jobs.enabled = false;
        s.smtp.url = Some(secrecy::SecretString::from("smtp://127.0.0.1:1".to_owned()));
    });
    let base = format!("http://{}", web.addr);
    let r = request_to(
        &app.client,
        &base,
        actix_web::http::Method::GET,
        "/readyz",
        None,
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["jobs_enabled"], false);
    assert_eq!(r["mail"], "off", "smtp.url is set, but no worker runs here");
    assert_eq!(r["jobs"]["outbox"]["running"], false);
    assert_eq!(
        r["jobs"]["outbox"]["pending"], 1,
        "the database's count all the same"
    );
    let m = request_to(
        &app.client,
        &base,
        actix_web::http::Method::GET,
        "/metrics",
        None,
        None,
    )
    .await
    .expect(200)
    .text;
    assert!(!m.contains("motcua_outbox_pending"), "{m}");
    assert!(!m.contains("motcua_job_running{"), "{m}");
    web.stop().await.unwrap();
    app.stop().await;
});

backend_test!(stop_ends_every_job, |app| {
    let state = app.state.clone();
    poll_until("jobs running", 30, || async {
        state.jobs.is_running("outbox").then_some(())
    })
    .await;
    app.stop().await;
    for job in state.jobs.snapshot() {
        assert!(!job.running, "{} still running after stop", job.name);
    }
});

backend_test!(
    two_instances_scanning_at_once_raise_each_notice_once,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        overdue_copies(&app, &code, 600);
        let other = app.another_instance(|_| {});
        let (a, b) = (
            app.job_context(),
            motcua::startup::job_context(&other.state),
        );
        let (x, y) = futures_util::future::join(DueWatcher.run(&a), DueWatcher.run(&b)).await;
        x.unwrap();
        y.unwrap();
        assert_eq!(count(&app, Kind::DossierOverdue), 600);
        let mut conn = app.state.pool.get().unwrap();
        let emails: i64 = outbox::table
            .filter(outbox::event.eq("dossier_overdue"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(emails, 600, "an overdue email was written twice");
        drop(conn);
        other.stop().await.unwrap();
    }
);
