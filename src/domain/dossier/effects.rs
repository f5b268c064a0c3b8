//! What each action does to a dossier: its own checks and changes (one small function per
//! action), then the clock effect and the state its row of the transition table gives.
//! Pure: the use case loads the dossier, calls [`perform`], and writes what it returns.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::input::{ActionRequest, Apology, Component, Reasons};
use super::lifecycle::{ClockEffect, allowed_actions};
use super::receipt::record_components;
use super::{DossierRecord, Outcome, rule_regime};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::notice::Event;
use crate::domain::procedure::{ProcedureDefinition, SupplementPolicy};
use crate::domain::rejection::{Checked, FieldErrors, Rejection};
use crate::domain::role::Role;
use crate::domain::state::{Action, State};
use crate::domain::timeliness::{self, Timeliness};
use crate::error::code::Code;

/// A workflow step handed to a unit: step code, unit code, the step's due time.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedStep {
    pub code: String,
    pub unit_code: String,
    pub due_at: DateTime<Utc>,
}

/// A workflow step closed: its code, due time, and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedStep {
    pub code: String,
    pub due_at: Option<DateTime<Utc>>,
    pub timeliness: Timeliness,
}

/// What an action changed besides the dossier itself, for its history row and notices.
#[derive(Clone, Debug, PartialEq)]
pub struct Effects {
    pub from: State,
    pub to: State,
    /// The history row's `details`.
    pub details: Value,
    pub step: Option<OpenedStep>,
    pub closed: Option<ClosedStep>,
    /// Due times computed afresh (the use case warns when one falls in a year without data).
    pub computed: Vec<DateTime<Utc>>,
    /// A notice the action raises besides its table row's: a restart gives a new appointment.
    pub notice: Option<Event>,
}

/// The checks before any effect, in the order they are answered: the state allows the action
/// (409 with what is allowed), the dossier is in an officer's or leader's unit (403), and
/// the action is not dated before the dossier's last event.
pub fn guard(
    action: Action,
    d: &DossierRecord,
    role: Role,
    unit: Option<&str>,
    t: DateTime<Utc>,
) -> Checked<()> {
    let from = d.state;
    if !action.allowed_from(from) {
        return Err(Rejection::new(
            Code::DossierIllegalTransition,
            format!(
                "Cannot {} a dossier that is {}.",
                action.as_str(),
                from.as_str()
            ),
        )
        .with_extra("state", from.as_str())
        .with_extra("allowed_actions", json!(allowed_actions(from, role))));
    }
    if !acts_in_unit(d, role, unit) {
        return Err(Rejection::forbidden("The dossier is not in your unit."));
    }
    if t < d.last_event_at {
        return Err(Rejection::field(
            "occurred_at",
            "must not be before the dossier's last event",
        ));
    }
    Ok(())
}

/// Officers and leaders act only on dossiers their unit holds now; other roles anywhere.
fn acts_in_unit(d: &DossierRecord, role: Role, unit: Option<&str>) -> bool {
    !role.needs_unit() || Some(d.holding_unit()) == unit
}

/// The actions this user may take on the dossier now, as [`guard`] would let them through:
/// the state allows them, the role may take them, and an officer or leader is in the unit
/// that holds the dossier (a P.DT leader sees none once the dossier is at the LD step).
pub fn allowed_for(d: &DossierRecord, role: Role, unit: Option<&str>) -> Vec<&'static str> {
    if acts_in_unit(d, role, unit) {
        allowed_actions(d.state, role)
    } else {
        Vec::new()
    }
}

