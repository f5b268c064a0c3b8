//! The calendar routes: shipped data, admin edits with their log, and explained due times.

use serde_json::json;

use crate::backend_test;

const TET_2025_START: &str =
    "/api/v1/calendar/due?start=2025-01-24T10:00:00%2B07:00&value=3&unit=working_days";

backend_test!(shipped_calendar_is_loaded_and_listed, |app| {
    let days = app
        .get("/api/v1/calendar/days?year=2025", Some(&app.admin_token))
        .await
        .expect(200);
    let days = days.body.as_array().unwrap().clone();
    let find = |d: &str| days.iter().find(|x| x["date"] == d).cloned();
    assert_eq!(find("2025-01-29").unwrap()["kind"], "holiday");
    assert_eq!(find("2025-04-26").unwrap()["kind"], "makeup_workday");
    assert_eq!(find("2025-05-02").unwrap()["kind"], "swapped_off");
    assert!(find("2025-03-03").is_none());
    assert!(
        days.iter()
            .all(|d| d["date"].as_str().unwrap().starts_with("2025-"))
    );
    // The default year is the clock's (2025 in tests).
    let default = app
        .get("/api/v1/calendar/days", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(default.body.as_array().unwrap().len(), days.len());

    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready.body["calendar"]["ok"], true, "{}", ready.text);
    assert_eq!(
        ready.body["calendar"]["years"],
        json!({"2025": true, "2026": true})
    );
});

backend_test!(due_is_explained_day_by_day, |app| {
    // Friday 24/01/2025 10:00 + 3 working days: Tết runs 25/01–02/02, so Mon 03, Tue 04,
    // Wed 05/02 count, due Wednesday 05/02 at 10:00.
    let r = app
        .get(TET_2025_START, Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(r.body["due_at"], "2025-02-05T10:00:00+07:00", "{}", r.text);
    assert_eq!(r.body["effective_start"], "2025-01-24T10:00:00+07:00");
    let days = r.body["days"].as_array().unwrap();
    assert_eq!(days.first().unwrap()["date"], "2025-01-24");
    assert_eq!(days.last().unwrap()["date"], "2025-02-05");
    let tet = days.iter().find(|d| d["date"] == "2025-01-29").unwrap();
    assert_eq!(tet["counted"], false);
    assert_eq!(tet["kind"], "holiday");
    assert!(tet["reason"].as_str().unwrap().contains("Tết"), "{tet}");
    assert_eq!(days.iter().filter(|d| d["counted"] == true).count(), 3);

    let bad = app
        .get(
            "/api/v1/calendar/due?start=yesterday&value=-1&unit=fortnights",
            Some(&app.admin_token),
        )
        .await
        .expect_problem(422, "validation.failed");
    for field in ["start", "value", "unit"] {
        assert!(
            bad.body["errors"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
});

backend_test!(admin_edits_change_due_times_and_are_logged, |app| {
    let token = app.admin_token.clone();
    let put = app
        .request(
            actix_web::http::Method::PUT,
            "/api/v1/calendar/days/2025-02-04",
            Some(&token),
            Some(&json!({"kind": "holiday", "name": "Nghỉ đột xuất", "source": "Quyết định thử"})),
        )
        .await
        .expect(200);
    assert_eq!(put.body["kind"], "holiday");
    // Tuesday 04/02 no longer counts: due moves to Thursday 06/02.
    let r = app.get(TET_2025_START, Some(&token)).await.expect(200);
    assert_eq!(r.body["due_at"], "2025-02-06T10:00:00+07:00");

    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/calendar/days/2025-02-04",
        Some(&token),
        None,
    )
    .await
    .expect(204);
    let r = app.get(TET_2025_START, Some(&token)).await.expect(200);
    assert_eq!(r.body["due_at"], "2025-02-05T10:00:00+07:00");
    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/calendar/days/2025-02-04",
        Some(&token),
        None,
    )
    .await
    .expect_problem(404, "calendar.day_not_found");

    let log = app
        .get("/api/v1/calendar/changes", Some(&token))
        .await
        .expect(200);
    let log = log.body.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|c| c["actor"] == "admin" && c["date"] == "2025-02-04")
    );
    assert!(
        log.iter()
            .any(|c| c["old"].is_null() && c["new"]["name"] == "Nghỉ đột xuất")
    );
    assert!(
        log.iter()
            .any(|c| c["new"].is_null() && c["old"]["kind"] == "holiday")
    );

    // Bad edits are refused and change nothing.
    for (date, body) in [
        (
            "2025-03-04",
            json!({"kind": "makeup_workday", "name": "Làm bù thứ Ba?"}),
        ),
        ("2025-03-04", json!({"kind": "festival", "name": "x"})),
        ("2025-03-04", json!({"kind": "holiday", "name": "  "})),
    ] {
        let r = app
            .request(
                actix_web::http::Method::PUT,
                &format!("/api/v1/calendar/days/{date}"),
                Some(&token),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
    }
    app.request(
        actix_web::http::Method::PUT,
        "/api/v1/calendar/days/2025-02-30",
        Some(&token),
        Some(&json!({"kind": "holiday", "name": "x"})),
    )
    .await
    .expect_problem(404, "calendar.bad_date");
    let log = app
        .get("/api/v1/calendar/changes", Some(&token))
        .await
        .expect(200);
    assert_eq!(log.body.as_array().unwrap().len(), 2);
});

backend_test!(loading_the_files_again_keeps_admin_edits, |app| {
    let token = app.admin_token.clone();
    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/calendar/days/2025-01-01",
        Some(&token),
        None,
    )
    .await
    .expect(204);
    // What a restart does: load the files again.
    let files =
        motcua::app::calendar::read_calendar_files(&app.state.settings.calendar.data_dir).unwrap();
    let mut conn = app.state.pool.get().unwrap();
    let loaded =
        motcua::app::calendar::load_calendar_files(&mut conn, &files, app.clock.now()).unwrap();
    assert!(loaded.is_empty(), "years loaded again: {loaded:?}");
    drop(conn);
    let days = app
        .get("/api/v1/calendar/days?year=2025", Some(&token))
        .await
        .expect(200);
    assert!(
        days.body
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["date"] != "2025-01-01")
    );
});
