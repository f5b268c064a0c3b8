//! Operations: liveness, readiness, the OpenAPI document and the interactive docs.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{AppState, calendar};
use crate::db;

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    pub database: Check,
    pub migrations: Check,
    /// Whether this year and next year (local) have a holiday decision, or provisional days
    /// from the Labor Code. Informational: it does not make the service unready.
    pub calendar: calendar::CalendarCheck,
    /// Email: `on` (smtp.url set) or `off` (notifications stay pending in the outbox).
    pub mail: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// Ready: the database answers and every migration is applied (503 otherwise).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let cache = state.calendar.clone();
    let now = state.clock.now();
    let probe = state
        .run(move |conn| {
            let backend = conn.backend_name();
            let pending = db::has_pending_migrations(conn)?;
            let years = if pending {
                Vec::new()
            } else {
                calendar::years_with_data(&*cache.current(conn)?, now)
            };
            Ok((backend, pending, years))
        })
        .await;
    let calendar = calendar::readiness(probe.as_ref().map_or(&[][..], |p| &p.2));
    if !calendar.ok {
        tracing::warn!(calendar.detail = %calendar.detail, "readiness: no holiday decision");
    }
    let (database, migrations) = match probe {
        Ok((backend, pending, _)) => (
            Check {
                ok: true,
                detail: format!("{backend} reachable"),
            },
            Check {
                ok: !pending,
                detail: if pending {
                    "pending migrations".into()
                } else {
                    "up to date".into()
                },
            },
        ),
        Err(e) => (
            Check {
                ok: false,
                detail: format!("unreachable: {}", e.code()),
            },
            Check {
                ok: false,
                detail: "unknown".into(),
            },
        ),
    };
    let ready = database.ok && migrations.ok;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database,
        migrations,
        calendar,
        mail: if state.mail_enabled { "on" } else { "off" },
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::document())
}

/// Swagger UI at `/docs`, its files compiled into the binary (no CDN).
pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
        .url("/api/v1/openapi.json", super::openapi::document())
}