/// Performs `action` at `t` on the dossier (already guarded): the action's own checks and
/// changes, the clock effect of its table row, the processing time when it ends the clock,
/// and the new state. Version and timestamps are the use case's.
pub fn perform(
    action: Action,
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    cal: &Calendar,
    actor: &str,
    t: DateTime<Utc>,
) -> Checked<Effects> {
    let from = d.state;
    let to = action.target(from, d.state_before_withdrawal);
    let mut fx = Effects {
        from,
        to,
        details: json!({}),
        step: None,
        closed: None,
        computed: Vec::new(),
        notice: None,
    };
    let mut waited = TimeDelta::zero();
    // Kept for `stop`, which ends the clock and judges against the due time moved by the pause.
    let paused_since = d.clock.paused_at;
    match action.clock() {
        ClockEffect::Unchanged => {}
        ClockEffect::Start => fx.computed.push(d.clock.start(
            cal,
            t,
            def.duration_for(d.channel.is_online()),
        )),
        ClockEffect::Pause => d.clock.pause(t),
        ClockEffect::Resume => {
            if to.clock_running() {
                // A declined withdrawal: the frozen time is not processing time (766 2.2).
                d.supplement_wait_seconds += d.clock.resume(cal, t, promised_at(d)).num_seconds();
            }
        }
        ClockEffect::ResumeOrRestart => {
            waited = d.clock.waited(cal, t);
            d.supplement_wait_seconds += waited.num_seconds();
            match def.supplement_policy {
                SupplementPolicy::Pause => {
                    d.clock.resume(cal, t, promised_at(d));
                }
                SupplementPolicy::Restart => {
                    let duration = def.duration_for(d.channel.is_online());
                    // The new appointment replaces what was promised; the history row keeps both.
                    fx.details = json!({"previous_due_at": d.clock.due_at,
                        "previous_due_at_current": d.clock.due_at_current});
                    fx.computed.push(d.clock.restart(cal, t, duration));
                    fx.notice = Some(Event::Reappointed);
                    if let Some(i) = d.current_step.and_then(|i| usize::try_from(i).ok()) {
                        fx.computed.push(open_step(d, def, cal, i, t)?.due_at);
                    }
                }
            }
        }
        ClockEffect::End => {
            d.clock.end();
            if let Some(start) = d.received_at {
                let worked = deadline::working_time_between(cal, start, t);
                d.working_seconds = Some((worked.num_seconds() - d.supplement_wait_seconds).max(0));
            }
        }
    }
    let tz = cal.settings().timezone();
    match action {
        Action::AskCompletion => ask_completion(d, req, &mut fx)?,
        Action::AddComponents => {
            let inputs = required(&req.components, "components")?;
            if inputs.is_empty() {
                return Err(Rejection::field(
                    "components",
                    "must list at least one component",
                ));
            }
            fx.details = json!({"components": hand_in(d, def, &inputs)?});
        }
        Action::Accept => accept(d, def, tz, t)?,
        Action::Refuse => {
            fx.details = json!({"reasons": required_reasons(req)?});
            d.finished_at = Some(t);
        }
        Action::Transfer => {
            let opened = open_step(d, def, cal, 0, t)?;
            fx.computed.push(opened.due_at);
            fx.step = Some(opened);
        }
        Action::Forward => forward(d, def, req, cal, t, &mut fx)?,
        Action::RequestSupplement => request_supplement(d, def, req, &mut fx)?,
        Action::SupplementReceived => supplement_received(d, def, req, waited, &mut fx)?,
        Action::RequestPayment => {
            let amount = required(&req.amount_vnd, "amount_vnd")?;
            if amount <= 0 {
                return Err(Rejection::field("amount_vnd", "must be positive"));
            }
            fx.details = json!({"amount_vnd": amount});
        }
        Action::PaymentReceived => {
            d.paid_online = Some(req.online.unwrap_or(false));
            fx.details = json!({"reference": req.reference, "online": d.paid_online});
        }
        Action::RequestWithdrawal => d.state_before_withdrawal = Some(from),
        Action::DeclineWithdrawal => {
            fx.details = json!({"reasons": required_reasons(req)?});
            d.state_before_withdrawal = None;
        }
        Action::Stop => {
            fx.details = json!({"reasons": required_reasons(req)?});
            d.finished_at = Some(t);
            // Reports may count a withdrawal as resolved; judge it like a decision, against the
            // due times moved by the pause or freeze it ends (issue 14).
            let judge = |due| timeliness::judged_at(cal, due, paused_since, t);
            d.timeliness = d.clock.due_at.map(judge);
            d.timeliness_current = d.clock.due_at_current.or(d.clock.due_at).map(judge);
        }
        Action::Approve | Action::Reject => decide(action, d, def, req, tz, t, &mut fx)?,
        Action::Apologize => apologize(d, req, cal, actor, t, &mut fx)?,
        Action::Deliver => deliver(d, req, t)?,
        Action::Submit | Action::Receive | Action::CalendarRecomputed => {
            return Err(Rejection::new(
                Code::DossierUnknownAction,
                "No such action.",
            ));
        }
    }
    d.state = to;
    Ok(fx)
}

/// The reasons given, at least one.
pub fn required_reasons(req: &ActionRequest) -> Checked<Vec<String>> {
    let reasons = req.reasons.as_ref().map(Reasons::list).unwrap_or_default();
    if reasons.is_empty() {
        return Err(Rejection::field("reasons", "are required for this action"));
    }
    Ok(reasons)
}

fn required<T: Clone>(v: &Option<T>, field: &str) -> Checked<T> {
    v.clone()
        .ok_or_else(|| Rejection::field(field, "is required for this action"))
}

