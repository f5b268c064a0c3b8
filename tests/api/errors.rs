//! Every error is problem+json: malformed bodies, wrong shapes, unknown routes, wrong roles.

use motcua::auth::Role;
use serde_json::json;

use crate::backend_test;

backend_test!(malformed_json_is_400_and_wrong_shape_is_422, |app| {
    app.post_raw(
        "/api/v1/auth/login",
        None,
        "application/json",
        "{\"username\": ",
    )
    .await
    .expect_problem(400, "request.malformed_json");
    app.post_raw(
        "/api/v1/units",
        Some(&app.admin_token),
        "application/json",
        "[1, 2",
    )
    .await
    .expect_problem(400, "request.malformed_json");
    app.post_raw(
        "/api/v1/auth/login",
        None,
        "application/json",
        "{\"username\": 5}",
    )
    .await
    .expect_problem(422, "request.invalid_body");
    app.post_raw("/api/v1/auth/login", None, "text/plain", "hello")
        .await
        .expect_problem(415, "request.content_type");
});

backend_test!(unknown_routes_are_404_problems, |app| {
    app.get("/api/v1/nothing-here", None)
        .await
        .expect_problem(404, "route.not_found");
    app.get("/", Some(&app.admin_token))
        .await
        .expect_problem(404, "route.not_found");
    // A known path with a method it does not have: 405 with the methods it has.
    let r = app
        .request(
            actix_web::http::Method::DELETE,
            "/api/v1/units",
            Some(&app.admin_token),
            None,
        )
        .await
        .expect_problem(405, "route.method_not_allowed");
    assert_eq!(r.headers.get("allow").unwrap(), "GET, POST");
});

backend_test!(clerk_on_an_admin_route_is_403, |app| {
    let clerk = app.user_with_role("clerk1", Role::Clerk, None).await;
    app.post(
        "/api/v1/units",
        Some(&clerk),
        &json!({"code": "X", "name": "X"}),
    )
    .await
    .expect_problem(403, "auth.forbidden");
    app.get("/api/v1/users", Some(&clerk))
        .await
        .expect_problem(403, "auth.forbidden");
    // …and the refused request created nothing.
    let units = app.get("/api/v1/units", Some(&clerk)).await.expect(200);
    assert_eq!(units.body.as_array().unwrap().len(), 0);
});

backend_test!(bad_query_parameters_are_problems, |app| {
    app.get("/api/v1/dossiers?overdue=maybe", Some(&app.admin_token))
        .await
        .expect_problem(400, "request.bad_query");
    // Page numbers that are not numbers are refused like out-of-range ones.
    app.get("/api/v1/users?page=abc", Some(&app.admin_token))
        .await
        .expect_problem(422, "validation.failed");
    let r = app
        .get("/api/v1/users?per_page=500", Some(&app.admin_token))
        .await
        .expect_problem(422, "validation.failed");
    assert!(r.body["errors"]["per_page"].is_string());
});
