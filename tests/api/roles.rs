//! Walks every route of the route table with every role and with no token, and checks
//! 401 / 403 / allowed against the route's declared access.

use actix_web::http::Method;
use motcua::auth::Role;
use motcua::http::{Access, ROUTES};
use serde_json::json;

use crate::backend_test;

fn concrete(path: &str) -> String {
    // Any `{param}` becomes a value that names nothing: allowed callers get 4xx other than 401/403.
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str("zz-none");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

backend_test!(every_route_checks_roles_as_declared, |app| {
    app.create_unit("U1").await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let unit = role.needs_unit().then_some("U1");
        let token = if role == Role::Admin {
            app.admin_token.clone()
        } else {
            app.user_with_role(&format!("r-{role}"), role, unit).await
        };
        tokens.push((role, token));
    }
    let body = json!({});
    let mut checked = 0;
    for route in ROUTES {
        let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
        let path = concrete(route.path);
        let with_body = matches!(route.method, "post" | "put" | "patch").then_some(&body);

        let anon = app.request(method.clone(), &path, None, with_body).await;
        if route.access == Access::Public {
            assert!(
                !matches!(anon.status.as_u16(), 401 | 403),
                "{} {path} is public but answered {} without a token",
                route.method,
                anon.status
            );
        } else {
            assert_eq!(
                anon.status, 401,
                "{} {path} without a token: {}",
                route.method, anon.text
            );
            assert_eq!(anon.content_type(), "application/problem+json");
        }
        for (role, token) in &tokens {
            let r = app
                .request(method.clone(), &path, Some(token), with_body)
                .await;
            if route.access.allows(*role) {
                assert!(
                    !matches!(r.status.as_u16(), 401 | 403),
                    "{} {path} should allow {role}, answered {}: {}",
                    route.method,
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(
                    r.status, 403,
                    "{} {path} should refuse {role}: {}",
                    route.method, r.text
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * Role::ALL.len());
});

#[test]
fn every_route_is_in_the_openapi_document_with_its_security() {
    let doc = serde_json::to_value(motcua::http::openapi::document()).unwrap();
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method];
        assert!(
            op.is_object(),
            "{} {} missing from openapi.json",
            route.method,
            route.path
        );
        let secured = op.get("security").is_some();
        assert_eq!(
            secured,
            route.access != Access::Public,
            "{} {}",
            route.method,
            route.path
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "openapi.json documents routes the table does not have"
    );
}
