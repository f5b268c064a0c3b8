//! Units and users administration.

use motcua::auth::Role;
use serde_json::json;

use crate::backend_test;

backend_test!(units_are_created_listed_and_validated, |app| {
    let r = app
        .post(
            "/api/v1/units",
            Some(&app.admin_token),
            &json!({"code": "P.DT", "name": "Phòng Quản lý Đầu tư", "email": "dautu@example.test"}),
        )
        .await
        .expect(201);
    assert_eq!(r.headers.get("location").unwrap(), "/api/v1/units/P.DT");
    app.post(
        "/api/v1/units",
        Some(&app.admin_token),
        &json!({"code": "P.DT", "name": "again"}),
    )
    .await
    .expect_problem(409, "unit.exists");
    let bad = app
        .post(
            "/api/v1/units",
            Some(&app.admin_token),
            &json!({"code": "bad code!", "name": "", "email": "nope"}),
        )
        .await
        .expect_problem(422, "validation.failed");
    for field in ["code", "name", "email"] {
        assert!(
            bad.body["errors"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
    let officer = app
        .user_with_role("officer1", Role::Officer, Some("P.DT"))
        .await;
    let list = app.get("/api/v1/units", Some(&officer)).await.expect(200);
    assert_eq!(
        list.body,
        json!([{"code": "P.DT", "name": "Phòng Quản lý Đầu tư", "email": "dautu@example.test"}])
    );
});

backend_test!(users_are_created_paged_and_validated, |app| {
    app.create_unit("U1").await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&app.admin_token),
            &json!({"username": "Leader.One", "password": "leader-pass-1", "full_name": "Nguyễn Văn A",
                    "email": "a@example.test", "role": "leader", "unit_code": "U1"}),
        )
        .await
        .expect(201);
    // Usernames are case-insensitive and stored lower-case.
    assert_eq!(created.body["username"], "leader.one");
    app.login("LEADER.ONE", "leader-pass-1").await;
    app.post(
        "/api/v1/users",
        Some(&app.admin_token),
        &json!({"username": "leader.one", "password": "whatever-1", "role": "viewer"}),
    )
    .await
    .expect_problem(409, "user.exists");

    let bad = app
        .post(
            "/api/v1/users",
            Some(&app.admin_token),
            &json!({"username": "x", "password": "short", "role": "officer", "email": "not-an-email"}),
        )
        .await
        .expect_problem(422, "validation.failed");
    for field in ["username", "password", "unit_code", "email"] {
        assert!(
            bad.body["errors"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
    app.post(
        "/api/v1/users",
        Some(&app.admin_token),
        &json!({"username": "o2", "password": "long-enough", "role": "officer", "unit_code": "NOPE"}),
    )
    .await
    .expect_problem(422, "validation.failed");
    app.post(
        "/api/v1/users",
        Some(&app.admin_token),
        &json!({"username": "o3", "password": "long-enough", "role": "emperor"}),
    )
    .await
    .expect_problem(422, "request.invalid_body");

    for i in 0..3 {
        app.user_with_role(&format!("viewer{i}"), Role::Viewer, None)
            .await;
    }
    let page = app
        .get("/api/v1/users?page=2&per_page=2", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(page.body["total"], 5);
    assert_eq!(page.body["page"], 2);
    assert_eq!(page.body["per_page"], 2);
    let names: Vec<_> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, vec![json!("viewer0"), json!("viewer1")]);

    let one = app
        .get("/api/v1/users/leader.one", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(one.body["unit_code"], "U1");
    app.get("/api/v1/users/nobody", Some(&app.admin_token))
        .await
        .expect_problem(404, "user.not_found");
    // Clearing the unit of a leader is refused; the user keeps it.
    app.patch(
        "/api/v1/users/leader.one",
        Some(&app.admin_token),
        &json!({"unit_code": null}),
    )
    .await
    .expect_problem(422, "validation.failed");
    let one = app
        .get("/api/v1/users/leader.one", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(one.body["unit_code"], "U1");
});
