//! The dossier's rules: the typed dossier, the transition table (`lifecycle`), the deadline
//! clock (`clock`), each action's effect (`effects`), receipt (`receipt`) and digitisation.
//! Pure: the calendar and `now` come in as values; `app` loads, calls and writes.

pub mod clock;
pub mod digitisation;
pub mod effects;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod fixtures;
pub mod import;
pub mod input;
pub mod lifecycle;
pub mod receipt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calendar::UnknownValue;
use crate::domain::state::State;
use crate::domain::timeliness::Timeliness;

pub use clock::DueClock;
pub use input::{Apology, Component};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Direct,
    Online,
    Postal,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Direct, Channel::Online, Channel::Postal];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }

    /// Online dossiers may have their own statutory duration.
    pub fn is_online(self) -> bool {
        self == Channel::Online
    }
}

impl std::str::FromStr for Channel {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue::new("channel", s, "direct, online, postal"))
    }
}

/// The decision of a resolved dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Outcome::Approved, Outcome::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownValue::new("outcome", s, "approved, rejected"))
    }
}

/// A dossier as the rules see it: what `db::dossiers` reads and writes, with typed states,
/// times in UTC and the deadline clock as one value.
#[derive(Clone, Debug, PartialEq)]
pub struct DossierRecord {
    pub id: String,
    pub code: String,
    /// The procedure version it was received under.
    pub procedure_id: String,
    pub procedure_code: String,
    pub field: String,
    /// The procedure's handling unit.
    pub unit_code: String,
    pub state: State,
    pub outcome: Option<Outcome>,
    pub channel: Channel,
    pub rule_regime: String,
    /// The applicant as given at receipt (JSON text; the rules never read it).
    pub applicant: String,
    pub applicant_name: String,
    pub applicant_id_number: Option<String>,
    /// What the list's `q` searches (lower case).
    pub search_text: String,
    pub components: Vec<Component>,
    pub note: String,
    pub lookup_key_hash: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub clock: DueClock,
    pub current_step: Option<i32>,
    pub current_unit: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub supplement_count: i32,
    pub completion_asked: bool,
    pub state_before_withdrawal: Option<State>,
    pub supplement_wait_seconds: i64,
    pub apology: Option<Apology>,
    pub late_apology: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub timeliness: Option<Timeliness>,
    /// Timeliness against `due_at_current` (the apology's appointment), for reports that
    /// judge against it (`reports.judge_against`).
    pub timeliness_current: Option<Timeliness>,
    /// Processing time in working time, supplement waits excluded (766 indicator 2.2).
    pub working_seconds: Option<i64>,
    pub digitised: bool,
    pub reused: bool,
    pub result_reference: Option<String>,
    pub electronic_result: bool,
    pub paid_online: Option<bool>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivery_method: Option<String>,
    pub satisfaction: Option<i32>,
    /// Local day numbers (`stats::day_number`) of receipt, finish and due time, for reports.
    pub received_day: Option<i32>,
    pub finished_day: Option<i32>,
    pub due_day: Option<i32>,
    /// Local day number of `due_at_current`.
    pub due_current_day: Option<i32>,
    /// While the clock stands still with time left against `due_at` (resp. `due_at_current`):
    /// the local day it stopped, so that the reports' SQL judges the dossier within time at the
    /// end of any later period (`timeliness::overdue_at`). Kept when the dossier is stopped
    /// from the pause; cleared when the clock runs again.
    pub held_day: Option<i32>,
    pub held_current_day: Option<i32>,
    pub version: i32,
    pub last_event_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DossierRecord {
    /// Keeps the local-day columns the reports read in step with the times they come from.
    pub fn stamp_days(&mut self, tz: Tz) {
        let day = |t: Option<DateTime<Utc>>| {
            t.map(|t| crate::domain::stats::day_number(t.with_timezone(&tz).date_naive()))
        };
        self.received_day = day(self.received_at);
        self.finished_day = day(self.finished_at);
        self.due_day = day(self.clock.due_at);
        self.due_current_day = day(self.clock.due_at_current.or(self.clock.due_at));
        if self.finished_at.is_none() {
            let held = |due: Option<DateTime<Utc>>| match (self.clock.paused_at, due) {
                (Some(p), Some(due)) if !crate::domain::timeliness::is_overdue(p, due) => {
                    day(Some(p))
                }
                _ => None,
            };
            self.held_day = held(self.clock.due_at);
            self.held_current_day = held(self.clock.due_at_current.or(self.clock.due_at));
        }
    }

    /// The unit that holds the dossier: its current step's, or, before the first transfer, the
    /// procedure's handling unit (whose leader may transfer it or decide on a withdrawal).
    pub fn holding_unit(&self) -> &str {
        self.current_unit
            .as_deref()
            .unwrap_or(self.unit_code.as_str())
    }
}

/// Regime by receipt date: Nghị định 118/2025 replaced 61/2018 from 01/07/2025.
pub fn rule_regime(local_date: NaiveDate) -> &'static str {
    match NaiveDate::from_ymd_opt(2025, 7, 1) {
        Some(switch) if local_date < switch => "nd61_2018",
        _ => "nd118_2025",
    }
}