/// Opens step `index` at `t`: its unit, start and due time.
fn open_step(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    cal: &Calendar,
    index: usize,
    t: DateTime<Utc>,
) -> Checked<OpenedStep> {
    let step = def
        .steps
        .get(index)
        .ok_or_else(|| Rejection::new(Code::Internal, "workflow step out of range"))?;
    let due = deadline::due(cal, t, step.allowance).due_at;
    d.current_step =
        Some(i32::try_from(index).map_err(|e| Rejection::new(Code::Internal, e.to_string()))?);
    d.current_unit = Some(step.unit_code.clone());
    d.step_started_at = Some(t);
    d.clock.step_due_at = Some(due);
    Ok(OpenedStep {
        code: step.code.clone(),
        unit_code: step.unit_code.clone(),
        due_at: due,
    })
}

/// Closes the current step, judging its timeliness at `t`.
fn close_step(
    d: &DossierRecord,
    def: &ProcedureDefinition,
    tz: Tz,
    t: DateTime<Utc>,
) -> Option<ClosedStep> {
    let step = def.steps.get(usize::try_from(d.current_step?).ok()?)?;
    let due = d.clock.step_due_at;
    let judged = due.map_or(Timeliness::OnTime, |due| timeliness::timeliness(tz, t, due));
    Some(ClosedStep {
        code: step.code.clone(),
        due_at: due,
        timeliness: judged,
    })
}

fn ask_completion(d: &mut DossierRecord, req: &ActionRequest, fx: &mut Effects) -> Checked<()> {
    if d.completion_asked {
        return Err(Rejection::new(
            Code::DossierCompletionAlreadyAsked,
            "Completion was already asked once.",
        ));
    }
    d.completion_asked = true;
    fx.details = json!({"reasons": required_reasons(req)?});
    Ok(())
}

/// When the promise (`due_at_current`) was last written while the clock is stopped: an
/// apology given during the pause promises a time that already takes the wait so far into
/// account, so resuming moves it only by the wait after the apology.
fn promised_at(d: &DossierRecord) -> Option<DateTime<Utc>> {
    d.apology.as_ref().map(|a| a.at)
}

/// The official receipt of an online filing (the clock started by the table's `Start`): like
/// a counter receipt, only a dossier with every required checklist item is received.
fn accept(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    tz: Tz,
    t: DateTime<Utc>,
) -> Checked<()> {
    let missing: Vec<String> = def
        .checklist
        .iter()
        .filter(|i| i.required && !d.components.iter().any(|c| c.item_code == i.code))
        .map(|i| i.code.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Rejection::new(
            Code::DossierMissingItems,
            format!(
                "Required checklist items are missing: {}; ask for completion or add them first.",
                missing.join(", ")
            ),
        )
        .with_extra("missing_items", json!(missing)));
    }
    // The regime follows the official receipt, which for online filing is the acceptance.
    d.rule_regime = rule_regime(t.with_timezone(&tz).date_naive()).to_owned();
    d.received_at = Some(t);
    Ok(())
}

fn forward(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    cal: &Calendar,
    t: DateTime<Utc>,
    fx: &mut Effects,
) -> Checked<()> {
    let current = usize::try_from(d.current_step.unwrap_or(0)).unwrap_or(0);
    let next = match &req.to_step {
        Some(code) => def
            .steps
            .iter()
            .position(|s| &s.code == code)
            .ok_or_else(|| {
                Rejection::field(
                    "to_step",
                    format!("{code:?} is not a step of this procedure"),
                )
            })?,
        None => current + 1,
    };
    if next >= def.steps.len() {
        return Err(Rejection::new(
            Code::DossierLastStep,
            "This is the last workflow step: approve or reject.",
        ));
    }
    fx.closed = close_step(d, def, cal.settings().timezone(), t);
    let opened = open_step(d, def, cal, next, t)?;
    fx.computed.push(opened.due_at);
    fx.step = Some(opened);
    Ok(())
}

fn request_supplement(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    fx: &mut Effects,
) -> Checked<()> {
    let reasons = required_reasons(req)?;
    let items = required(&req.items, "items")?;
    if items.is_empty() {
        return Err(Rejection::field(
            "items",
            "must name at least one checklist item",
        ));
    }
    if let Some(bad) = items.iter().find(|i| def.item(i).is_none()) {
        return Err(Rejection::field(
            "items",
            format!("{bad:?} is not in the procedure's checklist"),
        ));
    }
    if u32::try_from(d.supplement_count).unwrap_or(u32::MAX) >= def.max_supplement_requests {
        return Err(Rejection::new(
            Code::DossierSupplementLimit,
            format!(
                "This procedure allows {} supplement request(s).",
                def.max_supplement_requests
            ),
        ));
    }
    d.supplement_count += 1;
    fx.details = json!({"reasons": reasons, "items": items, "applicant_deadline": req.applicant_deadline,
        "policy": def.supplement_policy});
    Ok(())
}

