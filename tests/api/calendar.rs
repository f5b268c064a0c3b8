//! The calendar routes: shipped data, admin edits with their log, and explained due times.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::backend_test;

/// An RFC 3339 time with offset as a UTC instant.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Fri 29/01/2027 10:00 + 5 working days: with the provisional Tết 2027 (Thu 04/02 – Wed
/// 10/02) off, Mon 01, Tue 02, Wed 03, Thu 11 and Fri 12/02 count.
const JAN_2027: &str =
    "/api/v1/calendar/due?start=2027-01-29T10:00:00%2B07:00&value=5&unit=working_days";

fn day_of<'a>(days: &'a Value, date: &str) -> Option<&'a Value> {
    days.as_array().unwrap().iter().find(|d| d["date"] == date)
}

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
    assert_eq!(
        ready.body["calendar"]["sources"],
        json!({"2025": "decided", "2026": "decided"})
    );
    assert!(days.iter().all(|d| d["provisional"] == false), "{days:?}");
    // 2023 is shipped too: Tết Quý Mão 20/01–26/01/2023, nghỉ bù Mon 02/01/2023.
    let y23 = app
        .get("/api/v1/calendar/days?year=2023", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(day_of(&y23.body, "2023-01-20").unwrap()["kind"], "holiday");
    assert_eq!(
        day_of(&y23.body, "2023-01-02").unwrap()["kind"],
        "compensatory_off"
    );
    assert!(
        day_of(&y23.body, "2023-01-20").unwrap()["source"]
            .as_str()
            .unwrap()
            .contains("8056/VPCP-KGVX")
    );
    assert_eq!(
        day_of(&y23.body, "2023-01-20").unwrap()["provisional"],
        false
    );
});

backend_test!(a_year_without_a_decision_is_provisional_everywhere, |app| {
    // Late 2026: due times reach into 2027, which has no shipped file and no entry.
    app.clock.set(at("2026-11-16T09:00:00+07:00"));
    let token = app.admin_token.clone();
    let ready = app.get("/readyz", None).await.expect(200);
    let check = &ready.body["calendar"];
    assert_eq!(
        check["sources"],
        json!({"2026": "decided", "2027": "provisional"})
    );
    assert_eq!(check["years"], json!({"2026": true, "2027": false}));
    assert_eq!(check["ok"], false);
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .starts_with("2027: provisional, from the Labor Code"),
        "{check}"
    );

    let y27 = app
        .get("/api/v1/calendar/days?year=2027", Some(&token))
        .await
        .expect(200);
    let list = y27.body.as_array().unwrap();
    assert!(
        list.iter().all(|d| d["provisional"] == true),
        "{}",
        y27.text
    );
    assert!(list.iter().all(|d| {
        d["source"]
            .as_str()
            .unwrap()
            .starts_with("Tạm tính theo Bộ luật Lao động 2019")
    }));
    for date in [
        "2027-01-01",
        "2027-02-04",
        "2027-02-08",
        "2027-02-10",
        "2027-04-16",
        "2027-04-30",
        "2027-05-01",
        "2027-09-02",
        "2027-09-03",
    ] {
        assert_eq!(
            day_of(&y27.body, date).unwrap()["kind"],
            "holiday",
            "{date}"
        );
    }
    assert_eq!(
        day_of(&y27.body, "2027-05-03").unwrap()["kind"],
        "compensatory_off"
    );
    assert!(day_of(&y27.body, "2027-02-11").is_none());
    // The default year is the clock's: 2026, decided.
    let y26 = app
        .get("/api/v1/calendar/days", Some(&token))
        .await
        .expect(200);
    assert!(day_of(&y26.body, "2026-02-16").is_some());
    assert!(
        y26.body
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["provisional"] == false)
    );

    let due = app.get(JAN_2027, Some(&token)).await.expect(200);
    assert_eq!(
        due.body["due_at"], "2027-02-12T10:00:00+07:00",
        "{}",
        due.text
    );
    assert_eq!(due.body["provisional_years"], json!([2027]));
    assert_eq!(due.body["years_without_data"], json!([]));
    let tet = day_of(&due.body["days"], "2027-02-08").unwrap();
    assert_eq!(tet["kind"], "holiday");
    assert_eq!(tet["counted"], false);
    assert_eq!(tet["provisional"], true);
    for day in due.body["days"].as_array().unwrap() {
        assert!(
            day["reason"]
                .as_str()
                .unwrap()
                .contains("tạm tính theo Bộ luật Lao động")
                && day["reason_en"].as_str().unwrap().contains("provisional"),
            "{day}"
        );
    }
});

