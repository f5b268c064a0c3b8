//! HTTP: the one route table (with each route's roles), the middleware stack and the server.

mod access;
mod admin;
mod auth;
mod calendar;
pub mod client;
mod console;
mod dossiers;
mod files;
mod forms;
mod headers;
mod json;
mod notifications;
pub mod openapi;
mod ops;
mod problem;
mod procedures;
mod public;
mod reports;
mod session;
mod span;

use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, ResponseError, Route, web};

use crate::app::AppState;
use crate::error::AppError;
use crate::error::Code;

pub use access::{Access, Caller, Policy, RouteSpec};
use access::{
    Actors, Admin, AnyUser, Auditors, Counter, Digitisers, Intake, Public, Reporters,
    ResourceRules, Staff,
};

/// Declares every API route once — method, path, handler, access policy — as [`ROUTES`] and
/// the handlers in the same order.
macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path, $policy:ty; )*) => {
        /// Every API route: method, path, access policy. Each path becomes one actix resource
        /// wrapped in `access::enforce` with its rows' rules (lock 1), and every non-public
        /// handler takes a `Caller<Policy>` of the same policy (lock 2). The OpenAPI document
        /// lists the table, and `tests/api/roles.rs` walks it with every role, against the
        /// served app and against apps built with one lock only ([`Locks`]).
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path, access: <$policy as Policy>::ACCESS }, )*
        ];
        fn handlers() -> Vec<Route> {
            vec![ $( web::$method().to($handler), )* ]
        }
    };
}

route_table! {
    get    "/healthz"                        => ops::healthz,          Public;
    get    "/readyz"                         => ops::readyz,           Public;
    get    "/api/v1/openapi.json"            => openapi::openapi_json, Public;
    get    "/docs"                           => openapi::docs_redirect, Public;

    post   "/api/v1/auth/login"              => auth::login,           Public;
    get    "/api/v1/auth/me"                 => auth::me,              AnyUser;
    post   "/api/v1/auth/password"           => auth::change_password, AnyUser;

    get    "/api/v1/units"                   => admin::list_units,     AnyUser;
    post   "/api/v1/units"                   => admin::create_unit,    Admin;
    get    "/api/v1/users"                   => admin::list_users,     Admin;
    post   "/api/v1/users"                   => admin::create_user,    Admin;
    get    "/api/v1/users/{username}"        => admin::get_user,       Admin;
    patch  "/api/v1/users/{username}"        => admin::update_user,    Admin;

    get    "/api/v1/calendar/days"           => calendar::list_days,   AnyUser;
    put    "/api/v1/calendar/days/{date}"    => calendar::put_day,     Admin;
    delete "/api/v1/calendar/days/{date}"    => calendar::delete_day,  Admin;
    get    "/api/v1/calendar/changes"        => calendar::list_changes, Admin;
    get    "/api/v1/calendar/due"            => calendar::due,         AnyUser;

    get    "/api/v1/procedures"              => procedures::list_procedures,  Public;
    get    "/api/v1/procedures/{code}"       => procedures::get_procedure,    Public;
    post   "/api/v1/procedures"              => procedures::create_procedure, Admin;
    put    "/api/v1/procedures/{code}"       => procedures::update_procedure, Admin;

    post   "/api/v1/dossiers"                => dossiers::create_dossier,  Intake;
    get    "/api/v1/dossiers"                => dossiers::list_dossiers,   Staff;
    get    "/api/v1/dossiers/{code}"         => dossiers::get_dossier,     Staff;
    post   "/api/v1/dossiers/{code}/actions/{action}" => dossiers::perform_action, Actors;
    post   "/api/v1/dossiers/{code}/components" => dossiers::add_components, Intake;
    get    "/api/v1/dossiers/{code}/history" => dossiers::dossier_history, Staff;
    post   "/api/v1/dossiers/{code}/components/{item_code}/files" => files::upload, Digitisers;
    post   "/api/v1/dossiers/{code}/components/{item_code}/reuse" => files::reuse,  Digitisers;
    get    "/api/v1/dossiers/{code}/files"   => files::list,           Staff;
    get    "/api/v1/dossiers/{code}/forms/{form}" => forms::form,      Staff;
    get    "/api/v1/dossiers/{code}/components/{item_code}/files/{sha256}" => files::download, Staff;

    get    "/api/v1/notifications"           => notifications::list_notifications, Auditors;

    get    "/api/v1/public/lookup"           => public::lookup,       Public;
    post   "/api/v1/public/lookup"           => public::lookup_post,  Public;
    get    "/tra-cuu"                        => public::lookup_page,  Public;
    post   "/tra-cuu"                        => public::lookup_page_post, Public;

    get    "/api/v1/reports/bieu-06"         => reports::bieu06,      Reporters;
    get    "/api/v1/reports/indicators"      => reports::indicators,  Reporters;
    get    "/api/v1/reports/queue"           => reports::queue,       Staff;

    // The staff console (pages; they also take the session cookie, see `access`).
    get    "/console/static/{file}"          => console::asset,        Public;
    get    "/console/login"                  => console::login_page,   Public;
    post   "/console/login"                  => console::login,        Public;
    post   "/console/logout"                 => console::logout,       AnyUser;
    get    "/console"                        => console::queue,        Staff;
    get    "/console/intake"                 => console::intake_page,  Counter;
    post   "/console/intake"                 => console::intake,       Counter;
    get    "/console/dossiers/{code}"        => console::dossier,      Staff;
    get    "/console/dossiers/{code}/due"    => console::dossier_due,  Staff;
    post   "/console/dossiers/{code}/actions/{action}" => console::dossier_action, Actors;
    get    "/console/dossiers/{code}/forms/{form}" => console::dossier_form, Staff;
    post   "/console/dossiers/{code}/components/{item_code}/files" => console::dossier_upload, Digitisers;
    get    "/console/dossiers/{code}/components/{item_code}/files/{sha256}" => console::dossier_file, Staff;
    get    "/console/dashboard"              => console::dashboard,    Reporters;
    get    "/console/dashboard/bieu-06"      => console::dashboard_export, Reporters;
    get    "/console/admin"                  => console::admin,        Admin;
    post   "/console/admin/users"            => console::admin_create_user, Admin;
    post   "/console/admin/units"            => console::admin_create_unit, Admin;
    post   "/console/admin/calendar"         => console::admin_calendar_day, Admin;
}

