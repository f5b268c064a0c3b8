//! Paper-era dossiers entered from a file (`motcua import dossiers`): one row as the rules see
//! it — original code, receipt time, the procedure version in force then (or an explicit
//! duration), the workflow steps it went through, decision and delivery — and the dossier and
//! history rows it becomes. Pure: the use case reads the file, picks the procedure version,
//! builds every row first (any error → nothing is written), then writes.
//!
//! A row goes through the same rules as live work: `receipt::receive` (applicant, components,
//! checklist), then `effects::perform` for each step, the decision and the delivery at their
//! recorded times, so an imported dossier is judged (due time, timeliness, step timeliness)
//! exactly as one worked in the service.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::effects::{self, ClosedStep, OpenedStep};
use super::input::{ActionRequest, Applicant, ComponentInput, CreateDossierRequest, Reasons};
use super::receipt::{self, ProcedureVersion};
use super::{Channel, DossierRecord, Outcome};
use crate::domain::calendar::Calendar;
use crate::domain::deadline::Duration;
use crate::domain::procedure::ProcedureDefinition;
use crate::domain::rejection::{Checked, Rejection};
use crate::domain::role::Role;
use crate::domain::state::{Action, State};
use crate::error::code::Code;

/// A workflow step the dossier reached, and when.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportStep {
    pub step: String,
    pub at: DateTime<FixedOffset>,
}

/// One paper-era dossier (JSON: the API's field names; CSV: `docs/import.md`'s columns).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    /// The dossier's original code, kept as it is.
    pub code: String,
    pub procedure_code: String,
    /// The procedure version it was received under; default: the one in force at `received_at`.
    #[serde(default)]
    pub procedure_version: Option<i32>,
    /// The statutory duration when the paper record says otherwise than the procedure.
    #[serde(default)]
    pub duration: Option<Duration>,
    pub channel: Channel,
    pub applicant: Applicant,
    #[serde(default)]
    pub components: Vec<ComponentInput>,
    #[serde(default)]
    pub note: String,
    pub received_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub steps: Vec<ImportStep>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub result_reference: Option<String>,
    /// Reasons of a rejection.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub delivered_at: Option<DateTime<FixedOffset>>,
    /// `counter` (default), `post` or `electronic`.
    #[serde(default)]
    pub delivery_method: Option<String>,
}

/// One history row of an imported dossier.
#[derive(Clone, Debug)]
pub struct ImportedEvent {
    pub action: Action,
    pub from: Option<State>,
    pub to: State,
    pub at: DateTime<Utc>,
    pub details: Value,
    pub step: Option<OpenedStep>,
    pub closed: Option<ClosedStep>,
    /// The dossier's due time after this row.
    pub due_at: Option<DateTime<Utc>>,
}

/// A row built: the dossier as its history left it (the use case gives it an id and a lookup
/// key; it keeps its original code) and that history.
#[derive(Clone, Debug)]
pub struct Imported {
    pub dossier: DossierRecord,
    pub events: Vec<ImportedEvent>,
}

/// A code as the service stores it: letters, digits, dots, dashes, 1–64 characters.
fn valid_code(c: &str) -> bool {
    (1..=64).contains(&c.len())
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
}

/// Moves an error's field onto the row's column (`occurred_at` of a replayed action is the
/// column that dated it).
fn at_column(mut r: Rejection, column: &str) -> Rejection {
    if let Some(m) = r.fields.remove("occurred_at") {
        r.fields.insert(column.to_owned(), m);
    }
    if r.fields.is_empty() {
        r.fields.insert(column.to_owned(), r.detail.clone());
    }
    r
}