backend_test!(
    a_dossier_received_in_january_2027_is_due_after_the_provisional_tet,
    |app| {
        let o = app.office().await;
        // Fri 29/01/2027 10:00 + 5 working days (P1): due Fri 12/02/2027 10:00, after Tết.
        // Counting weekends only would have given Fri 05/02, the second day of Tết.
        app.clock.set(at("2027-01-29T10:00:00+07:00"));
        let d = app.receive(&o.clerk, "P1").await;
        assert_eq!(d["received_at"], "2027-01-29T10:00:00+07:00");
        assert_eq!(d["due_at"], "2027-02-12T10:00:00+07:00", "{d}");
        // The first step (3 working days) ends before Tết: Wed 03/02 10:00.
        let code = d["code"].as_str().unwrap();
        let t = app
            .act(&o.clerk, code, "transfer", json!({}))
            .await
            .expect(200);
        assert_eq!(
            t.body["current_step"]["due_at"], "2027-02-03T10:00:00+07:00",
            "{}",
            t.text
        );
    }
);

backend_test!(
    an_admin_entry_replaces_the_provisional_days_of_its_year,
    |app| {
        let o = app.office().await;
        let token = app.admin_token.clone();
        app.clock.set(at("2027-01-29T10:00:00+07:00"));
        let code = app.receive_code(&o.clerk, "P1").await;
        // The government's decision is entered day by day; its first entry ends the
        // provisional days of 2027 (here: only Fri 05/02 is entered so far).
        let put = app
        .request(
            actix_web::http::Method::PUT,
            "/api/v1/calendar/days/2027-02-05",
            Some(&token),
            Some(&json!({"kind": "holiday", "name": "Tết Nguyên đán", "source": "Thông báo thử"})),
        )
        .await
        .expect(200);
        assert_eq!(put.body["provisional"], false);
        let y27 = app
            .get("/api/v1/calendar/days?year=2027", Some(&token))
            .await
            .expect(200);
        assert_eq!(y27.body.as_array().unwrap().len(), 1, "{}", y27.text);
        assert_eq!(y27.body[0]["date"], "2027-02-05");
        assert_eq!(y27.body[0]["provisional"], false);
        // Due times now count the entered data only: Mon 01–Thu 04 count, Fri 05 is off,
        // Mon 08/02 is day 5.
        let due = app.get(JAN_2027, Some(&token)).await.expect(200);
        assert_eq!(
            due.body["due_at"], "2027-02-08T10:00:00+07:00",
            "{}",
            due.text
        );
        assert_eq!(due.body["provisional_years"], json!([]));
        assert!(day_of(&due.body["days"], "2027-02-08").unwrap()["provisional"] == false);
        let ready = app.get("/readyz", None).await.expect(200);
        assert_eq!(
            ready.body["calendar"]["sources"],
            json!({"2027": "decided", "2028": "provisional"})
        );
        // An open dossier's due time is never made earlier by a calendar change.
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(d.body["due_at"], "2027-02-12T10:00:00+07:00");

        // Removing the only entry leaves 2027 without a decision again: provisional.
        app.request(
            actix_web::http::Method::DELETE,
            "/api/v1/calendar/days/2027-02-05",
            Some(&token),
            None,
        )
        .await
        .expect(204);
        let y27 = app
            .get("/api/v1/calendar/days?year=2027", Some(&token))
            .await
            .expect(200);
        assert!(day_of(&y27.body, "2027-02-08").unwrap()["provisional"] == true);
        let due = app.get(JAN_2027, Some(&token)).await.expect(200);
        assert_eq!(due.body["due_at"], "2027-02-12T10:00:00+07:00");
    }
);

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
