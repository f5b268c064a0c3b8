//! The emails a dossier action writes into the outbox, inside the action's transaction: to
//! the applicant (if an address was given), and to the unit a step is handed to.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::db::notices::{self, Kind};
use crate::db::to_db_time;
use crate::domain::calendar::Calendar;
use crate::domain::deadline;

use crate::db::DbConnection;
use crate::domain::dossier::DossierRecord;
use crate::domain::dossier::effects::OpenedStep;
use crate::domain::notice::Event;
use crate::domain::procedure::ProcedureDefinition;
use crate::error::{AppError, AppResult};
use crate::notify::{self, Notice};

use super::{Applicant, Ctx};

/// Writes an applicant email. One per dossier version: a retried action writes nothing new.
pub(super) fn notify_applicant(
    ctx: &Ctx,
    conn: &mut DbConnection,
    d: &DossierRecord,
    def: &ProcedureDefinition,
    event: Event,
    extra: Value,
) -> AppResult<()> {
    let applicant: Applicant = serde_json::from_str(&d.applicant).map_err(AppError::internal)?;
    let Some(email) = applicant.email.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    let mut context = context(ctx, d, def);
    merge(&mut context, extra);
    notify::enqueue(
        conn,
        &ctx.state.templates,
        Notice {
            event,
            key: format!("{}:{}:{}", event.as_str(), d.id, d.version),
            recipient: email,
            language: applicant.language.as_deref().unwrap_or("vi"),
            dossier: Some((&d.id, &d.code)),
            context,
        },
        ctx.now,
    )?;
    Ok(())
}

/// Tells the unit that now holds the dossier which step it has to do, and by when.
pub(super) fn notify_unit(
    ctx: &Ctx,
    conn: &mut DbConnection,
    d: &DossierRecord,
    def: &ProcedureDefinition,
    step: &OpenedStep,
) -> AppResult<()> {
    let Some(unit) = crate::db::units::find_unit(conn, &step.unit_code)? else {
        return Ok(());
    };
    let Some(email) = unit.email.as_deref() else {
        return Ok(());
    };
    let mut context = context(ctx, d, def);
    let step_name = def
        .steps
        .iter()
        .find(|s| s.code == step.code)
        .map(|s| s.name.clone());
    merge(
        &mut context,
        json!({"unit_name": unit.name, "step_name": step_name, "step_due_at": ctx.fmt(Some(step.due_at))}),
    );
    notify::enqueue(
        conn,
        &ctx.state.templates,
        Notice {
            event: Event::StepAssigned,
            key: format!("step_assigned:{}:{}", d.id, d.version),
            recipient: email,
            language: "vi",
            dossier: Some((&d.id, &d.code)),
            context,
        },
        ctx.now,
    )?;
    Ok(())
}

fn context(ctx: &Ctx, d: &DossierRecord, def: &ProcedureDefinition) -> Value {
    let settings = &ctx.state.settings;
    json!({
        "agency_name": settings.agency.name,
        "code": d.code,
        "procedure_name": def.name,
        "applicant_name": d.applicant_name,
        "received_at": ctx.fmt(d.received_at),
        // Procedures settled on the spot give no appointment.
        "due_at": def.issues_appointment.then(|| ctx.fmt(d.clock.due_at_current.or(d.clock.due_at))).flatten(),
        "lookup_url": format!("{}/tra-cuu", settings.public_base_url()),
    })
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        a.extend(b);
    }
}

/// An admin's `received_at` or `occurred_at` further back than this is back-entry of a paper
/// record: it tells nobody (no applicant email, no staff notice for what has passed).
pub const BACK_ENTRY_GRACE_MINUTES: i64 = 10;

/// Whether an event dated `t`, entered at `now`, is back-entry.
pub fn is_back_entry(t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - t > TimeDelta::minutes(BACK_ENTRY_GRACE_MINUTES)
}

/// Back-entry raises no staff notice for a moment already past: the due-soon, overdue and
/// step-due-soon notices whose time has come at `now` are recorded as raised (no email), so
/// that the watcher does not send them afterwards. Notices still ahead are raised as usual.
pub fn quiet_passed_notices(
    conn: &mut DbConnection,
    cal: &Calendar,
    due_soon_days: u32,
    d: &DossierRecord,
    def: &ProcedureDefinition,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !d.state.clock_running() {
        return Ok(());
    }
    let day = cal.settings().day_length();
    let days = i32::try_from(due_soon_days.max(1)).unwrap_or(1);
    let soon = deadline::add_working_time(cal, now, day * days);
    let step_soon = deadline::add_working_time(cal, now, day);
    let raised = to_db_time(now);
    if let Some(due) = d.clock.due_at {
        if due <= soon && def.issues_appointment {
            let k = Kind::DossierDueSoon;
            notices::insert_if_absent(conn, &k.key(&d.id, None), &d.id, k, None, raised)?;
        }
        if due < now {
            let k = Kind::DossierOverdue;
            notices::insert_if_absent(conn, &k.key(&d.id, None), &d.id, k, None, raised)?;
        }
    }
    let step = d
        .current_step
        .and_then(|i| def.steps.get(usize::try_from(i).ok()?));
    if let (Some(due), Some(step), Some(started)) = (d.clock.step_due_at, step, d.step_started_at)
        && due <= step_soon
    {
        let started = to_db_time(started);
        let step_code = step.code.as_str();
        let k = Kind::StepDueSoon;
        notices::insert_if_absent(
            conn,
            &k.key(&d.id, Some((step_code, started))),
            &d.id,
            k,
            Some(started),
            raised,
        )?;
    }
    Ok(())
}
