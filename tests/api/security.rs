//! Controls of docs/security.md seen over HTTP: the login throttle (and a flood of wrong
//! passwords), look-ups by POST and the per-code lock, trusted proxies, response headers, the
//! last admin, huge page numbers.

use std::time::{Duration, Instant};

use motcua::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::helpers::*;

fn retry_after(r: &Response) -> u64 {
    r.headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {}", r.text))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn login_raw(app: &TestApp, username: &str, password: &str) -> Response {
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
    .await
}

backend_test!(failed_logins_are_throttled_per_username, |app| {
    app.user_with_role("clerk1", Role::Clerk, None).await;
    for _ in 0..5 {
        login_raw(&app, "clerk1", "wrong-password")
            .await
            .expect_problem(401, "auth.unauthorized");
    }
    // Blocked now, even with the right password: it is not even checked.
    let blocked = login_raw(&app, "CLERK1", "clerk1-password")
        .await
        .expect_problem(429, "auth.throttled");
    assert!(
        (1..=60).contains(&retry_after(&blocked)),
        "first block: a minute at most"
    );
    // The address is blocked as well (5 failures from it): another user waits too…
    login_raw(&app, "admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429, "auth.throttled");
    // …but tokens already issued keep working.
    app.get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect(200);
});

backend_test!(a_wrong_current_password_counts_as_a_failed_login, |app| {
    let clerk = app.user_with_role("clerk1", Role::Clerk, None).await;
    for _ in 0..5 {
        app.post(
            "/api/v1/auth/password",
            Some(&clerk),
            &json!({"current_password": "not-it-at-all", "new_password": "new-password-1"}),
        )
        .await
        .expect_problem(422, "auth.wrong_password");
    }
    app.post(
        "/api/v1/auth/password",
        Some(&clerk),
        &json!({"current_password": "clerk1-password", "new_password": "new-password-1"}),
    )
    .await
    .expect_problem(429, "auth.throttled");
});

/// 200 wrong passwords from 20 concurrent clients: all refused (401 until the throttle blocks,
/// then 429 with Retry-After), few argon2 runs, and meanwhile an authenticated request and a
/// public look-up keep answering. Latencies are printed, not asserted (no timed asserts).
async fn flood(app: TestApp) {
    let o = app.office().await;
    let d = app.receive(&o.clerk, "P1").await;
    let (code, key) = (
        d["code"].as_str().unwrap().to_owned(),
        d["lookup_key"].as_str().unwrap().to_owned(),
    );
    let started = Instant::now();
    let attackers: Vec<_> = (0..20)
        .map(|_| {
            let client = awc::Client::new();
            let url = format!("{}/api/v1/auth/login", app.base);
            async move {
                let mut seen = Vec::new();
                for _ in 0..10 {
                    let r = client
                        .post(&url)
                        .send_json(&json!({"username": "clerk1", "password": "guess-guess"}))
                        .await
                        .unwrap();
                    let retry = r.headers().get("retry-after").is_some();
                    seen.push((r.status().as_u16(), retry));
                }
                seen
            }
        })
        .collect();
    let flood = futures_util::future::join_all(attackers);
    let probe = async {
        let mut latencies = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            app.get("/api/v1/auth/me", Some(&o.viewer))
                .await
                .expect(200);
            let me = t.elapsed();
            let t = Instant::now();
            app.post(
                "/api/v1/public/lookup",
                None,
                &json!({"code": code, "key": key}),
            )
            .await
            .expect(200);
            latencies.push((me, t.elapsed()));
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        latencies
    };
    let (results, latencies) = futures_util::future::join(flood, probe).await;
    let took = started.elapsed();
    let all: Vec<(u16, bool)> = results.into_iter().flatten().collect();
    assert_eq!(all.len(), 200);
    let failed = all.iter().filter(|(s, _)| *s == 401).count();
    let throttled = all.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(failed + throttled, 200, "only 401 and 429: {all:?}");
    assert!(
        all.iter().all(|(s, retry)| *s != 429 || *retry),
        "429 without Retry-After"
    );
    // Once 5 failures are recorded nothing more is checked; at most the 20 attempts already in
    // flight still run argon2.
    assert!(failed <= 5 + 20, "{failed} passwords were checked");
    let worst_me = latencies.iter().map(|l| l.0).max().unwrap();
    let worst_lookup = latencies.iter().map(|l| l.1).max().unwrap();
    eprintln!(
        "login flood ({:?}): 200 attempts in {took:?}: {failed} × 401, {throttled} × 429; \
         during it GET /auth/me worst {worst_me:?}, POST /public/lookup worst {worst_lookup:?}",
        app.db.backend
    );
}

backend_test!(a_login_flood_is_throttled_and_starves_nothing, |app| {
    flood(app).await
});

backend_test!(lookup_by_post_and_the_per_code_lock, |app| {
    let o = app.office().await;
    let d = app.receive(&o.clerk, "P1").await;
    let code = d["code"].as_str().unwrap();
    let key = d["lookup_key"].as_str().unwrap();
    let ok = app
        .post(
            "/api/v1/public/lookup",
            None,
            &json!({"code": code, "key": key}),
        )
        .await
        .expect(200);
    assert_eq!(ok.body["state"], "received");
    assert_eq!(ok.headers.get("cache-control").unwrap(), "no-store");
    // The page's form posts the key.
    let mut resp = app
        .client
        .post(format!("{}/tra-cuu", app.base))
        .send_form(&[("code", code), ("key", key)])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = String::from_utf8(resp.body().await.unwrap().to_vec()).unwrap();
    assert!(page.contains("Được tiếp nhận"), "{page}");
    assert!(page.contains(r#"method="post""#));
    // A body that is not {code, key}.
    app.post("/api/v1/public/lookup", None, &json!({"code": code}))
        .await
        .expect_problem(422, "request.invalid_body");
});

backend_test!(ten_wrong_keys_lock_the_code_whoever_sends_them, |app| {
    // The per-address limit is not what stops these: lift it.
    let backend = app.db.backend;
    app.stop().await;
    let app = TestApp::spawn_with(backend, |s| s.public.lookup_per_minute = 1000).await;
    let o = app.office().await;
    let d = app.receive(&o.clerk, "P1").await;
    let code = d["code"].as_str().unwrap();
    let key = d["lookup_key"].as_str().unwrap();
    for _ in 0..10 {
        app.post(
            "/api/v1/public/lookup",
            None,
            &json!({"code": code, "key": "WRONG1"}),
        )
        .await
        .expect_problem(404, "lookup.not_found");
    }
    let locked = app
        .post(
            "/api/v1/public/lookup",
            None,
            &json!({"code": code, "key": key}),
        )
        .await
        .expect_problem(429, "lookup.code_locked");
    assert!(retry_after(&locked) > 3000, "locked for the hour");
    // An unknown code locks the same way, so the lock tells nothing about existence.
    for _ in 0..10 {
        app.post(
            "/api/v1/public/lookup",
            None,
            &json!({"code": "NOPE-1", "key": "WRONG1"}),
        )
        .await
        .expect_problem(404, "lookup.not_found");
    }
    app.post(
        "/api/v1/public/lookup",
        None,
        &json!({"code": "NOPE-1", "key": "WRONG1"}),
    )
    .await
    .expect_problem(429, "lookup.code_locked");
    // Other codes are not affected.
    let d2 = app.receive(&o.clerk, "P1").await;
    app.post(
        "/api/v1/public/lookup",
        None,
        &json!({"code": d2["code"], "key": d2["lookup_key"]}),
    )
    .await
    .expect(200);
});

backend_test!(forwarded_for_is_believed_only_from_trusted_proxies, |app| {
    let lookups = |app: &TestApp, xff: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/public/lookup", app.base);
        async move {
            let r = client
                .post(&url)
                .insert_header(("X-Forwarded-For", xff))
                .send_json(&json!({"code": "NOPE", "key": "NOPE"}))
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    // Untrusted peer: a changing X-Forwarded-For does not buy more look-ups (the 11th is
    // refused by the address limit; the code lock would only start at the 11th wrong key).
    let mut statuses = Vec::new();
    for i in 0..11 {
        statuses.push(lookups(&app, ["198.51.100.1", "198.51.100.2"][i % 2]).await);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    let backend = app.db.backend;
    app.stop().await;

    // Behind a trusted proxy (the test client on 127.0.0.1), each forwarded client has its own
    // budget, and IPv6 clients of one /64 share one.
    let app = TestApp::spawn_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
        // Not the per-code lock's test: the same unknown code is asked for throughout.
        s.public.wrong_keys_per_code = 1000;
    })
    .await;
    for _ in 0..10 {
        assert_eq!(lookups(&app, "198.51.100.1").await, 404);
    }
    assert_eq!(lookups(&app, "198.51.100.1").await, 429);
    assert_eq!(lookups(&app, "198.51.100.2").await, 404);
    for _ in 0..10 {
        assert_eq!(lookups(&app, "2001:db8:1:2::1").await, 404);
    }
    assert_eq!(lookups(&app, "2001:db8:1:2:ffff::7").await, 429);
    assert_eq!(lookups(&app, "2001:db8:1:3::1").await, 404);
});

backend_test!(responses_carry_the_security_headers, |app| {
    let api = app
        .get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(
        api.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(api.headers.get("cache-control").unwrap(), "no-store");
    let err = app.get("/api/v1/nope", None).await.expect(404);
    assert_eq!(
        err.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let page = app.get("/tra-cuu", None).await.expect(200);
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert!(!csp.contains("script-src"), "no script may run: {csp}");
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(!page.text.contains("<script"), "the page has a script");
});

backend_test!(the_last_active_admin_stays, |app| {
    for body in [json!({"active": false}), json!({"role": "viewer"})] {
        app.patch("/api/v1/users/admin", Some(&app.admin_token), &body)
            .await
            .expect_problem(409, "user.last_admin");
    }
    app.get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect(200);
    // With a second admin, the first may step down.
    app.user_with_role("admin2", Role::Admin, None).await;
    app.patch(
        "/api/v1/users/admin",
        Some(&app.admin_token),
        &json!({"role": "viewer"}),
    )
    .await
    .expect(200);
    let admin2 = app.login("admin2", "admin2-password").await;
    app.patch(
        "/api/v1/users/admin2",
        Some(&admin2),
        &json!({"active": false}),
    )
    .await
    .expect_problem(409, "user.last_admin");
    // A disabled admin does not count, and changing it is no threat.
    app.patch(
        "/api/v1/users/admin",
        Some(&admin2),
        &json!({"active": false}),
    )
    .await
    .expect(200);
});

backend_test!(huge_or_odd_page_numbers_are_422, |app| {
    for path in [
        "/api/v1/users?page=99999999999999",
        "/api/v1/users?page=99999999999999999999999",
        "/api/v1/users?per_page=99999999999999",
        "/api/v1/users?page=0",
        "/api/v1/users?page=abc",
        "/api/v1/dossiers?page=99999999999999",
        "/api/v1/notifications?per_page=-1",
        "/api/v1/procedures?page=1e9",
    ] {
        app.get(path, Some(&app.admin_token))
            .await
            .expect_problem(422, "validation.failed");
    }
    let last = app
        .get(
            "/api/v1/users?page=1000000&per_page=200",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert_eq!(last.body["items"], Value::Array(vec![]));
});

// Two admins demoting each other at the same moment: one of them stays admin (on PostgreSQL
// each transaction would otherwise still see the other as active).
backend_test!(two_admins_demoting_each_other_leave_one, |app| {
    let ta = app.user_with_role("admin-a", Role::Admin, None).await;
    let tb = app.user_with_role("admin-b", Role::Admin, None).await;
    // The original admin steps aside (allowed: two others remain), then the two race.
    app.patch("/api/v1/users/admin", Some(&ta), &json!({"active": false}))
        .await
        .expect(200);
    let (ra, rb) = futures_util::future::join(
        app.patch(
            "/api/v1/users/admin-b",
            Some(&ta),
            &json!({"role": "viewer"}),
        ),
        app.patch(
            "/api/v1/users/admin-a",
            Some(&tb),
            &json!({"role": "viewer"}),
        ),
    )
    .await;
    let statuses = [ra.status.as_u16(), rb.status.as_u16()];
    // The loser is refused as the last admin (409), or its token is already revoked (401).
    assert!(
        statuses.contains(&200) && statuses.iter().any(|s| matches!(s, 401 | 409)),
        "{statuses:?} {} {}",
        ra.text,
        rb.text
    );
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(
        motcua::db::users::count_active_admins(&mut conn).unwrap(),
        1
    );
});
