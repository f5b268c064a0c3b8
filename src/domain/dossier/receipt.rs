//! Receipt (design §4 `receive`, `submit`, counter `refuse`): from the request, the procedure
//! definition, the calendar and `now`, the dossier to insert — or why not. Pure: the use case
//! loads the procedure, calls [`receive`], allocates the code and writes.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::input::{Component, ComponentInput, CreateDossierRequest};
use super::{Channel, DossierRecord, DueClock, rule_regime};
use crate::domain::calendar::Calendar;
use crate::domain::code;
use crate::domain::email::valid_email;
use crate::domain::procedure::ProcedureDefinition;
use crate::domain::rejection::{Checked, FieldErrors, Rejection};
use crate::domain::role::Role;
use crate::domain::state::{Action, State};
use crate::error::code::Code;

/// The procedure version a dossier is received under.
pub struct ProcedureVersion<'a> {
    pub version_id: &'a str,
    pub definition: &'a ProcedureDefinition,
}

/// A dossier ready to be written once it has its id and code.
#[derive(Clone, Debug)]
pub struct NewDossier {
    /// `receive`, `submit` or `refuse`.
    pub action: Action,
    /// The receipt (or filing) time: `now`, or an admin's back-entry time.
    pub at: DateTime<Utc>,
    /// The local date the code is numbered by.
    pub local_date: NaiveDate,
    /// Counter refusal: the reasons (form 03).
    pub refused: Vec<String>,
    record: DossierRecord,
}

impl NewDossier {
    /// The dossier with its id, code and lookup key (stored hashed).
    pub fn assign(&self, id: String, code: String, lookup_key: &str) -> DossierRecord {
        let mut d = self.record.clone();
        d.lookup_key_hash = code::hash_lookup_key(&code, lookup_key);
        d.search_text = format!("{code} {}", d.search_text).to_lowercase();
        d.id = id;
        d.code = code;
        d
    }

    /// The history row's `details`.
    pub fn details(&self) -> serde_json::Value {
        let components = self.record.components.len();
        if self.action == Action::Refuse {
            json!({"components": components, "reasons": self.refused})
        } else {
            json!({"components": components})
        }
    }
}

/// What may be refused before anything is read: the role's creation, and a back-entry time
/// set by someone other than an admin.
pub fn admit(req: &CreateDossierRequest, role: Role) -> Checked<Action> {
    let action = creation(role, req.refused_reasons.is_some())?;
    if req.received_at.is_some() && role != Role::Admin {
        return Err(Rejection::forbidden(
            "Only admins may set received_at (back-entry).",
        ));
    }
    Ok(action)
}

/// Which creation the caller's role makes: a clerk's or admin's counter receipt (or, with
/// reasons, counter refusal), a portal's online filing. The roles are the table's.
pub fn creation(role: Role, refusing: bool) -> Checked<Action> {
    if !(Action::Receive.may(role) || Action::Submit.may(role)) {
        return Err(Rejection::forbidden(
            "Only clerks, portals and admins create dossiers.",
        ));
    }
    if refusing && !Action::Refuse.may(role) {
        return Err(Rejection::forbidden("Only the counter refuses dossiers."));
    }
    Ok(if refusing {
        Action::Refuse
    } else if Action::Receive.may(role) {
        Action::Receive
    } else {
        Action::Submit
    })
}

