//! Reading dossiers: the staff view, the history (processing-control slip) and the list with
//! its filters (the queues).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::db::dossiers::{self as store, DossierFilter};
use crate::db::{DbConnection, from_db_time, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::dossier::effects::allowed_for;
use crate::domain::dossier::{Channel, DossierRecord};
use crate::domain::state::State;
use crate::domain::timeliness;
use crate::error::{AppError, AppResult, FieldErrors};

use super::super::procedures::Procedure;
use super::super::users::Principal;
use super::super::{Page, PageRequest};
use super::{
    Ctx, CurrentStep, Dossier, HistoryRow, ListQuery, ProcedureRef, load_procedure, local,
    visible_dossier,
};

/// The staff view of a dossier, with what `viewer` may do now (in their unit).
pub fn view(
    cal: &Calendar,
    d: &DossierRecord,
    procedure: &Procedure,
    viewer: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Dossier> {
    let tz = cal.settings().timezone();
    let state = d.state;
    let def = &procedure.definition;
    let due = d.clock.due_at;
    let running = state.clock_running();
    Ok(Dossier {
        code: d.code.clone(),
        state,
        status_code: state.status_code(),
        status_label: state.label_vi(),
        outcome: d.outcome.map(|o| o.as_str().to_owned()),
        procedure: ProcedureRef {
            code: def.code.clone(),
            name: def.name.clone(),
            version: procedure.version,
        },
        applicant: serde_json::from_str(&d.applicant).unwrap_or(Value::Null),
        channel: d.channel.as_str().to_owned(),
        rule_regime: d.rule_regime.clone(),
        components: d.components.clone(),
        current_step: d.current_step.and_then(|i| {
            let step = def.steps.get(usize::try_from(i).ok()?)?;
            Some(CurrentStep {
                index: i,
                code: step.code.clone(),
                name: step.name.clone(),
                unit_code: step.unit_code.clone(),
                started_at: local(tz, d.step_started_at),
                due_at: local(tz, d.clock.step_due_at),
            })
        }),
        current_unit: d.current_unit.clone(),
        submitted_at: local(tz, d.submitted_at),
        received_at: local(tz, d.received_at),
        due_at: local(tz, d.clock.due_at),
        due_at_current: local(tz, d.clock.due_at_current),
        resolved_at: local(tz, d.resolved_at),
        delivered_at: local(tz, d.delivered_at),
        finished_at: local(tz, d.finished_at),
        overdue: state.is_open()
            && due.is_some_and(|due| timeliness::overdue_at(due, d.clock.paused_at, now)),
        due_soon: running && due.is_some_and(|d| timeliness::is_due_soon(cal, now, d)),
        timeliness: d.timeliness.map(|t| t.as_str().to_owned()),
        supplement_count: d.supplement_count,
        digitised: d.digitised,
        apology: d.apology.as_ref().map(Into::into),
        result_reference: d.result_reference.clone(),
        delivery_method: d.delivery_method.clone(),
        satisfaction: d.satisfaction,
        note: d.note.clone(),
        version: d.version,
        allowed_actions: allowed_for(d, viewer.role, viewer.unit_code.as_deref()),
    })
}

pub fn get(conn: &mut DbConnection, ctx: &Ctx, dossier_code: &str) -> AppResult<Dossier> {
    let d = visible_dossier(conn, ctx, dossier_code)?;
    let procedure = load_procedure(conn, &d.procedure_id)?;
    view(ctx.cal, &d, &procedure, ctx.principal, ctx.now)
}

pub fn history(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
) -> AppResult<Vec<HistoryRow>> {
    let d = visible_dossier(conn, ctx, dossier_code)?;
    history_of(conn, ctx.tz(), &d)
}

/// The history rows of a dossier already read.
pub fn history_of(
    conn: &mut DbConnection,
    tz: Tz,
    d: &DossierRecord,
) -> AppResult<Vec<HistoryRow>> {
    let at = |t: chrono::NaiveDateTime| {
        local(tz, Some(from_db_time(t))).ok_or_else(|| AppError::internal("time"))
    };
    let opt = |t: Option<chrono::NaiveDateTime>| local(tz, t.map(from_db_time));
    store::list_events(conn, &d.id)?
        .into_iter()
        .map(|e| {
            Ok(HistoryRow {
                seq: e.seq,
                action: e.action,
                from_state: e.from_state,
                to_state: e.to_state,
                actor: e.actor,
                role: e.role,
                unit: e.unit_code,
                at: at(e.occurred_at)?,
                recorded_at: at(e.recorded_at)?,
                note: e.note,
                step: e.step,
                step_unit: e.step_unit,
                step_due_at: opt(e.step_due_at),
                closed_step: e.closed_step,
                closed_step_due_at: opt(e.closed_step_due_at),
                step_timeliness: e.step_timeliness,
                due_at: opt(e.due_at),
                details: {
                    let mut details = serde_json::from_str(&e.details).unwrap_or(Value::Null);
                    crate::clock::localise_details(&mut details);
                    details
                },
            })
        })
        .collect()
}

fn local_midnight(tz: Tz, d: chrono::NaiveDate) -> Option<chrono::NaiveDateTime> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| to_db_time(t.to_utc()))
}

