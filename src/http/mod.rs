//! HTTP: the one route table (with each route's roles), the middleware stack and the server.

mod access;
mod admin;
mod auth;
mod calendar;
mod dossiers;
mod files;
mod forms;
mod json;
mod notifications;
pub mod openapi;
mod ops;
mod problem;
mod procedures;
mod public;
mod reports;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::app::AppState;
use crate::auth::Role;

pub use access::{Access, RouteSpec};

const STAFF: &[Role] = &[
    Role::Admin,
    Role::Clerk,
    Role::Officer,
    Role::Leader,
    Role::Viewer,
];
const ADMIN: &[Role] = &[Role::Admin];
/// Who creates dossiers: counter clerks, the online portal, admins (back-entry).
const INTAKE: &[Role] = &[Role::Admin, Role::Clerk, Role::Portal];
/// Who performs actions; each action's own roles (design §4) are checked by the use case.
/// Who scans and attaches documents.
const DIGITISERS: &[Role] = &[Role::Admin, Role::Clerk, Role::Officer, Role::Leader];
/// Who pulls statistics.
const REPORTERS: &[Role] = &[Role::Admin, Role::Leader, Role::Viewer];
const ACTORS: &[Role] = &[Role::Admin, Role::Clerk, Role::Officer, Role::Leader];

/// Declares every API route once: method, path, who may call it, handler. The access column is
/// enforced by `access::authorize` before any handler runs, listed in the OpenAPI document and
/// walked by the role test.
macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path, $access:expr; )*) => {
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path, access: $access }, )*
        ];
        fn register_routes(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, web::$method().to($handler)); )*
        }
    };
}

route_table! {
    get    "/healthz"                        => ops::healthz,          Access::Public;
    get    "/readyz"                         => ops::readyz,           Access::Public;
    get    "/api/v1/openapi.json"            => ops::openapi_json,     Access::Public;
    get    "/docs"                           => ops::docs_redirect,    Access::Public;

    post   "/api/v1/auth/login"              => auth::login,           Access::Public;
    get    "/api/v1/auth/me"                 => auth::me,              Access::AnyUser;
    post   "/api/v1/auth/password"           => auth::change_password, Access::AnyUser;

    get    "/api/v1/units"                   => admin::list_units,     Access::AnyUser;
    post   "/api/v1/units"                   => admin::create_unit,    Access::Roles(ADMIN);
    get    "/api/v1/users"                   => admin::list_users,     Access::Roles(ADMIN);
    post   "/api/v1/users"                   => admin::create_user,    Access::Roles(ADMIN);
    get    "/api/v1/users/{username}"        => admin::get_user,       Access::Roles(ADMIN);
    patch  "/api/v1/users/{username}"        => admin::update_user,    Access::Roles(ADMIN);

    get    "/api/v1/calendar/days"           => calendar::list_days,   Access::AnyUser;
    put    "/api/v1/calendar/days/{date}"    => calendar::put_day,     Access::Roles(ADMIN);
    delete "/api/v1/calendar/days/{date}"    => calendar::delete_day,  Access::Roles(ADMIN);
    get    "/api/v1/calendar/changes"        => calendar::list_changes, Access::Roles(ADMIN);
    get    "/api/v1/calendar/due"            => calendar::due,         Access::AnyUser;

    get    "/api/v1/procedures"              => procedures::list_procedures,  Access::Public;
    get    "/api/v1/procedures/{code}"       => procedures::get_procedure,    Access::Public;
    post   "/api/v1/procedures"              => procedures::create_procedure, Access::Roles(ADMIN);
    put    "/api/v1/procedures/{code}"       => procedures::update_procedure, Access::Roles(ADMIN);

    post   "/api/v1/dossiers"                => dossiers::create_dossier,  Access::Roles(INTAKE);
    get    "/api/v1/dossiers"                => dossiers::list_dossiers,   Access::Roles(STAFF);
    get    "/api/v1/dossiers/{code}"         => dossiers::get_dossier,     Access::Roles(STAFF);
    post   "/api/v1/dossiers/{code}/actions/{action}" => dossiers::perform_action, Access::Roles(ACTORS);
    get    "/api/v1/dossiers/{code}/history" => dossiers::dossier_history, Access::Roles(STAFF);
    post   "/api/v1/dossiers/{code}/components/{item_code}/files" => files::upload, Access::Roles(DIGITISERS);
    post   "/api/v1/dossiers/{code}/components/{item_code}/reuse" => files::reuse,  Access::Roles(DIGITISERS);
    get    "/api/v1/dossiers/{code}/files"   => files::list,           Access::Roles(STAFF);
    get    "/api/v1/dossiers/{code}/forms/{form}" => forms::form,      Access::Roles(STAFF);
    get    "/api/v1/dossiers/{code}/components/{item_code}/files/{sha256}" => files::download, Access::Roles(STAFF);

    get    "/api/v1/notifications"           => notifications::list_notifications, Access::Roles(&[Role::Admin, Role::Viewer]);

    get    "/api/v1/public/lookup"           => public::lookup,       Access::Public;
    get    "/tra-cuu"                        => public::lookup_page,  Access::Public;

    get    "/api/v1/reports/bieu-06"         => reports::bieu06,      Access::Roles(REPORTERS);
    get    "/api/v1/reports/indicators"      => reports::indicators,  Access::Roles(REPORTERS);
    get    "/api/v1/reports/queue"           => reports::queue,       Access::Roles(STAFF);
}

/// Builds the application for one worker.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(json::payload_config())
            .app_data(problem::path_config())
            .app_data(problem::query_config());
        register_routes(cfg);
        cfg.service(ops::swagger_ui());
    }
}

/// Binds and returns the server (not yet awaited); `startup::start` runs it with the jobs.
pub(crate) fn server(state: AppState, listener: std::net::TcpListener) -> std::io::Result<Server> {
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
    let server = HttpServer::new(move || {
        App::new()
            .configure(configure(state.clone()))
            .default_service(web::to(problem::not_found))
            .wrap(from_fn(access::authorize))
            .wrap(from_fn(problem::problem_fallback))
            .wrap(Compress::default())
            .wrap(metrics.clone())
            .wrap(tracing_actix_web::TracingLogger::default())
    })
    .workers(workers)
    // `startup::Service` handles SIGTERM/SIGINT, so that the jobs stop with the server.
    .disable_signals()
    .shutdown_timeout(shutdown_seconds)
    .listen(listener)?
    .run();
    Ok(server)
}
