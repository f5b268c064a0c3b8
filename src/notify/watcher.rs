//! The due-time watcher (which also forgets day-old idempotency keys): finds running dossiers and steps that become due soon (within one
//! working day) or overdue, and enqueues each staff notice once per dossier and event (the
//! outbox key makes it once even with several instances).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::AppState;
use crate::db::dossiers as store;
use crate::db::{self, DbConnection, from_db_time, to_db_time, units};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::error::{AppError, AppResult};

use super::{Event, Notice, Templates, enqueue};

fn fmt(cal: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&cal.settings().timezone())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// One scan at `now`; answers how many notices were enqueued.
pub fn scan(
    conn: &mut DbConnection,
    cal: &Calendar,
    templates: &Templates,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let soon = deadline::add_working_time(cal, now, cal.settings().day_length());
    let mut enqueued = 0;
    for row in store::list_running_due_before(conn, to_db_time(soon))? {
        let procedure = crate::db::procedures::find_by_id(conn, &row.procedure_id)?
            .ok_or_else(|| AppError::internal("procedure version missing"))?;
        let def: crate::domain::procedure::ProcedureDefinition =
            serde_json::from_str(&procedure.definition).map_err(AppError::internal)?;
        let mut notices = Vec::new();
        if let Some(due) = row.due_at.map(from_db_time) {
            // Leaders of the handling unit: they sign the apology in time.
            let unit = row.unit_code.clone();
            if due < now {
                notices.push((
                    Event::DossierOverdue,
                    format!("dossier_overdue:{}", row.id),
                    unit,
                    None,
                ));
            } else if due <= soon {
                notices.push((
                    Event::DossierDueSoon,
                    format!("dossier_due_soon:{}", row.id),
                    unit,
                    None,
                ));
            }
        }
        if let (Some(step_due), Some(step), Some(unit)) = (
            row.step_due_at.map(from_db_time),
            row.current_step
                .and_then(|i| def.steps.get(usize::try_from(i).ok()?)),
            row.current_unit.clone(),
        ) && step_due >= now
            && step_due <= soon
        {
            let started = row
                .step_started_at
                .map(|t| t.to_string())
                .unwrap_or_default();
            let key = format!("step_due_soon:{}:{}:{started}", row.id, step.code);
            notices.push((
                Event::StepDueSoon,
                key,
                unit,
                Some((step.name.clone(), step_due)),
            ));
        }
        for (event, key, unit_code, step) in notices {
            let Some(email) = units::find_unit(conn, &unit_code)?.and_then(|u| u.email) else {
                continue;
            };
            let unit_name = units::find_unit(conn, &unit_code)?
                .map(|u| u.name)
                .unwrap_or_default();
            let context = json!({
                "code": row.code, "procedure_name": def.name, "unit_name": unit_name,
                "due_at": row.due_at.map(|d| fmt(cal, from_db_time(d))),
                "step_name": step.as_ref().map(|s| s.0.clone()),
                "step_due_at": step.as_ref().map(|s| fmt(cal, s.1)),
            });
            let written = db::write_tx(conn, |conn| {
                enqueue(
                    conn,
                    templates,
                    Notice {
                        event,
                        key: key.clone(),
                        recipient: &email,
                        language: "vi",
                        dossier: Some((&row.id, &row.code)),
                        context: context.clone(),
                    },
                    now,
                )
            });
            match written {
                Ok(true) => enqueued += 1,
                Ok(false) => {}
                // Another instance wrote the same key first.
                Err(e) if e.code() == "internal" && outbox_has(conn, &key) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(enqueued)
}

fn outbox_has(conn: &mut DbConnection, key: &str) -> bool {
    crate::db::outbox::exists(conn, key).unwrap_or(false)
}

/// How long a receipt's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Scans every `calendar.watch_interval_seconds` until `stop` flips.
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = Duration::from_secs(state.settings.smtp.watch_interval_seconds.max(1));
    loop {
        let cache = state.calendar.clone();
        let templates = state.templates.clone();
        let now = state.clock.now();
        let result = state
            .run(move |conn| {
                let cal = cache.current(conn)?;
                scan(conn, &cal, &templates, now)
            })
            .await;
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "due-time watcher enqueued notices"),
            Err(e) => tracing::error!(error.cause = %e, "due-time watcher"),
        }
        let cutoff = to_db_time(now - IDEMPOTENCY_TTL);
        if let Err(e) = state
            .run(move |conn| Ok(store::purge_idempotency(conn, cutoff)?))
            .await
        {
            tracing::error!(error.cause = %e, "purging idempotency keys");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