/// Checks the request and builds the dossier: applicant, channel, back-entry time, the
/// procedure (`None`: no such procedure), components against its checklist — all field
/// errors in one answer — then the required items of a counter receipt, the reasons of a
/// refusal, and the clock of a receipt.
pub fn receive(
    req: &CreateDossierRequest,
    role: Role,
    procedure: Option<ProcedureVersion>,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Checked<NewDossier> {
    let action = creation(role, req.refused_reasons.is_some())?;
    let mut errors = FieldErrors::default();
    errors.check(
        matches!(req.applicant.kind.as_str(), "citizen" | "organisation"),
        "applicant.kind",
        "must be citizen or organisation",
    );
    errors.check(
        !req.applicant.name.trim().is_empty(),
        "applicant.name",
        "must not be empty",
    );
    errors.check(
        req.applicant.name.chars().count() <= 300,
        "applicant.name",
        "must be at most 300 characters",
    );
    if let Some(e) = &req.applicant.email {
        errors.check(valid_email(e), "applicant.email", "is not an email address");
    }
    if action == Action::Submit {
        errors.check(
            req.channel == Channel::Online,
            "channel",
            "online filing must use channel online",
        );
    }
    let at = match req.received_at {
        Some(_) if role != Role::Admin => {
            return Err(Rejection::forbidden(
                "Only admins may set received_at (back-entry).",
            ));
        }
        Some(t) if t.to_utc() > now => {
            errors.add("received_at", "must not be in the future");
            now
        }
        Some(t) => crate::domain::truncate_to_micros(t.to_utc()),
        None => now,
    };
    let Some(procedure) = procedure else {
        errors.add(
            "procedure_code",
            format!("unknown procedure {:?}", req.procedure_code),
        );
        errors.into_checked()?;
        return Err(Rejection::new(Code::Internal, "procedure checked above"));
    };
    let def = procedure.definition;
    let (components, missing) = record_components(def, &req.components, &mut errors);
    errors.into_checked()?;
    if action == Action::Receive && !missing.is_empty() {
        return Err(Rejection::new(
            Code::DossierMissingItems,
            format!(
                "Required checklist items are missing: {}.",
                missing.join(", ")
            ),
        )
        .with_extra("missing_items", json!(missing)));
    }
    let refused: Vec<String> = req
        .refused_reasons
        .iter()
        .flatten()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if action == Action::Refuse && refused.is_empty() {
        return Err(Rejection::field(
            "refused_reasons",
            "must give at least one reason",
        ));
    }
    let tz = cal.settings().timezone();
    let local_date = at.with_timezone(&tz).date_naive();
    let mut clock = DueClock::default();
    let state = match action {
        Action::Receive => {
            clock.start(cal, at, def.duration_for(req.channel.is_online()));
            State::Received
        }
        Action::Refuse => State::Refused,
        _ => State::Submitted,
    };
    let applicant = &req.applicant;
    let mut record = DossierRecord {
        id: String::new(),
        code: String::new(),
        procedure_id: procedure.version_id.to_owned(),
        procedure_code: def.code.clone(),
        field: def.field.clone(),
        unit_code: def.unit_code.clone(),
        state,
        outcome: None,
        channel: req.channel,
        rule_regime: rule_regime(local_date).to_owned(),
        applicant: serde_json::to_string(applicant)
            .map_err(|e| Rejection::new(Code::Internal, e.to_string()))?,
        applicant_name: applicant.name.trim().to_owned(),
        applicant_id_number: applicant.id_number.clone(),
        // What the list's `q` searches, folded in Rust so that both backends match the same
        // way (case-insensitively, Vietnamese letters included); the code goes in front.
        search_text: format!(
            "{} {}",
            applicant.name.trim(),
            applicant.id_number.as_deref().unwrap_or("")
        ),
        components,
        note: req.note.clone(),
        lookup_key_hash: String::new(),
        submitted_at: (action == Action::Submit).then_some(at),
        received_at: (state == State::Received).then_some(at),
        clock,
        current_step: None,
        current_unit: None,
        step_started_at: None,
        supplement_count: 0,
        completion_asked: false,
        state_before_withdrawal: None,
        supplement_wait_seconds: 0,
        apology: None,
        late_apology: false,
        resolved_at: None,
        finished_at: (action == Action::Refuse).then_some(at),
        timeliness: None,
        timeliness_current: None,
        working_seconds: None,
        digitised: false,
        reused: false,
        result_reference: None,
        electronic_result: false,
        paid_online: None,
        delivered_at: None,
        delivery_method: None,
        satisfaction: None,
        received_day: None,
        finished_day: None,
        due_day: None,
        due_current_day: None,
        held_day: None,
        held_current_day: None,
        version: 1,
        last_event_at: at,
        created_at: now,
        updated_at: now,
    };
    record.stamp_days(tz);
    Ok(NewDossier {
        action,
        at,
        local_date,
        refused,
        record,
    })
}

/// The components handed in, recorded against the checklist (errors per input), and the
/// required items none of them is.
pub fn record_components(
    def: &ProcedureDefinition,
    inputs: &[ComponentInput],
    errors: &mut FieldErrors,
) -> (Vec<Component>, Vec<String>) {
    let mut out: Vec<Component> = Vec::new();
    for (i, c) in inputs.iter().enumerate() {
        match def.item(&c.item_code) {
            None => errors.add(
                &format!("components[{i}].item_code"),
                format!("{:?} is not in the procedure's checklist", c.item_code),
            ),
            Some(_) if out.iter().any(|x| x.item_code == c.item_code) => {
                errors.add(&format!("components[{i}].item_code"), "is listed twice")
            }
            Some(item) => out.push(Component {
                item_code: item.code.clone(),
                name: item.name.clone(),
                required: item.required,
                must_digitise: item.must_digitise,
                kind: c.kind,
                count: c.count,
                pages: c.pages,
            }),
        }
    }
    let missing = def
        .checklist
        .iter()
        .filter(|item| item.required && !out.iter().any(|c| c.item_code == item.code))
        .map(|item| item.code.clone())
        .collect();
    (out, missing)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::dossier::fixtures::{at, cal, procedure, request};

    fn receive_as(
        role: Role,
        req: &CreateDossierRequest,
        def: &ProcedureDefinition,
    ) -> Checked<NewDossier> {
        let version = ProcedureVersion {
            version_id: "v1",
            definition: def,
        };
        receive(req, role, Some(version), &cal(), at(1, 10, 0))
    }

    #[test]
    fn a_counter_receipt_starts_the_clock() {
        let def = procedure("pause");
        let new = receive_as(Role::Clerk, &request(&["A", "B"]), &def).unwrap();
        assert_eq!(new.action, Action::Receive);
        let d = new.assign("id".into(), "X-261201-0001".into(), "ABC234");
        assert_eq!(d.state, State::Received);
        assert_eq!(d.received_at, Some(at(1, 10, 0)));
        assert_eq!(d.clock.due_at, Some(at(8, 10, 0)));
        assert_eq!(d.clock.due_at_current, d.clock.due_at);
        assert_eq!(d.components.len(), 2);
        assert!(d.components[0].must_digitise);
        assert_eq!(d.search_text, "x-261201-0001 nguyễn văn an 001");
        assert!(code::lookup_key_matches(
            &d.code,
            &d.lookup_key_hash,
            " abc234 "
        ));
        assert_eq!(d.rule_regime, "nd118_2025");
        assert!(d.received_day.is_some() && d.due_day.is_some() && d.finished_day.is_none());
    }

    #[test]
    fn a_receipt_without_a_required_item_lists_what_is_missing() {
        let def = procedure("pause");
        let r = receive_as(Role::Clerk, &request(&["B"]), &def).unwrap_err();
        assert_eq!(r.code, Code::DossierMissingItems);
        assert_eq!(r.extra, vec![("missing_items", json!(["A"]))]);
        // Online filing may be incomplete: completion is asked later.
        let mut online = request(&["B"]);
        online.channel = Channel::Online;
        let new = receive_as(Role::Portal, &online, &def).unwrap();
        assert_eq!(
            (new.action, new.record.state),
            (Action::Submit, State::Submitted)
        );
        assert_eq!(new.record.clock, DueClock::default());
        assert_eq!(new.record.submitted_at, Some(at(1, 10, 0)));
    }

    #[test]
    fn field_errors_come_together() {
        let def = procedure("pause");
        let mut req = request(&["A", "Z", "A"]);
        req.applicant.kind = "robot".into();
        req.applicant.email = Some("not an address".into());
        let r = receive_as(Role::Clerk, &req, &def).unwrap_err();
        assert_eq!(r.code, Code::ValidationFailed);
        let fields: Vec<&str> = r.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "applicant.email",
                "applicant.kind",
                "components[1].item_code",
                "components[2].item_code"
            ]
        );
        // An unknown procedure is one more field error.
        let r = receive(&req, Role::Clerk, None, &cal(), at(1, 10, 0)).unwrap_err();
        assert!(r.fields.contains_key("procedure_code"));
    }

    #[test]
    fn roles_and_back_entry() {
        let def = procedure("pause");
        let req = request(&["A"]);
        for role in [Role::Officer, Role::Leader, Role::Viewer] {
            assert_eq!(
                receive_as(role, &req, &def).unwrap_err().code,
                Code::AuthForbidden
            );
        }
        let mut online = request(&["A"]);
        online.refused_reasons = Some(vec!["x".into()]);
        online.channel = Channel::Online;
        let r = receive_as(Role::Portal, &online, &def).unwrap_err();
        assert_eq!(r.detail, "Only the counter refuses dossiers.");
        assert_eq!(
            receive_as(Role::Portal, &request(&["A"]), &def)
                .unwrap_err()
                .fields
                .len(),
            1
        );

        let mut back = request(&["A"]);
        back.received_at = Some(at(1, 8, 0).fixed_offset());
        assert_eq!(
            admit(&back, Role::Clerk).unwrap_err().code,
            Code::AuthForbidden
        );
        assert_eq!(admit(&back, Role::Admin).unwrap(), Action::Receive);
        let d = receive_as(Role::Admin, &back, &def).unwrap().record;
        assert_eq!(d.received_at, Some(at(1, 8, 0)));
        assert_eq!(d.last_event_at, at(1, 8, 0));
        assert_eq!(d.created_at, at(1, 10, 0));
        back.received_at = Some(at(2, 8, 0).fixed_offset());
        let r = receive_as(Role::Admin, &back, &def).unwrap_err();
        assert!(r.fields.contains_key("received_at"));
    }

    #[test]
    fn a_counter_refusal_needs_reasons_and_ends_at_once() {
        let def = procedure("pause");
        let mut req = request(&[]);
        req.refused_reasons = Some(vec!["  ".into()]);
        let r = receive_as(Role::Clerk, &req, &def).unwrap_err();
        assert!(r.fields.contains_key("refused_reasons"));
        req.refused_reasons = Some(vec![" Thiếu đơn ".into()]);
        let new = receive_as(Role::Clerk, &req, &def).unwrap();
        assert_eq!(new.action, Action::Refuse);
        assert_eq!(new.refused, ["Thiếu đơn"]);
        assert_eq!(
            new.details(),
            json!({"components": 0, "reasons": ["Thiếu đơn"]})
        );
        let d = new.record;
        assert_eq!(
            (d.state, d.finished_at, d.received_at),
            (State::Refused, Some(at(1, 10, 0)), None)
        );
        assert_eq!(d.clock.due_at, None);
    }
}
