//! Dossier use cases: receipt and online filing, every lifecycle action, the dossier view,
//! its history (the processing-control slip) and the queues. Each action is one transaction
//! writing the dossier, its history row and whatever else the action causes.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::dossiers::{self as store, DossierFilter, DossierRow, EventRow, IdempotencyRow};
use crate::db::{self, DbConnection, from_db_time, procedures as procedure_store, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::code;
use crate::domain::deadline::{self, Duration};
use crate::domain::dossier::lifecycle::allowed_actions;
use crate::domain::procedure::{ProcedureDefinition, SupplementPolicy};
use crate::domain::role::Role;
use crate::domain::state::{Action, State};
use crate::domain::timeliness::{self, Timeliness};
use crate::error::{AppError, AppResult, Code, FieldErrors};

use super::AppState;
use super::procedures::Procedure;
use super::users::{Principal, valid_email};
use super::{Page, PageRequest};
use crate::domain::notice::Event;
use crate::notify::{self, Notice};

/// What every dossier use case needs besides the connection.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub cal: &'a Calendar,
    pub principal: &'a Principal,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn tz(&self) -> Tz {
        self.cal.settings().timezone()
    }

    fn fmt(&self, t: Option<chrono::NaiveDateTime>) -> Option<String> {
        t.map(|t| {
            from_db_time(t)
                .with_timezone(&self.tz())
                .format("%H:%M %d/%m/%Y")
                .to_string()
        })
    }

    /// Writes an applicant email into the outbox (inside the action's transaction), if the
    /// applicant gave an address. One per dossier version: a retried action writes nothing new.
    fn notify_applicant(
        &self,
        conn: &mut DbConnection,
        row: &DossierRow,
        def: &ProcedureDefinition,
        event: Event,
        extra: Value,
    ) -> AppResult<()> {
        let applicant: Applicant =
            serde_json::from_str(&row.applicant).map_err(AppError::internal)?;
        let Some(email) = applicant.email.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(());
        };
        let mut context = self.context(row, def);
        merge(&mut context, extra);
        notify::enqueue(
            conn,
            &self.state.templates,
            Notice {
                event,
                key: format!("{}:{}:{}", event.as_str(), row.id, row.version),
                recipient: email,
                language: applicant.language.as_deref().unwrap_or("vi"),
                dossier: Some((&row.id, &row.code)),
                context,
            },
            self.now,
        )?;
        Ok(())
    }

    /// Tells the unit that now holds the dossier which step it has to do, and by when.
    fn notify_unit(
        &self,
        conn: &mut DbConnection,
        row: &DossierRow,
        def: &ProcedureDefinition,
        step: &(String, String, DateTime<Utc>),
    ) -> AppResult<()> {
        let Some(unit) = crate::db::units::find_unit(conn, &step.1)? else {
            return Ok(());
        };
        let Some(email) = unit.email.as_deref() else {
            return Ok(());
        };
        let mut context = self.context(row, def);
        let step_name = def
            .steps
            .iter()
            .find(|s| s.code == step.0)
            .map(|s| s.name.clone());
        merge(
            &mut context,
            json!({"unit_name": unit.name, "step_name": step_name, "step_due_at": self.fmt(Some(to_db_time(step.2)))}),
        );
        notify::enqueue(
            conn,
            &self.state.templates,
            Notice {
                event: Event::StepAssigned,
                key: format!("step_assigned:{}:{}", row.id, row.version),
                recipient: email,
                language: "vi",
                dossier: Some((&row.id, &row.code)),
                context,
            },
            self.now,
        )?;
        Ok(())
    }

    fn context(&self, row: &DossierRow, def: &ProcedureDefinition) -> Value {
        json!({
            "agency_name": self.state.settings.agency.name,
            "code": row.code,
            "procedure_name": def.name,
            "applicant_name": row.applicant_name,
            "received_at": self.fmt(row.received_at),
            "due_at": self.fmt(row.due_at_current.or(row.due_at)),
            "lookup_url": format!("{}/tra-cuu", self.state.settings.public.base_url.trim_end_matches('/')),
        })
    }
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        a.extend(b);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Direct,
    Online,
    Postal,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    /// `citizen` or `organisation`.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Language of the applicant's emails: `vi` (default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    Original,
    Copy,
    CertifiedCopy,
    Electronic,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    pub item_code: String,
    pub kind: ComponentKind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub pages: Option<u32>,
}

fn one() -> u32 {
    1
}

/// A component as recorded at receipt, against the procedure version's checklist.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Component {
    pub item_code: String,
    pub name: String,
    pub required: bool,
    pub must_digitise: bool,
    pub kind: ComponentKind,
    pub count: u32,
    pub pages: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDossierRequest {
    pub procedure_code: String,
    pub channel: Channel,
    pub applicant: Applicant,
    #[serde(default)]
    pub components: Vec<ComponentInput>,
    #[serde(default)]
    pub note: String,
    /// Admins only: the receipt time of a paper-era dossier (back-entry).
    #[serde(default)]
    pub received_at: Option<DateTime<FixedOffset>>,
    /// Counter refusal (clerks): the reasons the dossier is refused on the spot (form 03).
    /// The dossier is recorded, with its code, as `refused`.
    #[serde(default)]
    pub refused_reasons: Option<Vec<String>>,
}

/// Reasons as one text or a list of texts.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Reasons {
    One(String),
    Many(Vec<String>),
}