/// The supplement handed in (the clock resumed or restarted by the table's effect): the
/// components added to the checklist snapshot, replacing the entry of the same item.
fn supplement_received(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    waited: TimeDelta,
    fx: &mut Effects,
) -> Checked<()> {
    let mut details =
        json!({"waited_working_minutes": waited.num_minutes(), "policy": def.supplement_policy});
    if let Some(inputs) = &req.components {
        details["components"] = hand_in(d, def, inputs)?;
    }
    if def.supplement_policy == SupplementPolicy::Restart {
        details["previous_due_at"] = fx.details["previous_due_at"].take();
        details["previous_due_at_current"] = fx.details["previous_due_at_current"].take();
        details["new_due_at"] = json!(d.clock.due_at);
    }
    fx.details = details;
    Ok(())
}

/// Components handed in, recorded against the checklist and added to the dossier's snapshot
/// (replacing the entry of the same item); answers them for the history row.
fn hand_in(
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    inputs: &[super::input::ComponentInput],
) -> Checked<Value> {
    let mut errors = FieldErrors::default();
    let (handed_in, _) = record_components(def, inputs, &mut errors);
    errors.into_checked()?;
    for c in &handed_in {
        match d.components.iter_mut().find(|s| s.item_code == c.item_code) {
            Some(existing) => *existing = c.clone(),
            None => d.components.push(c.clone()),
        }
    }
    Ok(components_json(&handed_in))
}

fn components_json(cs: &[Component]) -> Value {
    serde_json::to_value(cs).unwrap_or(Value::Null)
}

fn decide(
    action: Action,
    d: &mut DossierRecord,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    tz: Tz,
    t: DateTime<Utc>,
    fx: &mut Effects,
) -> Checked<()> {
    if action == Action::Reject {
        fx.details = json!({"reasons": required_reasons(req)?});
        d.outcome = Some(Outcome::Rejected);
    } else {
        d.outcome = Some(Outcome::Approved);
    }
    d.result_reference = req.result_reference.clone();
    d.electronic_result = req.electronic_result.unwrap_or(false);
    d.resolved_at = Some(t);
    d.finished_at = d.resolved_at;
    let judged = d
        .clock
        .due_at
        .map_or(Timeliness::OnTime, |due| timeliness::timeliness(tz, t, due));
    d.timeliness = Some(judged);
    d.timeliness_current = Some(
        d.clock
            .due_at_current
            .map_or(judged, |due| timeliness::timeliness(tz, t, due)),
    );
    fx.closed = close_step(d, def, tz, t);
    d.current_step = None;
    d.clock.step_due_at = None;
    Ok(())
}

fn apologize(
    d: &mut DossierRecord,
    req: &ActionRequest,
    cal: &Calendar,
    actor: &str,
    t: DateTime<Utc>,
    fx: &mut Effects,
) -> Checked<()> {
    if d.apology.is_some() {
        return Err(Rejection::new(
            Code::DossierAlreadyApologized,
            "An apology was already issued for this dossier.",
        ));
    }
    let reason = required_reasons(req)?.join("; ");
    let new_due = required(&req.new_due_at, "new_due_at")?.to_utc();
    let clock = &d.clock;
    let current = clock.project(cal, t, clock.due_at_current.or(clock.due_at).unwrap_or(t));
    if new_due <= current || new_due <= t {
        return Err(Rejection::field(
            "new_due_at",
            "must be later than now and than the current appointment",
        ));
    }
    // Due one working day before the due time; later is accepted but flagged.
    let due = clock.project(cal, t, clock.due_at.unwrap_or(t));
    let late = deadline::working_time_between(cal, t, due) < cal.settings().day_length();
    let apology = Apology {
        reason,
        new_due_at: new_due,
        at: t,
        by: actor.to_owned(),
        late,
    };
    fx.details = serde_json::to_value(&apology).unwrap_or(Value::Null);
    d.apology = Some(apology);
    d.late_apology = late;
    d.clock.due_at_current = Some(new_due);
    Ok(())
}

fn deliver(d: &mut DossierRecord, req: &ActionRequest, t: DateTime<Utc>) -> Checked<()> {
    let method = required(&req.method, "method")?;
    if !matches!(method.as_str(), "counter" | "post" | "electronic") {
        return Err(Rejection::field(
            "method",
            "must be counter, post or electronic",
        ));
    }
    if let Some(s) = req.satisfaction
        && !(1..=5).contains(&s)
    {
        return Err(Rejection::field("satisfaction", "must be 1 to 5"));
    }
    d.delivery_method = Some(method);
    d.satisfaction = req.satisfaction;
    d.delivered_at = Some(t);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
