//! The dossier API's shapes: what callers send (the rules' own input types) and what they
//! get back (the staff view, the created dossier with its key, history rows, list filters).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::clock::ApiTime;
pub use crate::domain::dossier::Channel;
pub use crate::domain::dossier::input::{
    ActionRequest, Apology, Applicant, Component, ComponentInput, ComponentKind,
    CreateDossierRequest, Reasons,
};
use crate::domain::state::State;

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
    pub started_at: Option<ApiTime>,
    pub due_at: Option<ApiTime>,
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
    pub submitted_at: Option<ApiTime>,
    pub received_at: Option<ApiTime>,
    pub due_at: Option<ApiTime>,
    pub due_at_current: Option<ApiTime>,
    pub resolved_at: Option<ApiTime>,
    pub delivered_at: Option<ApiTime>,
    pub finished_at: Option<ApiTime>,
    pub overdue: bool,
    pub due_soon: bool,
    pub timeliness: Option<String>,
    pub supplement_count: i32,
    /// Every component that must be digitised has a file.
    pub digitised: bool,
    pub apology: Option<ApologyView>,
    pub result_reference: Option<String>,
    pub delivery_method: Option<String>,
    pub satisfaction: Option<i32>,
    pub note: String,
    pub version: i32,
    /// What the caller may do now.
    pub allowed_actions: Vec<&'static str>,
}

/// `POST /dossiers/{code}/components`: components handed in while an online filing waits for
/// completion (after `ask_completion`), recorded against the checklist.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentsRequest {
    pub components: Vec<ComponentInput>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The apology (form 04) as answers show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApologyView {
    pub reason: String,
    pub new_due_at: ApiTime,
    pub at: ApiTime,
    pub by: String,
    /// Later than one working day before the due time.
    pub late: bool,
}

impl From<&Apology> for ApologyView {
    fn from(a: &Apology) -> Self {
        ApologyView {
            reason: a.reason.clone(),
            new_due_at: a.new_due_at.into(),
            at: a.at.into(),
            by: a.by.clone(),
            late: a.late,
        }
    }
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
    pub at: ApiTime,
    pub recorded_at: ApiTime,
    pub note: String,
    /// The step this row hands the dossier to, and that step's due time.
    pub step: Option<String>,
    pub step_unit: Option<String>,
    pub step_due_at: Option<ApiTime>,
    /// The step this row closes, its due time, and how it ended (`early`, `on_time`, `late`).
    pub closed_step: Option<String>,
    pub closed_step_due_at: Option<ApiTime>,
    pub step_timeliness: Option<String>,
    /// The dossier's due time after this row.
    pub due_at: Option<ApiTime>,
    #[schema(value_type = Object)]
    pub details: Value,
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
    /// Running dossiers due from now to the end of today (local), not yet overdue.
    pub due_today: Option<bool>,
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
