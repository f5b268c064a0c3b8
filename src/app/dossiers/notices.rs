//! The emails a dossier action writes into the outbox, inside the action's transaction: to
//! the applicant (if an address was given), and to the unit a step is handed to.

use serde_json::{Value, json};

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
        "due_at": ctx.fmt(d.clock.due_at_current.or(d.clock.due_at)),
        "lookup_url": format!("{}/tra-cuu", settings.public_base_url()),
    })
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        a.extend(b);
    }
}