/// Where the staff console's pages live; their rows take the page session's cookie too.
pub const CONSOLE: &str = "/console";

/// Which access locks an app is built with. Only `Both` serves; the others exist so that the
/// tests can show that each lock alone stops every request that must be refused.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locks {
    Both,
    /// The real handlers without the middleware: only their `Caller` extractors check.
    ExtractorOnly,
    /// The middleware around handlers that check nothing and answer 200 `reached`.
    MiddlewareOnly,
}

fn method_of(spec: &RouteSpec) -> Method {
    match spec.method {
        "post" => Method::POST,
        "put" => Method::PUT,
        "patch" => Method::PATCH,
        "delete" => Method::DELETE,
        "head" => Method::HEAD,
        "trace" => Method::TRACE,
        _ => Method::GET,
    }
}

async fn canary() -> HttpResponse {
    HttpResponse::Ok().body("reached")
}

/// One path of the table: its rules by method and its routes.
type PathGroup = (&'static str, Vec<(Method, Access)>, Vec<Route>);

/// One resource per path with every method the table gives it; other methods answer 405.
fn register_routes(cfg: &mut web::ServiceConfig, locks: Locks) {
    let mut groups: Vec<PathGroup> = Vec::new();
    for (spec, handler) in ROUTES.iter().zip(handlers()) {
        let method = method_of(spec);
        let route = match locks {
            Locks::MiddlewareOnly => web::method(method.clone()).to(canary),
            _ => handler,
        };
        let i = match groups.iter().position(|g| g.0 == spec.path) {
            Some(i) => i,
            None => {
                groups.push((spec.path, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        groups[i].1.push((method, spec.access));
        groups[i].2.push(route);
    }
    // Literal paths first: actix tries resources in order and matches each pattern with a
    // `{…}` segment by a regular expression, so a public lookup used to run eleven regexes
    // (every dynamic path listed before it) before reaching its own literal path. No literal
    // path of the table is also matched by a pattern, so the order changes no route's answer.
    groups.sort_by_key(|g| g.0.contains('{'));
    for (path, rules, routes) in groups {
        let allow = rules
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let page = path.starts_with(CONSOLE);
        let mut resource = web::resource(path)
            .app_data(ResourceRules { rules, page })
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move {
                    let mut resp = AppError::new(
                        Code::RouteMethodNotAllowed,
                        format!("This resource answers {allow}."),
                    )
                    .error_response();
                    if let Ok(v) = header::HeaderValue::from_str(&allow) {
                        resp.headers_mut().insert(header::ALLOW, v);
                    }
                    resp
                }
            }));
        for route in routes {
            resource = resource.route(route);
        }
        // Pages show refusals and failures as pages (outermost, so it sees `enforce`'s too).
        match (locks, page) {
            (Locks::ExtractorOnly, false) => cfg.service(resource),
            (Locks::ExtractorOnly, true) => {
                cfg.service(resource.wrap(from_fn(console::html_errors)))
            }
            (_, false) => cfg.service(resource.wrap(from_fn(access::enforce))),
            (_, true) => cfg.service(
                resource
                    .wrap(from_fn(access::enforce))
                    .wrap(from_fn(console::html_errors)),
            ),
        };
    }
}

/// Builds the application for one worker.
pub fn configure(state: AppState, locks: Locks) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let proxies = client::parse_all(&state.settings.server.trusted_proxies).unwrap_or_default();
        cfg.app_data(web::Data::new(state))
            .app_data(web::Data::new(client::TrustedProxies(proxies)))
            .app_data(json::payload_config())
            .app_data(problem::path_config())
            .app_data(problem::query_config());
        register_routes(cfg, locks);
        cfg.service(openapi::swagger_ui());
    }
}