/// Builds one row against the procedure version in force at its receipt (chosen by the use
/// case), at `now`. Every problem is a field error named by the row's column.
pub fn build(
    row: &ImportRow,
    procedure: ProcedureVersion,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Checked<Imported> {
    if !valid_code(&row.code) {
        return Err(Rejection::field(
            "code",
            "must be 1–64 letters, digits, '.', '-' or '_'",
        ));
    }
    let mut def: ProcedureDefinition = procedure.definition.clone();
    if let Some(d) = row.duration {
        d.check()
            .map_err(|e| Rejection::field("duration", e.to_string()))?;
        def.duration = d;
        def.online_duration = None;
    }
    let version = ProcedureVersion {
        version_id: procedure.version_id,
        definition: &def,
    };
    let req = CreateDossierRequest {
        procedure_code: row.procedure_code.clone(),
        channel: row.channel,
        applicant: row.applicant.clone(),
        components: row.components.clone(),
        note: row.note.clone(),
        received_at: Some(row.received_at),
        refused_reasons: None,
    };
    let new = receipt::receive(&req, Role::Admin, Some(version), cal, now).map_err(|r| {
        if r.code == Code::DossierMissingItems {
            let detail = r.detail.clone();
            let mut r = r;
            r.fields.insert("components".into(), detail);
            r
        } else {
            r
        }
    })?;
    // Replayed on a record with the code, so that every rule sees the dossier as it was.
    let mut d = new.assign(String::new(), row.code.clone(), "");
    let mut events = vec![ImportedEvent {
        action: Action::Receive,
        from: None,
        to: d.state,
        at: new.at,
        details: json!({"components": d.components.len(), "imported": true}),
        step: None,
        closed: None,
        due_at: d.clock.due_at,
    }];
    let mut replay = |d: &mut DossierRecord,
                      action: Action,
                      req: &ActionRequest,
                      t: DateTime<Utc>,
                      column: &str|
     -> Checked<()> {
        if t > now {
            return Err(Rejection::field(column, "must not be in the future"));
        }
        effects::guard(action, d, Role::Admin, None, t).map_err(|r| at_column(r, column))?;
        let fx = effects::perform(action, d, &def, req, cal, "import", t)
            .map_err(|r| at_column(r, column))?;
        d.version += 1;
        d.last_event_at = t;
        let mut details = fx.details;
        if let Value::Object(m) = &mut details {
            m.insert("imported".into(), json!(true));
        }
        events.push(ImportedEvent {
            action,
            from: Some(fx.from),
            to: fx.to,
            at: t,
            details,
            step: fx.step,
            closed: fx.closed,
            due_at: d.clock.due_at,
        });
        Ok(())
    };
    for (i, s) in row.steps.iter().enumerate() {
        let column = "steps";
        let t = crate::domain::truncate_to_micros(s.at.to_utc());
        if def.steps.iter().all(|x| x.code != s.step) {
            return Err(Rejection::field(
                column,
                format!("{:?} is not a step of this procedure", s.step),
            ));
        }
        if i == 0 {
            replay(
                &mut d,
                Action::Transfer,
                &ActionRequest::default(),
                t,
                column,
            )?;
            if def.steps.first().is_some_and(|f| f.code == s.step) {
                continue;
            }
        }
        let to = ActionRequest {
            to_step: Some(s.step.clone()),
            ..Default::default()
        };
        replay(&mut d, Action::Forward, &to, t, column)?;
    }
    match (row.resolved_at, row.outcome) {
        (Some(at), outcome) => {
            let t = crate::domain::truncate_to_micros(at.to_utc());
            if d.state == State::Received {
                // A decision without recorded steps: handed over when received.
                let at = d.last_event_at;
                replay(
                    &mut d,
                    Action::Transfer,
                    &ActionRequest::default(),
                    at,
                    "resolved_at",
                )?;
            }
            let action = match outcome.unwrap_or(Outcome::Approved) {
                Outcome::Approved => Action::Approve,
                Outcome::Rejected => Action::Reject,
            };
            let req = ActionRequest {
                result_reference: row.result_reference.clone(),
                reasons: (!row.reasons.is_empty()).then(|| Reasons::Many(row.reasons.clone())),
                ..Default::default()
            };
            replay(&mut d, action, &req, t, "resolved_at").map_err(|mut r| {
                if let Some(m) = r.fields.remove("reasons") {
                    r.fields.insert("reasons".into(), m);
                }
                r
            })?;
        }
        (None, Some(_)) => {
            return Err(Rejection::field(
                "resolved_at",
                "is required with an outcome",
            ));
        }
        (None, None) => {}
    }
    if let Some(at) = row.delivered_at {
        let t = crate::domain::truncate_to_micros(at.to_utc());
        if d.state != State::Resolved {
            return Err(Rejection::field(
                "delivered_at",
                "needs a decision (resolved_at) first",
            ));
        }
        let req = ActionRequest {
            method: Some(
                row.delivery_method
                    .clone()
                    .unwrap_or_else(|| "counter".into()),
            ),
            ..Default::default()
        };
        replay(&mut d, Action::Deliver, &req, t, "delivered_at")?;
    }
    Ok(Imported { dossier: d, events })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::dossier::fixtures::{cal, procedure};
    use crate::domain::timeliness::Timeliness;

    fn row(extra: Value) -> ImportRow {
        let mut v = json!({
            "code": "H00-261201-0042", "procedure_code": "P1", "channel": "direct",
            "applicant": {"kind": "citizen", "name": "Lê Thị Giấy"},
            "components": [{"item_code": "A", "kind": "original"}],
            "received_at": "2026-12-01T10:00:00+07:00"
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
            a.extend(b);
        }
        serde_json::from_value(v).unwrap()
    }

    fn build_row(r: &ImportRow) -> Checked<Imported> {
        let def = procedure("pause");
        let version = ProcedureVersion {
            version_id: "v1",
            definition: &def,
        };
        build(
            r,
            version,
            &cal(),
            crate::domain::dossier::fixtures::at(31, 9, 0),
        )
    }

    #[test]
    fn a_finished_paper_dossier_is_judged_like_a_live_one() {
        let r = row(json!({
            "steps": [{"step": "S1", "at": "2026-12-01T14:00:00+07:00"},
                      {"step": "S2", "at": "2026-12-03T09:00:00+07:00"}],
            "resolved_at": "2026-12-07T16:00:00+07:00", "result_reference": "12/GP",
            "delivered_at": "2026-12-08T09:00:00+07:00"
        }));
        let imported = build_row(&r).unwrap();
        let d = &imported.dossier;
        assert_eq!(d.code, "H00-261201-0042");
        assert_eq!(d.state, State::Delivered);
        // Due Tue 8th 10:00; decided Mon 7th: early.
        assert_eq!(d.timeliness, Some(Timeliness::Early));
        let actions: Vec<&str> = imported.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["receive", "transfer", "forward", "approve", "deliver"]
        );
        // S1 (one day from Tue 14:00) was handed on Thursday: late.
        assert_eq!(
            imported.events[2].closed.as_ref().unwrap().timeliness,
            Timeliness::Late
        );
        assert_eq!(d.version, 5);
        assert!(
            imported
                .events
                .iter()
                .all(|e| e.details["imported"] == true)
        );
    }

    #[test]
    fn errors_name_the_column() {
        let bad = |extra: Value, column: &str| {
            let r = build_row(&row(extra)).unwrap_err();
            assert!(r.fields.contains_key(column), "{column}: {r:?}");
        };
        bad(json!({"code": "a b"}), "code");
        bad(
            json!({"received_at": "2027-06-01T10:00:00+07:00"}),
            "received_at",
        );
        bad(json!({"components": []}), "components");
        bad(
            json!({"steps": [{"step": "X", "at": "2026-12-02T10:00:00+07:00"}]}),
            "steps",
        );
        // Out of order: a step before the receipt.
        bad(
            json!({"steps": [{"step": "S1", "at": "2026-11-30T10:00:00+07:00"}]}),
            "steps",
        );
        bad(
            json!({"outcome": "rejected", "resolved_at": "2026-12-04T10:00:00+07:00"}),
            "reasons",
        );
        bad(
            json!({"delivered_at": "2026-12-04T10:00:00+07:00"}),
            "delivered_at",
        );
        bad(
            json!({"duration": {"value": 3, "unit": "same_day"}}),
            "duration",
        );
    }

    #[test]
    fn an_explicit_duration_replaces_the_procedures() {
        let r = row(json!({"duration": {"value": 2, "unit": "working_days"}}));
        let d = build_row(&r).unwrap().dossier;
        assert_eq!(
            d.clock.due_at,
            Some(crate::domain::dossier::fixtures::at(3, 10, 0))
        );
    }
}
