//! Access control, generated from the route table (`motcua::http::ROUTES`), so a new route is
//! covered without editing this file:
//! - every route with every role and with no token: 401 / 403 / allowed as declared;
//! - every non-public route's path and its variants (percent-encoded letters, `%2F`, doubled
//!   and trailing slashes, upper case, `;param`, `/./`, `/../`), sent byte for byte over a raw
//!   socket with no token and with disallowed roles: never 2xx;
//! - each walk against the served app and against apps built with one lock only: the
//!   middleware around handlers that check nothing, and the handlers without the middleware.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use motcua::app::units::{self, Unit};
use motcua::app::users::{self, CreateUserRequest};
use motcua::auth::Role;
use motcua::http::{Access, Locks, ROUTES, RouteSpec};

use crate::helpers::{Backend, TestDb, default_now, postgres_available, test_settings};

/// A server built with `locks`, and a token for every role (issued directly: with
/// `Locks::MiddlewareOnly` even the login handler is a canary).
struct Target {
    addr: String,
    tokens: Vec<(Role, String)>,
    handle: actix_web::dev::ServerHandle,
    _db: TestDb,
}

async fn spawn(backend: Backend, locks: Locks) -> Target {
    let db = TestDb::new(backend);
    let state = motcua::startup::build_state(
        test_settings(&db),
        motcua::clock::Clock::manual(default_now()),
    )
    .expect("start-up");
    let mut tokens = Vec::new();
    {
        let mut conn = state.pool.get().unwrap();
        let unit = Unit {
            code: "U1".into(),
            name: "Phòng U1".into(),
            email: None,
        };
        units::create_unit(&mut conn, &unit, default_now()).unwrap();
        for role in Role::ALL {
            let user = users::create_user(
                &mut conn,
                &CreateUserRequest {
                    username: format!("r-{role}"),
                    password: format!("r-{role}-password"),
                    full_name: role.to_string(),
                    email: None,
                    role,
                    unit_code: role.needs_unit().then(|| "U1".into()),
                    active: true,
                },
                default_now(),
            )
            .unwrap();
            let (token, _) = state.tokens.issue(&user.id, role, 0).unwrap();
            tokens.push((role, token));
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = motcua::http::server_with(state, listener, locks).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Target {
        addr,
        tokens,
        handle,
        _db: db,
    }
}

/// One request written byte for byte (no client library normalises the path); answers the
/// status code and the body.
fn raw(addr: &str, method: &str, target: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str("Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

/// The declared path with every `{param}` as a value that names nothing.
fn concrete(path: &str) -> String {
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

/// The spellings a router, a proxy or a middleware might read differently from each other.
fn variants(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let join = |segs: &[String]| format!("/{}", segs.join("/"));
    let owned: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    for i in 0..segments.len() {
        let mut segs = owned.clone();
        // A percent-encoded letter, in lower- and upper-case hex.
        if let Some((pos, c)) = segs[i]
            .char_indices()
            .find(|(_, c)| c.is_ascii_alphabetic())
        {
            for hex in [format!("%{:02x}", c as u8), format!("%{:02X}", c as u8)] {
                let mut s = segs.clone();
                s[i].replace_range(pos..pos + 1, &hex);
                out.push(join(&s));
            }
        }
        // Upper case, one segment at a time.
        segs[i] = segs[i].to_uppercase();
        out.push(join(&segs));
        // A matrix parameter.
        let mut s = owned.clone();
        s[i].push_str(";x=1");
        out.push(join(&s));
        // Dot segments after this segment.
        for dots in ["/.", "/zz/.."] {
            let mut s = owned.clone();
            s[i].push_str(dots);
            out.push(join(&s));
        }
    }
    for (i, _) in path.match_indices('/') {
        out.push(format!("{}%2F{}", &path[..i], &path[i + 1..]));
        out.push(format!("{}%2f{}", &path[..i], &path[i + 1..]));
        out.push(format!("{}//{}", &path[..i], &path[i + 1..]));
    }
    out.push(format!("{path}/"));
    out.push(path.to_uppercase());
    out.push(format!("{path}?x=1"));
    out.push(format!("{path}#frag"));
    out.sort();
    out.dedup();
    out.retain(|v| v != path);
    out
}

const RANK: [Role; 6] = [
    Role::Portal,
    Role::Viewer,
    Role::Clerk,
    Role::Officer,
    Role::Leader,
    Role::Admin,
];

/// The least and the most privileged roles that the route refuses.
fn disallowed_extremes(access: Access) -> Vec<Role> {
    let refused: Vec<Role> = RANK.into_iter().filter(|r| !access.allows(*r)).collect();
    let mut picks: Vec<Role> = refused
        .first()
        .into_iter()
        .chain(refused.last())
        .copied()
        .collect();
    picks.dedup();
    picks
}

fn method(route: &RouteSpec) -> String {
    route.method.to_uppercase()
}

impl Target {
    fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    /// Declared paths: no token → 401 (public: never 401/403); each role as declared.
    fn walk_declared(&self, locks: Locks) -> usize {
        let mut checked = 0;
        for route in ROUTES {
            let (m, path) = (method(route), concrete(route.path));
            let (anon, body) = raw(&self.addr, &m, &path, None);
            if route.access == Access::Public {
                assert!(
                    !matches!(anon, 401 | 403),
                    "{m} {path} is public but answered {anon}"
                );
            } else {
                assert_eq!(anon, 401, "{locks:?}: {m} {path} without a token: {body}");
            }
            for (role, token) in &self.tokens {
                let (status, body) = raw(&self.addr, &m, &path, Some(token));
                if route.access.allows(*role) {
                    assert!(
                        !matches!(status, 401 | 403),
                        "{locks:?}: {m} {path} should allow {role}, answered {status}: {body}"
                    );
                    if locks == Locks::MiddlewareOnly {
                        // The canary answers: the refusals above come from the middleware alone.
                        assert_eq!((status, body.as_str()), (200, "reached"), "{m} {path}");
                    }
                } else {
                    assert_eq!(
                        status, 403,
                        "{locks:?}: {m} {path} should refuse {role}: {body}"
                    );
                }
                checked += 1;
            }
        }
        checked
    }

    /// Every variant of every non-public route: never 2xx without a token or with a role the
    /// route refuses. Answers how many requests were sent.
    fn walk_variants(&self, locks: Locks) -> usize {
        let jobs: Vec<(String, String, Option<Role>)> = ROUTES
            .iter()
            .filter(|r| r.access != Access::Public)
            .flat_map(|r| {
                let path = concrete(r.path);
                let callers: Vec<Option<Role>> = std::iter::once(None)
                    .chain(disallowed_extremes(r.access).into_iter().map(Some))
                    .collect();
                variants(&path).into_iter().flat_map(move |v| {
                    let m = method(r);
                    callers
                        .clone()
                        .into_iter()
                        .map(move |c| (m.clone(), v.clone(), c))
                })
            })
            .collect();
        std::thread::scope(|s| {
            for chunk in jobs.chunks(jobs.len().div_ceil(4)) {
                s.spawn(move || {
                    for (m, v, caller) in chunk {
                        let token = caller.map(|r| self.token(r));
                        let (status, body) = raw(&self.addr, m, v, token);
                        assert!(
                            !(200..300).contains(&status),
                            "{locks:?}: {m} {v} as {caller:?} answered {status}: {body}"
                        );
                        assert_ne!(status, 0, "{m} {v}: no answer");
                    }
                });
            }
        });
        jobs.len()
    }
}

async fn walk(backend: Backend, locks: Locks) {
    let target = spawn(backend, locks).await;
    let t = std::sync::Arc::new(target);
    let t2 = t.clone();
    let (declared, sent) = actix_web::rt::task::spawn_blocking(move || {
        (t2.walk_declared(locks), t2.walk_variants(locks))
    })
    .await
    .unwrap();
    assert_eq!(declared, ROUTES.len() * Role::ALL.len());
    assert!(sent > ROUTES.len() * 20, "only {sent} variant requests");
    eprintln!("{locks:?} on {backend:?}: {declared} declared checks, {sent} variant requests");
    t.handle.stop(true).await;
}

macro_rules! locks_test {
    ($name:ident, $locks:expr) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                walk(Backend::Sqlite, $locks).await
            }
            #[actix_web::test]
            async fn postgres() {
                if postgres_available() {
                    walk(Backend::Postgres, $locks).await
                }
            }
        }
    };
}

locks_test!(both_locks_refuse_every_variant, Locks::Both);
locks_test!(
    the_middleware_alone_refuses_every_variant,
    Locks::MiddlewareOnly
);
locks_test!(
    the_extractors_alone_refuse_every_variant,
    Locks::ExtractorOnly
);

/// The two requests of issue 10, as a new user sent them: 401, and nothing created.
async fn issue_requests(backend: Backend) {
    let target = spawn(backend, Locks::Both).await;
    let addr = target.addr.clone();
    let (created, listed) = actix_web::rt::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        let body = r#"{"username":"evil","password":"Evil-pass-123456","full_name":"x","role":"admin","active":true}"#;
        write!(
            s,
            "POST /api/v1/%75sers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\ncontent-type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        (out, raw(&addr, "GET", "/api/v1/%75sers", None))
    })
    .await
    .unwrap();
    assert!(created.starts_with("HTTP/1.1 401"), "{created}");
    assert!(created.contains("application/problem+json"), "{created}");
    assert_eq!(listed.0, 401, "{}", listed.1);
    let admin = target.token(Role::Admin).to_owned();
    let addr = target.addr.clone();
    let (status, body) = actix_web::rt::task::spawn_blocking(move || {
        raw(&addr, "GET", "/api/v1/users/evil", Some(&admin))
    })
    .await
    .unwrap();
    assert_eq!(status, 404, "evil was created: {body}");
    target.handle.stop(true).await;
}

#[actix_web::test]
async fn the_issues_requests_answer_401_sqlite() {
    issue_requests(Backend::Sqlite).await
}

#[actix_web::test]
async fn the_issues_requests_answer_401_postgres() {
    if postgres_available() {
        issue_requests(Backend::Postgres).await
    }
}

#[test]
fn variants_cover_each_kind() {
    let v = variants("/api/v1/users");
    for expected in [
        "/api/v1/%75sers",
        "/%61pi/v1/users",
        "/api%2Fv1/users",
        "/api//v1/users",
        "/api/v1/users/",
        "/API/V1/USERS",
        "/api/v1/USERS",
        "/api/v1/users;x=1",
        "/api/./v1/users",
        "/api/zz/../v1/users",
    ] {
        assert!(
            v.iter().any(|x| x == expected),
            "{expected} missing from {v:?}"
        );
    }
    assert!(!v.iter().any(|x| x == "/api/v1/users"));
    let z = variants("/api/v1/zz-none");
    assert!(
        z.iter().any(|x| x == "/api/v1/%7az-none") && z.iter().any(|x| x == "/api/v1/%7Az-none")
    );
    assert_eq!(
        disallowed_extremes(Access::Roles(&[Role::Admin])),
        [Role::Portal, Role::Leader]
    );
    assert_eq!(disallowed_extremes(Access::AnyUser), Vec::<Role>::new());
}

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