/// Binds and returns the server (not yet awaited); `startup::start` runs it with the jobs.
pub(crate) fn server(state: AppState, listener: std::net::TcpListener) -> std::io::Result<Server> {
    server_with(state, listener, Locks::Both)
}

/// Only for the test that shows each access lock alone refuses what it must; everything else
/// starts the service through `startup::start`.
#[doc(hidden)]
pub fn server_with(
    state: AppState,
    listener: std::net::TcpListener,
    locks: Locks,
) -> std::io::Result<Server> {
    let metrics = actix_web_prom::PrometheusMetricsBuilder::new("motcua")
        .registry(state.metrics.registry.clone())
        .endpoint("/metrics")
        .mask_unmatched_patterns("UNKNOWN")
        .exclude_regex("^/docs")
        .build()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let shutdown_seconds = state.settings.server.shutdown_seconds;
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let pool_threads = state.pool.max_size() as usize;
    let server = HttpServer::new(move || {
        App::new()
            .configure(configure(state.clone(), locks))
            .default_service(web::to(problem::not_found))
            .wrap(from_fn(problem::problem_fallback))
            .wrap(from_fn(headers::security_headers))
            .wrap(Compress::default())
            .wrap(metrics.clone())
            .wrap(tracing_actix_web::TracingLogger::<span::RequestSpan>::new())
    })
    .workers(workers)
    // Each worker's tokio blocking pool may grow to 512 / workers threads; database work is
    // bounded by the pool's permits (`app::blocking`), so no worker needs more threads than
    // there are connections (argon2 has its own smaller bound).
    .worker_max_blocking_threads(pool_threads)
    // `startup::Service` handles SIGTERM/SIGINT, so that the jobs stop with the server.
    .disable_signals()
    .shutdown_timeout(shutdown_seconds)
    .listen(listener)?
    .run();
    Ok(server)
}