/// The due-time window of the `due_soon` and `due_today` filters (both: the narrower end).
fn due_window(
    ctx: &Ctx,
    q: &ListQuery,
    day: chrono::TimeDelta,
) -> Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)> {
    let soon = q
        .due_soon
        .unwrap_or(false)
        .then(|| to_db_time(deadline::add_working_time(ctx.cal, ctx.now, day)));
    let today = q.due_today.unwrap_or(false).then(|| {
        let tomorrow = ctx.now.with_timezone(&ctx.tz()).date_naive().succ_opt();
        tomorrow
            .and_then(|d| local_midnight(ctx.tz(), d))
            .unwrap_or_else(|| to_db_time(ctx.now))
    });
    let end = match (soon, today) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    Some((to_db_time(ctx.now), end))
}

pub fn list(conn: &mut DbConnection, ctx: &Ctx, q: &ListQuery) -> AppResult<Page<Dossier>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let tz = ctx.tz();
    let mut errors = FieldErrors::default();
    let mut states = Vec::new();
    for s in q
        .state
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
    {
        match s.parse::<State>() {
            Ok(state) => states.push(state),
            Err(_) => errors.add("state", format!("unknown state {s:?}")),
        }
    }
    let channel = match q.channel.as_deref().map(str::parse::<Channel>) {
        Some(Err(_)) => {
            errors.add("channel", "must be direct, online or postal");
            None
        }
        other => other.and_then(Result::ok),
    };
    errors.into_result()?;
    let day = ctx.cal.settings().day_length();
    let filter = DossierFilter {
        states,
        procedure_code: q.procedure_code.clone(),
        unit_code: q.unit_code.clone(),
        channel,
        due_before: q.overdue.unwrap_or(false).then(|| to_db_time(ctx.now)),
        due_between: due_window(ctx, q, day),
        received_from: q.received_from.and_then(|d| local_midnight(tz, d)),
        received_before: q
            .received_to
            .and_then(|d| d.succ_opt())
            .and_then(|d| local_midnight(tz, d)),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        visible_to_unit: ctx
            .principal
            .role
            .needs_unit()
            .then(|| ctx.principal.unit_code.clone().unwrap_or_default()),
    };
    let (rows, total) = store::list(conn, &filter, page.offset(), page.per_page)?;
    let mut procedures: HashMap<String, Procedure> = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for d in rows {
        if !procedures.contains_key(&d.procedure_id) {
            let p = load_procedure(conn, &d.procedure_id)?;
            procedures.insert(d.procedure_id.clone(), p);
        }
        let p = procedures
            .get(&d.procedure_id)
            .ok_or_else(|| AppError::internal("procedure cache"))?;
        items.push(view(ctx.cal, &d, p, ctx.principal, ctx.now)?);
    }
    Ok(Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// The dossier's due time explained day by day: from its receipt, the procedure's duration
/// for its channel (the appointment first given; pauses and apologies move it later, and the
/// page says so).
pub fn explain_due(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
) -> AppResult<Option<deadline::Explanation>> {
    let d = visible_dossier(conn, ctx, dossier_code)?;
    let Some(start) = d.received_at else {
        return Ok(None);
    };
    let procedure = load_procedure(conn, &d.procedure_id)?;
    let duration = procedure.definition.duration_for(d.channel.is_online());
    Ok(Some(deadline::explain(ctx.cal, start, duration)))
}
