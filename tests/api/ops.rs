//! Operations routes: health, readiness, metrics, the OpenAPI document and the docs page.

use crate::backend_test;
use crate::helpers::request_to;

backend_test!(health_readiness_metrics_and_docs, |app| {
    let h = app.get("/healthz", None).await.expect(200);
    assert_eq!(h.body["status"], "ok");
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.body["status"], "ready");
    assert_eq!(r.body["migrations"]["ok"], true);

    app.get("/api/v1/nothing", None).await.expect(404);
    let m = app.get("/metrics", None).await.expect(200);
    assert!(m.text.contains("motcua_http_requests_total"), "{}", m.text);
    assert!(m.text.contains(r#"endpoint="/readyz""#) && m.text.contains(r#"status="200""#));

    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc.body["paths"]["/api/v1/auth/login"]["post"].is_object());
    let docs = app.get("/docs/", None).await.expect(200);
    assert!(
        docs.text.contains("swagger-ui"),
        "docs page: {}",
        &docs.text[..docs.text.len().min(300)]
    );
    // Served from the binary, not from a CDN.
    assert!(!docs.text.contains("cdn."), "docs page loads from a CDN");

    // `/docs`, as people type it, leads there.
    let plain = awc::Client::builder().disable_redirects().finish();
    let r = request_to(
        &plain,
        &app.base,
        actix_web::http::Method::GET,
        "/docs",
        None,
        None,
    )
    .await;
    assert_eq!(r.status.as_u16(), 308, "{}", r.text);
    assert_eq!(r.headers.get("location").unwrap(), "/docs/");
    let followed = app.get("/docs", None).await.expect(200);
    assert!(followed.text.contains("swagger-ui"));
});
