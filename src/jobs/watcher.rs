//! The due-time watcher: raises the staff notices of running dossiers — dossier due soon
//! (within `notify.due_soon_working_days`, default 2, so that the apology due one working
//! day before the due time can still be signed), dossier overdue, step due soon (within one
//! working day) — each once, to the unit concerned. Procedures that issue no appointment
//! (`issues_appointment = false`, settled on the spot) get no due-soon notice.
//!
//! A scan reads only dossiers still owed a notice of each kind (`dossier_notices` records
//! every notice raised, emailed or not), in pages of [`PAGE`] in id order; each page is
//! one transaction that records the notices and writes their emails. Procedures and units
//! are read once per scan. The notice key makes each notice once even when several
//! instances scan together.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Job, JobContext, JobError, Pass};
use crate::config::Settings;
use crate::db::notices::{self, Kind, WatchRow};
use crate::db::units::{self, UnitRow};
use crate::db::{self, DbConnection, from_db_time, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::notice::Event;
use crate::domain::procedure::ProcedureDefinition;
use crate::error::{AppError, AppResult};
use crate::notify::{Notice, Templates, enqueue};

/// Dossiers read and noticed per transaction.
pub const PAGE: i64 = 200;

pub struct DueWatcher;

impl Job for DueWatcher {
    const NAME: &'static str = "due_watcher";

    fn every(&self, settings: &Settings) -> Duration {
        Duration::from_secs(settings.watch_interval_seconds())
    }

    async fn run(&mut self, ctx: &JobContext) -> Result<Pass, JobError> {
        let cache = ctx.calendar.clone();
        let templates = ctx.templates.clone();
        let now = ctx.clock.now();
        let days = ctx.settings.notify.due_soon_working_days;
        let probe = ctx.clone();
        let raised = ctx
            .blocking(move |conn| {
                let cal = cache.current(conn)?;
                scan_while(conn, &cal, &templates, now, days, &|| !probe.is_stopping())
            })
            .await?;
        if raised > 0 {
            tracing::info!(notices = raised, "due-time watcher raised notices");
        }
        Ok(Pass::Done)
    }
}

/// One full scan at `now`, dossiers due soon within `due_soon_days` working days; answers
/// how many notices were raised.
pub fn scan(
    conn: &mut DbConnection,
    cal: &Calendar,
    templates: &Templates,
    now: DateTime<Utc>,
    due_soon_days: u32,
) -> AppResult<usize> {
    scan_while(conn, cal, templates, now, due_soon_days, &|| true)
}

/// A scan that stops between pages once `keep_going` answers false (shutdown).
pub fn scan_while(
    conn: &mut DbConnection,
    cal: &Calendar,
    templates: &Templates,
    now: DateTime<Utc>,
    due_soon_days: u32,
    keep_going: &dyn Fn() -> bool,
) -> AppResult<usize> {
    let day = cal.settings().day_length();
    let step_soon = deadline::add_working_time(cal, now, day);
    let days = i32::try_from(due_soon_days.max(1)).unwrap_or(1);
    let dossier_soon = deadline::add_working_time(cal, now, day * days);
    let mut scan = Scan {
        cal,
        templates,
        now,
        units: units::list_units(conn)?
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect(),
        procedures: HashMap::new(),
    };
    let mut raised = 0;
    for kind in Kind::ALL {
        let soon = match kind {
            Kind::StepDueSoon => step_soon,
            _ => dossier_soon,
        };
        let mut after = String::new();
        loop {
            if !keep_going() {
                return Ok(raised);
            }
            let page =
                notices::list_owed(conn, kind, to_db_time(now), to_db_time(soon), &after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            for row in &page {
                scan.load_procedure(conn, &row.procedure_id)?;
            }
            raised += db::write_tx(conn, |conn| {
                let mut n = 0;
                for row in &page {
                    n += usize::from(scan.raise(conn, kind, row)?);
                }
                Ok::<_, AppError>(n)
            })?;
            if (page.len() as i64) < PAGE {
                break;
            }
        }
    }
    Ok(raised)
}

/// What one scan reads once.
struct Scan<'a> {
    cal: &'a Calendar,
    templates: &'a Templates,
    now: DateTime<Utc>,
    units: HashMap<String, UnitRow>,
    /// Procedure version id → definition (`None`: missing or unreadable, logged once).
    procedures: HashMap<String, Option<ProcedureDefinition>>,
}

impl Scan<'_> {
    fn load_procedure(&mut self, conn: &mut DbConnection, id: &str) -> AppResult<()> {
        if !self.procedures.contains_key(id) {
            let def = crate::db::procedures::find_by_id(conn, id)?
                .and_then(|p| serde_json::from_str(&p.definition).ok());
            if def.is_none() {
                tracing::error!(
                    procedure.id = id,
                    "due-time watcher: procedure version missing or unreadable"
                );
            }
            self.procedures.insert(id.to_owned(), def);
        }
        Ok(())
    }

    fn fmt(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.cal.settings().timezone())
            .format("%H:%M %d/%m/%Y")
            .to_string()
    }

    /// Records the notice of `kind` for `row` and writes its email when the unit has an
    /// address; answers whether it was new.
    fn raise(&self, conn: &mut DbConnection, kind: Kind, row: &WatchRow) -> AppResult<bool> {
        let Some(Some(def)) = self.procedures.get(&row.procedure_id) else {
            // Logged when loaded; the dossier stays owed its notice.
            return Ok(false);
        };
        if kind == Kind::DossierDueSoon && !def.issues_appointment {
            // Settled on the spot: no appointment was given, so none can be missed.
            return Ok(false);
        }
        let step = match kind {
            Kind::StepDueSoon => {
                let Some(step) = row
                    .current_step
                    .and_then(|i| def.steps.get(usize::try_from(i).ok()?))
                else {
                    return Ok(false);
                };
                Some(step)
            }
            _ => None,
        };
        let (unit_code, event) = match (kind, step) {
            (Kind::StepDueSoon, Some(_)) => (
                row.current_unit.clone().unwrap_or_default(),
                Event::StepDueSoon,
            ),
            (Kind::DossierOverdue, _) => (row.unit_code.clone(), Event::DossierOverdue),
            _ => (row.unit_code.clone(), Event::DossierDueSoon),
        };
        let key = kind.key(
            &row.id,
            step.zip(row.step_started_at)
                .map(|(s, t)| (s.code.as_str(), t)),
        );
        let step_started_at = step.and(row.step_started_at);
        if !notices::insert_if_absent(
            conn,
            &key,
            &row.id,
            kind,
            step_started_at,
            to_db_time(self.now),
        )? {
            return Ok(false);
        }
        // Leaders of the handling unit sign the apology in time; the step's unit does the step.
        let Some(unit) = self.units.get(&unit_code) else {
            return Ok(true);
        };
        let Some(email) = unit.email.as_deref() else {
            return Ok(true);
        };
        let context = json!({
            "code": row.code, "procedure_name": def.name, "unit_name": unit.name,
            "due_at": row.due_at.map(|d| self.fmt(from_db_time(d))),
            "step_name": step.map(|s| s.name.clone()),
            "step_due_at": step.and(row.step_due_at).map(|d| self.fmt(from_db_time(d))),
        });
        enqueue(
            conn,
            self.templates,
            Notice {
                event,
                key,
                recipient: email,
                language: "vi",
                dossier: Some((&row.id, &row.code)),
                context,
            },
            self.now,
        )?;
        Ok(true)
    }
}