impl Reasons {
    fn list(&self) -> Vec<String> {
        let all = match self {
            Reasons::One(s) => vec![s.clone()],
            Reasons::Many(v) => v.clone(),
        };
        all.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The body of `POST /dossiers/{code}/actions/{action}`: the common fields and each action's own.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ActionRequest {
    pub note: Option<String>,
    pub reasons: Option<Reasons>,
    /// `forward`: the step code to go to (default: the next step).
    pub to_step: Option<String>,
    /// `request_supplement`: checklist item codes to supplement.
    pub items: Option<Vec<String>>,
    pub applicant_deadline: Option<DateTime<FixedOffset>>,
    pub amount_vnd: Option<i64>,
    pub online: Option<bool>,
    pub reference: Option<String>,
    pub result_reference: Option<String>,
    pub electronic_result: Option<bool>,
    /// `apologize`: the new appointment.
    pub new_due_at: Option<DateTime<FixedOffset>>,
    /// `deliver`: `counter`, `post` or `electronic`.
    pub method: Option<String>,
    /// `deliver`: 1 (very unsatisfied) to 5 (very satisfied).
    pub satisfaction: Option<i32>,
    /// Admins only: when the action happened (back-entry); never before the last event nor in the future.
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// `supplement_received`: the components handed in, added to the checklist snapshot or
    /// replacing the entry of the same item.
    pub components: Option<Vec<ComponentInput>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProcedureRef {
    pub code: String,
    pub name: String,
    pub version: i32,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CurrentStep {
    pub index: i32,
    pub code: String,
    pub name: String,
    pub unit_code: String,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub due_at: Option<DateTime<FixedOffset>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Apology {
    pub reason: String,
    pub new_due_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub by: String,
    /// Later than one working day before the due time.
    pub late: bool,
}

/// A dossier as staff see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Dossier {
    pub code: String,
    pub state: State,
    pub status_code: i32,
    pub status_label: &'static str,
    pub outcome: Option<String>,
    pub procedure: ProcedureRef,
    #[schema(value_type = Object)]
    pub applicant: Value,
    pub channel: String,
    pub rule_regime: String,
    pub components: Vec<Component>,
    pub current_step: Option<CurrentStep>,
    pub current_unit: Option<String>,
    pub submitted_at: Option<DateTime<FixedOffset>>,
    pub received_at: Option<DateTime<FixedOffset>>,
    pub due_at: Option<DateTime<FixedOffset>>,
    pub due_at_current: Option<DateTime<FixedOffset>>,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub overdue: bool,
    pub due_soon: bool,
    pub timeliness: Option<String>,
    pub supplement_count: i32,
    /// Every component that must be digitised has a file.
    pub digitised: bool,
    pub apology: Option<Apology>,
    pub result_reference: Option<String>,
    pub delivery_method: Option<String>,
    pub satisfaction: Option<i32>,
    pub note: String,
    pub version: i32,
    /// What the caller may do now.
    pub allowed_actions: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreatedDossier {
    #[serde(flatten)]
    pub dossier: Dossier,
    /// Shown only here (and in the receipt email): the applicant's key for the public lookup.
    pub lookup_key: String,
}

/// One row of the processing-control slip (form 05).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HistoryRow {
    pub seq: i32,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub role: String,
    pub unit: Option<String>,
    pub at: DateTime<FixedOffset>,
    pub recorded_at: DateTime<FixedOffset>,
    pub note: String,
    /// The step this row hands the dossier to, and that step's due time.
    pub step: Option<String>,
    pub step_unit: Option<String>,
    pub step_due_at: Option<DateTime<FixedOffset>>,
    /// The step this row closes, its due time, and how it ended (`early`, `on_time`, `late`).
    pub closed_step: Option<String>,
    pub closed_step_due_at: Option<DateTime<FixedOffset>>,
    pub step_timeliness: Option<String>,
    /// The dossier's due time after this row.
    pub due_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Object)]
    pub details: Value,
}

/// A stored time in the agency's zone, to the second (what people read and forms print).
fn local(tz: Tz, t: Option<chrono::NaiveDateTime>) -> Option<DateTime<FixedOffset>> {
    use chrono::{DurationRound, TimeDelta};
    t.map(|t| {
        let t = from_db_time(t).with_timezone(&tz).fixed_offset();
        t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
    })
}

fn parse_state(s: &str) -> AppResult<State> {
    s.parse()
        .map_err(|e| AppError::internal(format!("stored state: {e}")))
}

fn load_procedure(conn: &mut DbConnection, id: &str) -> AppResult<Procedure> {
    let row = procedure_store::find_by_id(conn, id)?
        .ok_or_else(|| AppError::internal(format!("procedure version {id} missing")))?;
    Procedure::from_row(row)
}

/// Officers and leaders see dossiers now in their unit or that passed through it.
fn can_see(conn: &mut DbConnection, p: &Principal, row: &DossierRow) -> AppResult<bool> {
    if !p.role.needs_unit() {
        return Ok(true);
    }
    let Some(unit) = &p.unit_code else {
        return Ok(false);
    };
    Ok(holding_unit(row) == Some(unit) || store::passed_through(conn, &row.id, unit)?)
}

/// The unit that holds the dossier: its current step's, or, before the first transfer, the
/// procedure's handling unit (whose leader may transfer it or decide on a withdrawal).
fn holding_unit(row: &DossierRow) -> Option<&str> {
    row.current_unit.as_deref().or(Some(row.unit_code.as_str()))
}

fn view(
    cal: &Calendar,
    row: &DossierRow,
    procedure: &Procedure,
    viewer: Role,
    now: DateTime<Utc>,
) -> AppResult<Dossier> {
    let tz = cal.settings().timezone();
    let state = parse_state(&row.state)?;
    let def = &procedure.definition;
    let due = row.due_at.map(from_db_time);
    let running = state.clock_running();
    Ok(Dossier {
        code: row.code.clone(),
        state,
        status_code: state.status_code(),
        status_label: state.label_vi(),
        outcome: row.outcome.clone(),
        procedure: ProcedureRef {
            code: def.code.clone(),
            name: def.name.clone(),
            version: procedure.version,
        },
        applicant: serde_json::from_str(&row.applicant).unwrap_or(Value::Null),
        channel: row.channel.clone(),
        rule_regime: row.rule_regime.clone(),
        components: serde_json::from_str(&row.components).unwrap_or_default(),
        current_step: row.current_step.and_then(|i| {
            let step = def.steps.get(usize::try_from(i).ok()?)?;
            Some(CurrentStep {
                index: i,
                code: step.code.clone(),
                name: step.name.clone(),
                unit_code: step.unit_code.clone(),
                started_at: local(tz, row.step_started_at),
                due_at: local(tz, row.step_due_at),
            })
        }),
        current_unit: row.current_unit.clone(),
        submitted_at: local(tz, row.submitted_at),
        received_at: local(tz, row.received_at),
        due_at: local(tz, row.due_at),
        due_at_current: local(tz, row.due_at_current),
        resolved_at: local(tz, row.resolved_at),
        delivered_at: local(tz, row.delivered_at),
        finished_at: local(tz, row.finished_at),
        overdue: running && due.is_some_and(|d| timeliness::is_overdue(now, d)),
        due_soon: running && due.is_some_and(|d| timeliness::is_due_soon(cal, now, d)),
        timeliness: row.timeliness.clone(),
        supplement_count: row.supplement_count,
        digitised: row.digitised,
        apology: row
            .apology
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
        result_reference: row.result_reference.clone(),
        delivery_method: row.delivery_method.clone(),
        satisfaction: row.satisfaction,
        note: row.note.clone(),
        version: row.version,
        allowed_actions: allowed_actions(state, viewer),
    })
}

/// Regime by receipt date: Nghị định 118/2025 replaced 61/2018 from 01/07/2025.
fn rule_regime(local_date: chrono::NaiveDate) -> &'static str {
    match chrono::NaiveDate::from_ymd_opt(2025, 7, 1) {
        Some(switch) if local_date < switch => "nd61_2018",
        _ => "nd118_2025",
    }
}

