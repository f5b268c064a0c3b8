//! Operations: liveness, readiness, the OpenAPI document and the interactive docs.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{AppState, calendar};
use crate::db;
use crate::jobs::Job;

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
    /// Email: `on` when `smtp.url` is set and this instance's outbox worker runs; `off`
    /// otherwise (notifications wait in the outbox for a worker that can send them).
    pub mail: &'static str,
    /// `jobs.enabled`: whether this instance runs the background jobs.
    pub jobs_enabled: bool,
    /// Each background job of this instance, by name (`outbox`, `due_watcher`,
    /// `idempotency_purge`, `outbox_retention`). Informational: readiness is about serving HTTP.
    #[schema(value_type = Object)]
    pub jobs: std::collections::BTreeMap<&'static str, JobReport>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobReport {
    /// Its task runs on this instance.
    pub running: bool,
    /// Pause between passes.
    pub every_seconds: f64,
    /// End of the last pass that succeeded (agency time zone).
    pub last_success_at: Option<String>,
    /// Why the last pass failed, if it did (cleared by the next success).
    pub last_error: Option<String>,
    /// Outbox only: messages not sent yet (pending or being sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<i64>,
    /// Outbox only: age of the oldest of them (`null` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub oldest_pending_seconds: Option<Option<i64>>,
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
            let (years, unsent) = if pending {
                (Vec::new(), None)
            } else {
                (
                    calendar::years_with_data(&*cache.current(conn)?, now),
                    Some(db::outbox::unsent(conn)?),
                )
            };
            Ok((backend, pending, years, unsent))
        })
        .await;
    let unsent = probe.as_ref().ok().and_then(|p| p.3);
    let calendar = calendar::readiness(probe.as_ref().map_or(&[][..], |p| &p.2));
    if !calendar.ok {
        tracing::warn!(calendar.detail = %calendar.detail, "readiness: no holiday decision");
    }
    let (database, migrations) = match probe {
        Ok((backend, pending, _, _)) => (
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
    let tz = state.calendar.settings().timezone();
    let jobs = state
        .jobs
        .snapshot()
        .into_iter()
        .map(|j| {
            let outbox = j.name == crate::jobs::outbox::OutboxWorker::NAME;
            let report = JobReport {
                running: j.running,
                every_seconds: j.every.as_secs_f64(),
                last_success_at: j.last_success_at.map(|t| {
                    t.with_timezone(&tz)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                }),
                last_error: j.last_error,
                pending: unsent.filter(|_| outbox).map(|u| u.0),
                oldest_pending_seconds: unsent
                    .filter(|_| outbox)
                    .map(|u| u.1.map(|t| crate::jobs::outbox::age_seconds(now, t))),
            };
            (j.name, report)
        })
        .collect();
    let mail_on = state.settings.smtp.url.is_some()
        && state
            .jobs
            .is_running(crate::jobs::outbox::OutboxWorker::NAME);
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database,
        migrations,
        calendar,
        mail: if mail_on { "on" } else { "off" },
        jobs_enabled: state.settings.jobs.enabled,
        jobs,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
