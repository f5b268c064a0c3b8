//! `POST /dossiers/{code}/actions/{action}`: one lifecycle action in one transaction — the
//! guard checks, the effect (`domain::dossier::effects`), the dossier written only if nobody
//! changed it meanwhile, the history row (seq = the new version) and the notices.

use serde_json::json;

use crate::db::dossiers::{self as store, EventRow};
use crate::db::{self, DbConnection, to_db_time};
use crate::domain::dossier::effects;
use crate::domain::notice::Event;
use crate::domain::role::Role;
use crate::domain::state::Action;
use crate::error::{AppError, AppResult, Code};

use super::notices::{is_back_entry, notify_applicant, notify_unit, quiet_passed_notices};
use super::{
    ActionRequest, ComponentsRequest, Ctx, Dossier, Reasons, history_row, load_procedure, view,
    visible_dossier, warn_beyond_calendar,
};

/// Parses `If-Match` (`"3"`, `W/"3"` or `3`).
pub fn parse_if_match(raw: &str) -> Option<i32> {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// Performs one action on a dossier in one transaction.
pub fn act(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    action_name: &str,
    req: &ActionRequest,
    if_match: Option<i32>,
) -> AppResult<Dossier> {
    let action = Action::parse_postable(action_name).ok_or_else(|| {
        AppError::new(
            Code::DossierUnknownAction,
            format!("No action {action_name:?}."),
        )
    })?;
    perform(conn, ctx, dossier_code, action, req, if_match)
}

/// `POST /dossiers/{code}/components`: components handed in while an online filing waits for
/// completion (the portal for the applicant, or the counter), so that it can be accepted.
pub fn add_components(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    req: &ComponentsRequest,
    if_match: Option<i32>,
) -> AppResult<Dossier> {
    let req = ActionRequest {
        note: req.note.clone(),
        components: Some(req.components.clone()),
        ..Default::default()
    };
    perform(
        conn,
        ctx,
        dossier_code,
        Action::AddComponents,
        &req,
        if_match,
    )
}

fn perform(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    action: Action,
    req: &ActionRequest,
    if_match: Option<i32>,
) -> AppResult<Dossier> {
    let p = ctx.principal;
    if !action.may(p.role) {
        return Err(AppError::forbidden(format!(
            "Role {} may not {}.",
            p.role,
            action.as_str()
        )));
    }
    if req.components.is_some()
        && !matches!(action, Action::SupplementReceived | Action::AddComponents)
    {
        return Err(AppError::invalid_field(
            "components",
            "are handed in with supplement_received only",
        ));
    }
    let t = match req.occurred_at {
        Some(_) if p.role != Role::Admin => {
            return Err(AppError::forbidden(
                "Only admins may set occurred_at (back-entry).",
            ));
        }
        Some(at) if at.to_utc() > ctx.now => {
            return Err(AppError::invalid_field(
                "occurred_at",
                "must not be in the future",
            ));
        }
        Some(at) => crate::domain::truncate_to_micros(at.to_utc()),
        None => ctx.now,
    };
    db::write_tx(conn, |conn| {
        let mut d = visible_dossier(conn, ctx, dossier_code)?;
        if let Some(v) = if_match
            && v != d.version
        {
            return Err(AppError::new(
                Code::DossierStale,
                format!(
                    "The dossier changed (version {} now, If-Match {v}).",
                    d.version
                ),
            )
            .with_extra("version", d.version));
        }
        effects::guard(action, &d, p.role, p.unit_code.as_deref(), t)?;
        let procedure = load_procedure(conn, &d.procedure_id)?;
        let def = &procedure.definition;
        let read_version = d.version;
        let fx = effects::perform(action, &mut d, def, req, ctx.cal, &p.username, t)?;
        warn_beyond_calendar(ctx.cal, &fx.computed);
        d.version = read_version + 1;
        d.last_event_at = t;
        d.updated_at = ctx.now;
        d.stamp_days(ctx.tz());
        if !store::update_if_version(conn, &d, read_version)? {
            return Err(AppError::new(
                Code::DossierConcurrentChange,
                "Another action changed the dossier at the same time; reload and retry.",
            ));
        }
        if let Some(step) = &fx.step {
            store::mark_unit(conn, &d.id, &step.unit_code)?;
        }
        let note = req.note.clone().unwrap_or_default();
        store::insert_event(
            conn,
            &EventRow {
                action: action.as_str().to_owned(),
                details: fx.details.to_string(),
                step: fx.step.as_ref().map(|s| s.code.clone()),
                step_unit: fx.step.as_ref().map(|s| s.unit_code.clone()),
                step_due_at: fx.step.as_ref().map(|s| to_db_time(s.due_at)),
                closed_step: fx.closed.as_ref().map(|c| c.code.clone()),
                closed_step_due_at: fx.closed.as_ref().and_then(|c| c.due_at.map(to_db_time)),
                step_timeliness: fx.closed.as_ref().map(|c| c.timeliness.as_str().to_owned()),
                ..history_row(&d, Some(fx.from), fx.to, p, t, ctx.now, &note)
            },
        )?;
        let back_entered = req.occurred_at.is_some() && is_back_entry(t, ctx.now);
        if back_entered {
            // A paper record entered later tells nobody.
            let days = ctx.state.settings.notify.due_soon_working_days;
            quiet_passed_notices(conn, ctx.cal, days, &d, def, ctx.now)?;
        }
        if let (false, Some(Event::Reappointed)) = (back_entered, fx.notice) {
            // Restart: a new appointment, told to the applicant; form 01 prints it again.
            let previous = fx.details["previous_due_at_current"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.to_utc());
            notify_applicant(
                ctx,
                conn,
                &d,
                def,
                Event::Reappointed,
                json!({"previous_due_at": ctx.fmt(previous)}),
            )?;
        }
        match action.notice().filter(|_| !back_entered) {
            None => {}
            Some(Event::StepAssigned) => {
                if let Some(step) = &fx.step {
                    notify_unit(ctx, conn, &d, def, step)?;
                }
            }
            // Online filing accepted: the lookup key was given at submission, form 01 shows it.
            Some(Event::Received) => notify_applicant(
                ctx,
                conn,
                &d,
                def,
                Event::Received,
                json!({"lookup_key": "(xem Giấy tiếp nhận)"}),
            )?,
            Some(event) => {
                let items: Vec<String> = req
                    .items
                    .iter()
                    .flatten()
                    .filter_map(|c| def.item(c).map(|i| i.name.clone()))
                    .collect();
                let extra = json!({
                    "reasons": req.reasons.as_ref().map(Reasons::list).unwrap_or_default(),
                    "items": items,
                    "applicant_deadline": req.applicant_deadline.map(|t| ctx.fmt(Some(t.to_utc()))),
                    "new_due_at": ctx.fmt(d.clock.due_at_current),
                    "outcome": d.outcome.map(|o| o.as_str()),
                    "result_reference": d.result_reference,
                    "delivery_method": d.delivery_method,
                });
                notify_applicant(ctx, conn, &d, def, event, extra)?;
            }
        }
        if req.components.is_some() {
            super::super::files::refresh_status(conn, &d)?;
        }
        tracing::info!(dossier.code = %d.code, action = action.as_str(), dossier.state = fx.to.as_str(), "dossier action");
        view(ctx.cal, &d, &procedure, p, ctx.now)
    })
}
