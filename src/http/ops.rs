//! Operations: liveness, readiness, the OpenAPI document and the interactive docs.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
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
    let probe = state
        .run(|conn| {
            let backend = conn.backend_name();
            let pending = db::has_pending_migrations(conn)?;
            Ok((backend, pending))
        })
        .await;
    let (database, migrations) = match probe {
        Ok((backend, pending)) => (
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