/// What the list's `q` searches, folded in Rust so that both backends match the same way
/// (case-insensitively, Vietnamese letters included).
fn search_text(code: &str, applicant: &Applicant) -> String {
    format!(
        "{code} {} {}",
        applicant.name.trim(),
        applicant.id_number.as_deref().unwrap_or("")
    )
    .to_lowercase()
}

pub fn hash_lookup_key(dossier_code: &str, key: &str) -> String {
    let digest =
        Sha256::digest(format!("{dossier_code}:{}", code::normalise_lookup_key(key)).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the lookup key in constant time (the public lookup).
pub fn lookup_key_matches(row: &DossierRow, key: &str) -> bool {
    let expected = hash_lookup_key(&row.code, key);
    let a = expected.as_bytes();
    let b = row.lookup_key_hash.as_bytes();
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The due time, warning when it reaches a year without calendar data.
fn due_from(cal: &Calendar, start: DateTime<Utc>, d: Duration) -> deadline::Due {
    let due = deadline::due(cal, start, d);
    let tz = cal.settings().timezone();
    let year = chrono::Datelike::year(&due.due_at.with_timezone(&tz));
    if !cal.has_year(year) {
        tracing::warn!(
            calendar.year = year,
            "due time falls in a year without calendar data"
        );
    }
    due
}

fn check_components(
    def: &ProcedureDefinition,
    inputs: &[ComponentInput],
    errors: &mut FieldErrors,
) -> (Vec<Component>, Vec<String>) {
    let mut out = Vec::new();
    for (i, c) in inputs.iter().enumerate() {
        match def.item(&c.item_code) {
            None => errors.add(
                &format!("components[{i}].item_code"),
                format!("{:?} is not in the procedure's checklist", c.item_code),
            ),
            Some(_) if out.iter().any(|x: &Component| x.item_code == c.item_code) => {
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

fn request_hash(req: &CreateDossierRequest) -> String {
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `POST /dossiers`: a clerk's counter receipt (→ received) or a portal's online filing
/// (→ submitted). Allocates the code, the lookup key and, on receipt, the due time.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    req: &CreateDossierRequest,
    idempotency_key: Option<&str>,
    random: [u8; code::LOOKUP_KEY_LEN],
) -> AppResult<(u16, Value)> {
    let p = ctx.principal;
    let action = match p.role {
        Role::Portal if req.refused_reasons.is_some() => {
            return Err(AppError::forbidden("Only the counter refuses dossiers."));
        }
        Role::Portal => Action::Submit,
        Role::Clerk | Role::Admin if req.refused_reasons.is_some() => Action::Refuse,
        Role::Clerk | Role::Admin => Action::Receive,
        _ => {
            return Err(AppError::forbidden(
                "Only clerks, portals and admins create dossiers.",
            ));
        }
    };
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
        Some(_) if p.role != Role::Admin => {
            return Err(AppError::forbidden(
                "Only admins may set received_at (back-entry).",
            ));
        }
        Some(t) if t.to_utc() > ctx.now => {
            errors.add("received_at", "must not be in the future");
            ctx.now
        }
        Some(t) => db::from_db_time(to_db_time(t.to_utc())),
        None => ctx.now,
    };
    let hash = request_hash(req);
    let result = db::write_tx(conn, |conn| {
        if let Some(key) = idempotency_key
            && let Some(prior) = store::find_idempotency(conn, &p.user_id, key)?
        {
            if prior.request_hash != hash {
                return Err(AppError::new(
                    Code::IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request.",
                ));
            }
            let body = serde_json::from_str(&prior.response).map_err(AppError::internal)?;
            return Ok((u16::try_from(prior.status).unwrap_or(201), body));
        }
        let procedure = match procedure_store::find_current(conn, &req.procedure_code)? {
            Some(row) => Some(Procedure::from_row(row)?),
            None => {
                errors.add(
                    "procedure_code",
                    format!("unknown procedure {:?}", req.procedure_code),
                );
                None
            }
        };
        let (components, missing) = match &procedure {
            Some(pr) => check_components(&pr.definition, &req.components, &mut errors),
            None => (Vec::new(), Vec::new()),
        };
        std::mem::take(&mut errors).into_result()?;
        let Some(procedure) = procedure else {
            return Err(AppError::internal("procedure checked above"));
        };
        if action == Action::Receive && !missing.is_empty() {
            return Err(AppError::new(
                Code::DossierMissingItems,
                format!(
                    "Required checklist items are missing: {}.",
                    missing.join(", ")
                ),
            )
            .with_extra("missing_items", json!(missing)));
        }
        let def = &procedure.definition;
        let tz = ctx.tz();
        let local_date = at.with_timezone(&tz).date_naive();
        let seq = store::next_sequence(conn, &ctx.state.settings.agency.code, local_date)?;
        let code = code::dossier_code(&ctx.state.settings.agency.code, local_date, seq);
        let lookup_key = code::lookup_key(random);
        let (state, received_at, due) = match action {
            Action::Receive => {
                let due = due_from(
                    ctx.cal,
                    at,
                    def.duration_for(req.channel == Channel::Online),
                );
                (State::Received, Some(at), Some(due))
            }
            Action::Refuse => (State::Refused, None, None),
            _ => (State::Submitted, None, None),
        };
        let refused: Vec<String> = req
            .refused_reasons
            .iter()
            .flatten()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
        if action == Action::Refuse && refused.is_empty() {
            return Err(AppError::invalid_field(
                "refused_reasons",
                "must give at least one reason",
            ));
        }
        let applicant = serde_json::to_string(&req.applicant).map_err(AppError::internal)?;
        let row = DossierRow {
            id: uuid::Uuid::new_v4().to_string(),
            code: code.clone(),
            procedure_id: procedure.version_id.clone(),
            procedure_code: def.code.clone(),
            field: def.field.clone(),
            unit_code: def.unit_code.clone(),
            state: state.as_str().to_owned(),
            outcome: None,
            channel: req.channel.as_str().to_owned(),
            rule_regime: rule_regime(local_date).to_owned(),
            applicant,
            applicant_name: req.applicant.name.trim().to_owned(),
            applicant_id_number: req.applicant.id_number.clone(),
            search_text: search_text(&code, &req.applicant),
            components: serde_json::to_string(&components).map_err(AppError::internal)?,
            note: req.note.clone(),
            lookup_key_hash: hash_lookup_key(&code, &lookup_key),
            submitted_at: (action == Action::Submit).then(|| to_db_time(at)),
            received_at: received_at.map(to_db_time),
            clock_started_at: due.map(|d| to_db_time(d.effective_start)),
            paused_seconds: 0,
            paused_at: None,
            due_at: due.map(|d| to_db_time(d.due_at)),
            due_at_current: due.map(|d| to_db_time(d.due_at)),
            current_step: None,
            current_unit: None,
            step_started_at: None,
            step_due_at: None,
            supplement_count: 0,
            completion_asked: false,
            state_before_withdrawal: None,
            supplement_wait_seconds: 0,
            apology: None,
            late_apology: false,
            resolved_at: None,
            finished_at: (action == Action::Refuse).then(|| to_db_time(at)),
            timeliness: None,
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
            version: 1,
            last_event_at: to_db_time(at),
            created_at: to_db_time(ctx.now),
            updated_at: to_db_time(ctx.now),
        };
        let mut row = row;
        stamp_days(&mut row, tz);
        store::insert(conn, &row)?;
        store::insert_event(
            conn,
            &EventRow {
                action: action.as_str().to_owned(),
                details: if action == Action::Refuse {
                    json!({"components": components.len(), "reasons": refused})
                } else {
                    json!({"components": components.len()})
                }
                .to_string(),
                ..history_row(&row, None, state, p, at, ctx.now, &req.note)
            },
        )?;
        if state == State::Received {
            ctx.notify_applicant(
                conn,
                &row,
                def,
                Event::Received,
                json!({"lookup_key": lookup_key}),
            )?;
        }
        if state == State::Refused {
            ctx.notify_applicant(conn, &row, def, Event::Refused, json!({"reasons": refused}))?;
        }
        let created = CreatedDossier {
            dossier: view(ctx.cal, &row, &procedure, p.role, ctx.now)?,
            lookup_key,
        };
        let body = serde_json::to_value(&created).map_err(AppError::internal)?;
        if let Some(key) = idempotency_key {
            store::insert_idempotency(
                conn,
                &IdempotencyRow {
                    user_id: p.user_id.clone(),
                    key: key.to_owned(),
                    request_hash: hash.clone(),
                    status: 201,
                    response: body.to_string(),
                    created_at: to_db_time(ctx.now),
                },
            )
            .map_err(|e| {
                if db::is_unique_violation(&e) {
                    AppError::new(
                        Code::IdempotencyRace,
                        "A retry with the same key won the race.",
                    )
                } else {
                    e.into()
                }
            })?;
        }
        tracing::info!(dossier.code = %code, action = action.as_str(), "dossier created");
        Ok((201, body))
    });
    match result {
        // Two retries with one key raced (PostgreSQL): answer with the winner's response.
        Err(e) if e.code() == Code::IdempotencyRace => {
            let key = idempotency_key.unwrap_or_default();
            let prior = store::find_idempotency(conn, &p.user_id, key)?
                .ok_or_else(|| AppError::internal("idempotency race without a winner"))?;
            Ok((
                u16::try_from(prior.status).unwrap_or(201),
                serde_json::from_str(&prior.response).map_err(AppError::internal)?,
            ))
        }
        other => other,
    }
}

/// Keeps the local-day columns the reports read in step with the times they come from.
fn stamp_days(row: &mut DossierRow, tz: Tz) {
    let day = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| crate::domain::stats::day_number(from_db_time(t).with_timezone(&tz).date_naive()))
    };
    row.received_day = day(row.received_at);
    row.finished_day = day(row.finished_at);
    row.due_day = day(row.due_at);
}

/// A history row for the dossier as it now is (seq = its version), without step data;
/// callers fill in the action, details and steps.
fn history_row(
    row: &DossierRow,
    from: Option<State>,
    to: State,
    actor: &Principal,
    occurred: DateTime<Utc>,
    recorded: DateTime<Utc>,
    note: &str,
) -> EventRow {
    EventRow {
        dossier_id: row.id.clone(),
        seq: row.version,
        action: String::new(),
        from_state: from.map(|s| s.as_str().to_owned()),
        to_state: to.as_str().to_owned(),
        actor: actor.username.clone(),
        role: actor.role.as_str().to_owned(),
        unit_code: actor.unit_code.clone(),
        occurred_at: to_db_time(occurred),
        recorded_at: to_db_time(recorded),
        note: note.to_owned(),
        details: "{}".to_owned(),
        step: None,
        step_unit: None,
        step_due_at: None,
        closed_step: None,
        closed_step_due_at: None,
        step_timeliness: None,
        due_at: row.due_at,
    }
}

/// What an action changes besides the state: filled in by `apply`.
struct Effects {
    details: Value,
    step: Option<(String, String, DateTime<Utc>)>,
    closed: Option<(String, Option<DateTime<Utc>>, Timeliness)>,
}

fn required_reasons(req: &ActionRequest) -> AppResult<Vec<String>> {
    let reasons = req.reasons.as_ref().map(Reasons::list).unwrap_or_default();
    if reasons.is_empty() {
        return Err(AppError::invalid_field(
            "reasons",
            "are required for this action",
        ));
    }
    Ok(reasons)
}

fn required<T: Clone>(v: &Option<T>, field: &str) -> AppResult<T> {
    v.clone()
        .ok_or_else(|| AppError::invalid_field(field, "is required for this action"))
}

fn shift(
    t: Option<chrono::NaiveDateTime>,
    cal: &Calendar,
    by: TimeDelta,
) -> Option<chrono::NaiveDateTime> {
    t.map(|t| to_db_time(deadline::add_working_time(cal, from_db_time(t), by)))
}

/// Opens step `index`: its unit, start and due time.
fn open_step(
    row: &mut DossierRow,
    def: &ProcedureDefinition,
    index: usize,
    cal: &Calendar,
    t: DateTime<Utc>,
) -> AppResult<(String, String, DateTime<Utc>)> {
    let step = def
        .steps
        .get(index)
        .ok_or_else(|| AppError::internal("workflow step out of range"))?;
    let due = due_from(cal, t, step.allowance).due_at;
    row.current_step = Some(i32::try_from(index).map_err(AppError::internal)?);
    row.current_unit = Some(step.unit_code.clone());
    row.step_started_at = Some(to_db_time(t));
    row.step_due_at = Some(to_db_time(due));
    Ok((step.code.clone(), step.unit_code.clone(), due))
}

/// Closes the current step, judging its timeliness at `t`.
fn close_step(
    row: &DossierRow,
    def: &ProcedureDefinition,
    tz: Tz,
    t: DateTime<Utc>,
) -> Option<(String, Option<DateTime<Utc>>, Timeliness)> {
    let step = def.steps.get(usize::try_from(row.current_step?).ok()?)?;
    let due = row.step_due_at.map(from_db_time);
    let judged = due.map_or(Timeliness::OnTime, |d| timeliness::timeliness(tz, t, d));
    Some((step.code.clone(), due, judged))
}

/// Resumes a stopped clock at `t`: every due time moves later by the working time waited.
fn resume_clock(row: &mut DossierRow, cal: &Calendar, t: DateTime<Utc>) -> TimeDelta {
    let Some(paused) = row.paused_at.take() else {
        return TimeDelta::zero();
    };
    let waited = deadline::working_time_between(cal, from_db_time(paused), t);
    row.paused_seconds += waited.num_seconds();
    row.due_at = shift(row.due_at, cal, waited);
    row.due_at_current = shift(row.due_at_current, cal, waited);
    row.step_due_at = shift(row.step_due_at, cal, waited);
    waited
}

/// The action's own checks and effects on the row (state excluded).
fn apply(
    action: Action,
    row: &mut DossierRow,
    def: &ProcedureDefinition,
    req: &ActionRequest,
    ctx: &Ctx,
    t: DateTime<Utc>,
) -> AppResult<Effects> {
    let cal = ctx.cal;
    let tz = ctx.tz();
    let mut fx = Effects {
        details: json!({}),
        step: None,
        closed: None,
    };
    match action {
        Action::AskCompletion => {
            if row.completion_asked {
                return Err(AppError::new(
                    Code::DossierCompletionAlreadyAsked,
                    "Completion was already asked once.",
                ));
            }
            row.completion_asked = true;
            fx.details = json!({"reasons": required_reasons(req)?});
        }
        Action::Accept => {
            let due = due_from(cal, t, def.duration_for(row.channel == "online"));
            // The regime follows the official receipt, which for online filing is the acceptance.
            row.rule_regime = rule_regime(t.with_timezone(&tz).date_naive()).to_owned();
            row.received_at = Some(to_db_time(t));
            row.clock_started_at = Some(to_db_time(due.effective_start));
            row.due_at = Some(to_db_time(due.due_at));
            row.due_at_current = row.due_at;
        }
        Action::Refuse => {
            fx.details = json!({"reasons": required_reasons(req)?});
            row.finished_at = Some(to_db_time(t));
        }
        Action::Transfer => {
            fx.step = Some(open_step(row, def, 0, cal, t)?);
        }
        Action::Forward => {
            let current = usize::try_from(row.current_step.unwrap_or(0)).unwrap_or(0);
            let next = match &req.to_step {
                Some(code) => def
                    .steps
                    .iter()
                    .position(|s| &s.code == code)
                    .ok_or_else(|| {
                        AppError::invalid_field(
                            "to_step",
                            format!("{code:?} is not a step of this procedure"),
                        )
                    })?,
                None => current + 1,
            };
            if next >= def.steps.len() {
                return Err(AppError::new(
                    Code::DossierLastStep,
                    "This is the last workflow step: approve or reject.",
                ));
            }
            fx.closed = close_step(row, def, tz, t);
            fx.step = Some(open_step(row, def, next, cal, t)?);
        }
        Action::RequestSupplement => {
            let reasons = required_reasons(req)?;
            let items = required(&req.items, "items")?;
            if items.is_empty() {
                return Err(AppError::invalid_field(
                    "items",
                    "must name at least one checklist item",
                ));
            }
            if let Some(bad) = items.iter().find(|i| def.item(i).is_none()) {
                return Err(AppError::invalid_field(
                    "items",
                    format!("{bad:?} is not in the procedure's checklist"),
                ));
            }
            if u32::try_from(row.supplement_count).unwrap_or(u32::MAX)
                >= def.max_supplement_requests
            {
                return Err(AppError::new(
                    Code::DossierSupplementLimit,
                    format!(
                        "This procedure allows {} supplement request(s).",
                        def.max_supplement_requests
                    ),
                ));
            }
            row.supplement_count += 1;
            row.paused_at = Some(to_db_time(t));
            fx.details = json!({"reasons": reasons, "items": items, "applicant_deadline": req.applicant_deadline,
                "policy": def.supplement_policy});
        }
        Action::SupplementReceived => {
            let paused = row.paused_at.map(from_db_time).unwrap_or(t);
            let waited = deadline::working_time_between(cal, paused, t);
            row.supplement_wait_seconds += waited.num_seconds();
            match def.supplement_policy {
                SupplementPolicy::Pause => {
                    resume_clock(row, cal, t);
                }
                SupplementPolicy::Restart => {
                    row.paused_at = None;
                    let due = due_from(cal, t, def.duration_for(row.channel == "online"));
                    row.clock_started_at = Some(to_db_time(due.effective_start));
                    row.paused_seconds = 0;
                    row.due_at = Some(to_db_time(due.due_at));
                    row.due_at_current = row.due_at;
                    if let Some(i) = row.current_step.and_then(|i| usize::try_from(i).ok()) {
                        open_step(row, def, i, cal, t)?;
                    }
                }
            }
            let mut details = json!({"waited_working_minutes": waited.num_minutes(), "policy": def.supplement_policy});
            if let Some(inputs) = &req.components {
                let mut errors = FieldErrors::default();
                let (handed_in, _) = check_components(def, inputs, &mut errors);
                errors.into_result()?;
                let mut snapshot: Vec<Component> =
                    serde_json::from_str(&row.components).map_err(AppError::internal)?;
                for c in &handed_in {
                    match snapshot.iter_mut().find(|s| s.item_code == c.item_code) {
                        Some(existing) => *existing = c.clone(),
                        None => snapshot.push(c.clone()),
                    }
                }
                row.components = serde_json::to_string(&snapshot).map_err(AppError::internal)?;
                details["components"] =
                    serde_json::to_value(&handed_in).map_err(AppError::internal)?;
            }
            fx.details = details;
        }
        Action::RequestPayment => {
            let amount = required(&req.amount_vnd, "amount_vnd")?;
            if amount <= 0 {
                return Err(AppError::invalid_field("amount_vnd", "must be positive"));
            }
            fx.details = json!({"amount_vnd": amount});
        }
        Action::PaymentReceived => {
            row.paid_online = Some(req.online.unwrap_or(false));
            fx.details = json!({"reference": req.reference, "online": row.paid_online});
        }
        Action::RequestWithdrawal => {
            row.state_before_withdrawal = Some(row.state.clone());
            if row.paused_at.is_none() {
                row.paused_at = Some(to_db_time(t));
            }
        }
        Action::DeclineWithdrawal => {
            fx.details = json!({"reasons": required_reasons(req)?});
            if row.state_before_withdrawal.as_deref() != Some(State::SupplementRequested.as_str()) {
                resume_clock(row, cal, t);
            }
        }
        Action::Stop => {
            fx.details = json!({"reasons": required_reasons(req)?});
            row.paused_at = None;
            row.finished_at = Some(to_db_time(t));
            // Reports may count a withdrawal as resolved; judge it like a decision.
            row.timeliness = row.due_at.map(|d| {
                timeliness::timeliness(tz, t, from_db_time(d))
                    .as_str()
                    .to_owned()
            });
        }
        Action::Approve | Action::Reject => {
            if action == Action::Reject {
                fx.details = json!({"reasons": required_reasons(req)?});
                row.outcome = Some("rejected".into());
            } else {
                row.outcome = Some("approved".into());
            }
            row.result_reference = req.result_reference.clone();
            row.electronic_result = req.electronic_result.unwrap_or(false);
            row.resolved_at = Some(to_db_time(t));
            row.finished_at = row.resolved_at;
            let judged = row.due_at.map_or(Timeliness::OnTime, |d| {
                timeliness::timeliness(tz, t, from_db_time(d))
            });
            row.timeliness = Some(judged.as_str().to_owned());
            fx.closed = close_step(row, def, tz, t);
            row.current_step = None;
            row.step_due_at = None;
        }
        Action::Apologize => {
            if row.apology.is_some() {
                return Err(AppError::new(
                    Code::DossierAlreadyApologized,
                    "An apology was already issued for this dossier.",
                ));
            }
            let reason = required_reasons(req)?.join("; ");
            let new_due = required(&req.new_due_at, "new_due_at")?.to_utc();
            // While the clock is stopped the due times have not moved yet: project them from
            // the working time that was left when it stopped.
            let project = |d: DateTime<Utc>| match row.paused_at.map(from_db_time) {
                Some(paused) => deadline::add_working_time(
                    cal,
                    t,
                    deadline::working_time_between(cal, paused, d),
                ),
                None => d,
            };
            let current = project(
                row.due_at_current
                    .or(row.due_at)
                    .map(from_db_time)
                    .unwrap_or(t),
            );
            if new_due <= current || new_due <= t {
                return Err(AppError::invalid_field(
                    "new_due_at",
                    "must be later than now and than the current appointment",
                ));
            }
            // Due one working day before the due time; later is accepted but flagged.
            let due = project(row.due_at.map(from_db_time).unwrap_or(t));
            let late = deadline::working_time_between(cal, t, due) < cal.settings().day_length();
            let apology = Apology {
                reason,
                new_due_at: new_due,
                at: t,
                by: ctx.principal.username.clone(),
                late,
            };
            row.apology = Some(serde_json::to_string(&apology).map_err(AppError::internal)?);
            row.late_apology = late;
            row.due_at_current = Some(to_db_time(new_due));
            fx.details = serde_json::to_value(&apology).map_err(AppError::internal)?;
        }
        Action::Deliver => {
            let method = required(&req.method, "method")?;
            if !matches!(method.as_str(), "counter" | "post" | "electronic") {
                return Err(AppError::invalid_field(
                    "method",
                    "must be counter, post or electronic",
                ));
            }
            if let Some(s) = req.satisfaction
                && !(1..=5).contains(&s)
            {
                return Err(AppError::invalid_field("satisfaction", "must be 1 to 5"));
            }
            row.delivery_method = Some(method);
            row.satisfaction = req.satisfaction;
            row.delivered_at = Some(to_db_time(t));
        }
        Action::Submit | Action::Receive | Action::CalendarRecomputed => {
            return Err(AppError::new(Code::DossierUnknownAction, "No such action."));
        }
    }
    Ok(fx)
}

/// Parses `If-Match` (`"3"`, `W/"3"` or `3`).
pub fn parse_if_match(raw: &str) -> Option<i32> {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// Performs one action on a dossier in one transaction: the guard checks, the new state, the
/// history row (seq = the new version) and anything the action causes.
pub fn act(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    action_name: &str,
    req: &ActionRequest,
    if_match: Option<i32>,
) -> AppResult<Dossier> {
    let p = ctx.principal;
    let action = Action::parse_postable(action_name).ok_or_else(|| {
        AppError::new(
            Code::DossierUnknownAction,
            format!("No action {action_name:?}."),
        )
    })?;
    if !action.roles().contains(&p.role) {
        return Err(AppError::forbidden(format!(
            "Role {} may not {}.",
            p.role,
            action.as_str()
        )));
    }
    if req.components.is_some() && action != Action::SupplementReceived {
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
        Some(at) => from_db_time(to_db_time(at.to_utc())),
        None => ctx.now,
    };
    db::write_tx(conn, |conn| {
        let mut row = store::find_by_code(conn, dossier_code)?
            .filter(|r| can_see(conn, p, r).unwrap_or(false))
            .ok_or_else(|| {
                AppError::new(Code::DossierNotFound, format!("No dossier {dossier_code}."))
            })?;
        if let Some(v) = if_match
            && v != row.version
        {
            return Err(AppError::new(
                Code::DossierStale,
                format!(
                    "The dossier changed (version {} now, If-Match {v}).",
                    row.version
                ),
            )
            .with_extra("version", row.version));
        }
        let from = parse_state(&row.state)?;
        if !action.allowed_from(from) {
            return Err(AppError::new(
                Code::DossierIllegalTransition,
                format!(
                    "Cannot {} a dossier that is {}.",
                    action.as_str(),
                    from.as_str()
                ),
            )
            .with_extra("state", from.as_str())
            .with_extra("allowed_actions", json!(allowed_actions(from, p.role))));
        }
        if p.role.needs_unit() && holding_unit(&row) != p.unit_code.as_deref() {
            return Err(AppError::forbidden("The dossier is not in your unit."));
        }
        if t < from_db_time(row.last_event_at) {
            return Err(AppError::invalid_field(
                "occurred_at",
                "must not be before the dossier's last event",
            ));
        }
        let procedure = load_procedure(conn, &row.procedure_id)?;
        let read_version = row.version;
        let fx = apply(action, &mut row, &procedure.definition, req, ctx, t)?;
        if matches!(action, Action::Approve | Action::Reject | Action::Stop)
            && let Some(start) = row.received_at
        {
            // Processing time in working time, supplement waits excluded (766 indicator 2.2).
            let worked = deadline::working_time_between(ctx.cal, from_db_time(start), t);
            row.working_seconds = Some((worked.num_seconds() - row.supplement_wait_seconds).max(0));
        }
        let previous = row
            .state_before_withdrawal
            .as_deref()
            .map(parse_state)
            .transpose()?;
        let to = action.target(from, previous);
        if action == Action::DeclineWithdrawal {
            row.state_before_withdrawal = None;
        }
        row.state = to.as_str().to_owned();
        row.version = read_version + 1;
        row.last_event_at = to_db_time(t);
        row.updated_at = to_db_time(ctx.now);
        stamp_days(&mut row, ctx.tz());
        if !store::update_if_version(conn, &row, read_version)? {
            return Err(AppError::new(
                Code::DossierConcurrentChange,
                "Another action changed the dossier at the same time; reload and retry.",
            ));
        }
        if let Some((_, unit, _)) = &fx.step {
            store::mark_unit(conn, &row.id, unit)?;
        }
        let note = req.note.clone().unwrap_or_default();
        store::insert_event(
            conn,
            &EventRow {
                action: action.as_str().to_owned(),
                details: fx.details.to_string(),
                step: fx.step.as_ref().map(|s| s.0.clone()),
                step_unit: fx.step.as_ref().map(|s| s.1.clone()),
                step_due_at: fx.step.as_ref().map(|s| to_db_time(s.2)),
                closed_step: fx.closed.as_ref().map(|c| c.0.clone()),
                closed_step_due_at: fx.closed.as_ref().and_then(|c| c.1.map(to_db_time)),
                step_timeliness: fx.closed.as_ref().map(|c| c.2.as_str().to_owned()),
                ..history_row(&row, Some(from), to, p, t, ctx.now, &note)
            },
        )?;
        let def = &procedure.definition;
        match action.notice() {
            None | Some(Event::StepAssigned) => {}
            // Online filing accepted: the lookup key was given at submission, form 01 shows it.
            Some(Event::Received) => ctx.notify_applicant(
                conn,
                &row,
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
                    "applicant_deadline": req.applicant_deadline.map(|t| ctx.fmt(Some(to_db_time(t.to_utc())))),
                    "new_due_at": ctx.fmt(row.due_at_current),
                    "outcome": row.outcome,
                    "result_reference": row.result_reference,
                    "delivery_method": row.delivery_method,
                });
                ctx.notify_applicant(conn, &row, def, event, extra)?;
            }
        }
        if let Some(step) = &fx.step {
            ctx.notify_unit(conn, &row, def, step)?;
        }
        if req.components.is_some() {
            super::files::refresh_status(conn, &row)?;
        }
        tracing::info!(dossier.code = %row.code, action = action.as_str(), dossier.state = to.as_str(), "dossier action");
        view(ctx.cal, &row, &procedure, p.role, ctx.now)
    })
}

/// The dossier if the caller may see it (404 otherwise, without telling why).
pub fn visible_dossier(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
) -> AppResult<DossierRow> {
    store::find_by_code(conn, dossier_code)?
        .filter(|r| can_see(conn, ctx.principal, r).unwrap_or(false))
        .ok_or_else(|| AppError::new(Code::DossierNotFound, format!("No dossier {dossier_code}.")))
}

pub fn get(conn: &mut DbConnection, ctx: &Ctx, dossier_code: &str) -> AppResult<Dossier> {
    let row = store::find_by_code(conn, dossier_code)?
        .filter(|r| can_see(conn, ctx.principal, r).unwrap_or(false))
        .ok_or_else(|| {
            AppError::new(Code::DossierNotFound, format!("No dossier {dossier_code}."))
        })?;
    let procedure = load_procedure(conn, &row.procedure_id)?;
    view(ctx.cal, &row, &procedure, ctx.principal.role, ctx.now)
}

pub fn history(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
) -> AppResult<Vec<HistoryRow>> {
    let row = store::find_by_code(conn, dossier_code)?
        .filter(|r| can_see(conn, ctx.principal, r).unwrap_or(false))
        .ok_or_else(|| {
            AppError::new(Code::DossierNotFound, format!("No dossier {dossier_code}."))
        })?;
    let tz = ctx.tz();
    store::list_events(conn, &row.id)?
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
                at: local(tz, Some(e.occurred_at)).ok_or_else(|| AppError::internal("time"))?,
                recorded_at: local(tz, Some(e.recorded_at))
                    .ok_or_else(|| AppError::internal("time"))?,
                note: e.note,
                step: e.step,
                step_unit: e.step_unit,
                step_due_at: local(tz, e.step_due_at),
                closed_step: e.closed_step,
                closed_step_due_at: local(tz, e.closed_step_due_at),
                step_timeliness: e.step_timeliness,
                due_at: local(tz, e.due_at),
                details: serde_json::from_str(&e.details).unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// Query of the dossier list, as parsed from the URL.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// One state, or several separated by commas.
    pub state: Option<String>,
    pub procedure_code: Option<String>,
    pub unit_code: Option<String>,
    pub channel: Option<String>,
    /// Running dossiers past their due time.
    pub overdue: Option<bool>,
    /// Running dossiers due within one working day.
    pub due_soon: Option<bool>,
    /// Local dates (YYYY-MM-DD), inclusive.
    pub received_from: Option<chrono::NaiveDate>,
    pub received_to: Option<chrono::NaiveDate>,
    /// Code, applicant name or identity number contains this.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
}

fn local_midnight(tz: Tz, d: chrono::NaiveDate) -> Option<chrono::NaiveDateTime> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| to_db_time(t.to_utc()))
}

pub fn list(conn: &mut DbConnection, ctx: &Ctx, q: &ListQuery) -> AppResult<Page<Dossier>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let tz = ctx.tz();
    let mut errors = FieldErrors::default();
    let states: Vec<String> = q
        .state
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for s in &states {
        if s.parse::<State>().is_err() {
            errors.add("state", format!("unknown state {s:?}"));
        }
    }
    if let Some(c) = &q.channel {
        errors.check(
            matches!(c.as_str(), "direct" | "online" | "postal"),
            "channel",
            "must be direct, online or postal",
        );
    }
    errors.into_result()?;
    let day = ctx.cal.settings().day_length();
    let filter = DossierFilter {
        states,
        procedure_code: q.procedure_code.clone(),
        unit_code: q.unit_code.clone(),
        channel: q.channel.clone(),
        due_before: q.overdue.unwrap_or(false).then(|| to_db_time(ctx.now)),
        due_between: q.due_soon.unwrap_or(false).then(|| {
            (
                to_db_time(ctx.now),
                to_db_time(deadline::add_working_time(ctx.cal, ctx.now, day)),
            )
        }),
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
    for row in rows {
        if !procedures.contains_key(&row.procedure_id) {
            let p = load_procedure(conn, &row.procedure_id)?;
            procedures.insert(row.procedure_id.clone(), p);
        }
        let p = procedures
            .get(&row.procedure_id)
            .ok_or_else(|| AppError::internal("procedure cache"))?;
        items.push(view(ctx.cal, &row, p, ctx.principal.role, ctx.now)?);
    }
    Ok(Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

const RECOMPUTED_NOTE: &str = "Lịch làm việc thay đổi: hạn giải quyết được tính lại";

/// After a calendar change: recomputes the due time of every open dossier with the new
/// calendar, never making it earlier, and records each change in the dossier's history.
pub fn recompute_due_times(
    conn: &mut DbConnection,
    cal: &Calendar,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut procedures: HashMap<String, Procedure> = HashMap::new();
    let mut changed = 0;
    for mut row in store::list_open_with_clock(conn)? {
        if !procedures.contains_key(&row.procedure_id) {
            let p = load_procedure(conn, &row.procedure_id)?;
            procedures.insert(row.procedure_id.clone(), p);
        }
        let Some(procedure) = procedures.get(&row.procedure_id) else {
            continue;
        };
        let (Some(start), Some(old_due)) = (row.clock_started_at, row.due_at) else {
            continue;
        };
        let duration = procedure.definition.duration_for(row.channel == "online");
        let base = deadline::due(cal, from_db_time(start), duration).due_at;
        let new_due = deadline::add_working_time(cal, base, TimeDelta::seconds(row.paused_seconds))
            .max(from_db_time(old_due));
        // The current step's due time, from its start and allowance (pauses inside the step
        // are not tracked apart, so a paused step only ever keeps its later time).
        let new_step_due = match (row.current_step, row.step_started_at, row.step_due_at) {
            (Some(i), Some(started), Some(old_step)) => usize::try_from(i)
                .ok()
                .and_then(|i| procedure.definition.steps.get(i))
                .map(|step| {
                    deadline::due(cal, from_db_time(started), step.allowance)
                        .due_at
                        .max(from_db_time(old_step))
                }),
            _ => None,
        };
        let step_moved = new_step_due.is_some_and(|d| Some(to_db_time(d)) != row.step_due_at);
        if new_due == from_db_time(old_due) && !step_moved {
            continue;
        }
        let read_version = row.version;
        let old_current = row.due_at_current;
        if let Some(d) = new_step_due {
            row.step_due_at = Some(to_db_time(d));
        }
        row.due_at = Some(to_db_time(new_due));
        if old_current.is_none_or(|c| c < to_db_time(new_due)) {
            row.due_at_current = row.due_at;
        }
        row.version += 1;
        row.updated_at = to_db_time(now);
        stamp_days(&mut row, cal.settings().timezone());
        if !store::update_if_version(conn, &row, read_version)? {
            return Err(AppError::new(
                Code::DossierConcurrentChange,
                "A dossier changed during the recomputation; retry.",
            ));
        }
        let state = parse_state(&row.state)?;
        store::insert_event(
            conn,
            &EventRow {
                action: Action::CalendarRecomputed.as_str().to_owned(),
                details: json!({"old_due_at": from_db_time(old_due), "new_due_at": new_due,
                    "step_due_at": new_step_due})
                .to_string(),
                step_due_at: row.step_due_at.filter(|_| step_moved),
                ..history_row(&row, Some(state), state, actor, now, now, RECOMPUTED_NOTE)
            },
        )?;
        changed += 1;
    }
    Ok(changed)
}
