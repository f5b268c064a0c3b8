//! What a caller hands the dossier rules: the receipt request, an action's body, the
//! components handed in, and what is recorded of them (also the API's JSON shapes).

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Channel;

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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
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
    /// The reasons given, trimmed, empty ones left out.
    pub fn list(&self) -> Vec<String> {
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Apology {
    pub reason: String,
    pub new_due_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub by: String,
    /// Later than one working day before the due time.
    pub late: bool,
}
