//! Login, tokens and their revocation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use motcua::auth::{Claims, Role};
use serde_json::json;

use crate::backend_test;
use crate::helpers::*;

backend_test!(login_answers_a_bearer_token_and_me, |app| {
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["user"]["username"], "admin");
    assert!(r.body["user"].get("password_hash").is_none());
    assert!(r.body["expires_at"].as_str().unwrap().len() > 10);
    let token = r.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", Some(token)).await.expect(200);
    assert_eq!(me.body["role"], "admin");
});

backend_test!(wrong_password_and_unknown_user_are_the_same_401, |app| {
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "admin", "password": "nope-nope"}),
        )
        .await
        .expect_problem(401, "auth.unauthorized");
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ghost", "password": "nope-nope"}),
        )
        .await
        .expect_problem(401, "auth.unauthorized");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
});

fn admin_claims(exp_offset: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: String::new(),
        role: Role::Admin,
        tv: 0,
        iat: now - 100,
        exp: now + exp_offset,
    }
}

async fn admin_id(app: &TestApp) -> String {
    let me = app
        .get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect(200);
    me.body["id"].as_str().unwrap().to_owned()
}

backend_test!(expired_forged_and_alg_none_tokens_are_401, |app| {
    let id = admin_id(&app).await;
    let sign = |claims: &Claims, secret: &str| {
        jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    // A well-signed token is accepted, so the refusals below are about what they change.
    let good = Claims {
        sub: id.clone(),
        ..admin_claims(600)
    };
    app.get("/api/v1/auth/me", Some(&sign(&good, JWT_SECRET)))
        .await
        .expect(200);

    let expired = Claims {
        sub: id.clone(),
        ..admin_claims(-10)
    };
    app.get("/api/v1/auth/me", Some(&sign(&expired, JWT_SECRET)))
        .await
        .expect_problem(401, "auth.unauthorized");

    let forged = sign(&good, "another-secret-another-secret-another");
    app.get("/api/v1/auth/me", Some(&forged))
        .await
        .expect_problem(401, "auth.unauthorized");

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
    for none in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        app.get("/api/v1/auth/me", Some(&none))
            .await
            .expect_problem(401, "auth.unauthorized");
    }

    // HS512 with the right secret: the algorithm is pinned to HS256.
    let hs512 = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &good,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    app.get("/api/v1/auth/me", Some(&hs512))
        .await
        .expect_problem(401, "auth.unauthorized");

    app.get("/api/v1/auth/me", Some("garbage"))
        .await
        .expect_problem(401, "auth.unauthorized");
    app.get("/api/v1/auth/me", None)
        .await
        .expect_problem(401, "auth.unauthorized");
});

backend_test!(password_change_ends_earlier_tokens, |app| {
    let old = app.user_with_role("clerk1", Role::Clerk, None).await;
    app.post(
        "/api/v1/auth/password",
        Some(&old),
        &json!({"current_password": "wrong-password", "new_password": "brand-new-pass"}),
    )
    .await
    .expect_problem(422, "auth.wrong_password");
    app.post(
        "/api/v1/auth/password",
        Some(&old),
        &json!({"current_password": "clerk1-password", "new_password": "short"}),
    )
    .await
    .expect_problem(422, "validation.failed");
    // The refusals changed nothing: the token still works.
    app.get("/api/v1/auth/me", Some(&old)).await.expect(200);

    app.post(
        "/api/v1/auth/password",
        Some(&old),
        &json!({"current_password": "clerk1-password", "new_password": "brand-new-pass"}),
    )
    .await
    .expect(204);
    app.get("/api/v1/auth/me", Some(&old))
        .await
        .expect_problem(401, "auth.unauthorized");
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "clerk1", "password": "clerk1-password"}),
    )
    .await
    .expect(401);
    let new = app.login("clerk1", "brand-new-pass").await;
    app.get("/api/v1/auth/me", Some(&new)).await.expect(200);
});

backend_test!(disabling_a_user_or_changing_the_role_ends_tokens, |app| {
    let t = app.user_with_role("viewer1", Role::Viewer, None).await;
    app.patch(
        "/api/v1/users/viewer1",
        Some(&app.admin_token),
        &json!({"role": "clerk"}),
    )
    .await
    .expect(200);
    app.get("/api/v1/auth/me", Some(&t))
        .await
        .expect_problem(401, "auth.unauthorized");
    let t2 = app.login("viewer1", "viewer1-password").await;
    let me = app.get("/api/v1/auth/me", Some(&t2)).await.expect(200);
    assert_eq!(me.body["role"], "clerk");

    app.patch(
        "/api/v1/users/viewer1",
        Some(&app.admin_token),
        &json!({"active": false}),
    )
    .await
    .expect(200);
    app.get("/api/v1/auth/me", Some(&t2))
        .await
        .expect_problem(401, "auth.unauthorized");
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "viewer1", "password": "viewer1-password"}),
    )
    .await
    .expect_problem(401, "auth.unauthorized");
});
