//! Dossier use cases, one file each: receipt and online filing (`receipt`), the lifecycle
//! actions (`actions`), the view, history and list (`queries`), due times after a calendar
//! change (`recompute`), the emails they write (`notices`), and the API shapes (`types`).
//! The rules are `domain::dossier`; each use case here loads, asks the rules, writes the
//! dossier, its history row and its notices in one transaction.

mod actions;
mod notices;
mod queries;
mod receipt;
mod recompute;
mod types;

pub use actions::{act, add_components, parse_if_match};
pub use notices::{BACK_ENTRY_GRACE_MINUTES, is_back_entry, quiet_passed_notices};
pub use queries::{explain_due, get, history, history_of, list, view};
pub use receipt::{Prepared, Receipt, Written, create, prepare};
pub use recompute::recompute_due_times;
pub use types::*;

pub use super::context::{Ctx, visible_dossier};

use chrono::{DateTime, Utc};

use crate::clock::ApiTime;
use chrono_tz::Tz;

use crate::db::dossiers::EventRow;
use crate::db::{DbConnection, procedures as procedure_store, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::dossier::DossierRecord;
use crate::domain::state::State;
use crate::error::{AppError, AppResult};

use super::procedures::Procedure;
use super::users::Principal;

fn load_procedure(conn: &mut DbConnection, id: &str) -> AppResult<Procedure> {
    let row = procedure_store::find_by_id(conn, id)?
        .ok_or_else(|| AppError::internal(format!("procedure version {id} missing")))?;
    Procedure::from_row(row)
}

/// A time as answers write it: in the agency's zone (the one `tz` names), to the second.
fn local(_tz: Tz, t: Option<DateTime<Utc>>) -> Option<ApiTime> {
    ApiTime::opt(t)
}

/// Due times are computed whatever the calendar holds; one that falls in a year without
/// calendar data is logged (nothing is guessed for that year).
fn warn_beyond_calendar(cal: &Calendar, due_times: &[DateTime<Utc>]) {
    let tz = cal.settings().timezone();
    for due in due_times {
        let year = chrono::Datelike::year(&due.with_timezone(&tz));
        if !cal.has_year(year) {
            tracing::warn!(
                calendar.year = year,
                "due time falls in a year without calendar data"
            );
        }
    }
}

/// A history row for the dossier as it now is (seq = its version), without step data;
/// callers fill in the action, details and steps.
fn history_row(
    d: &DossierRecord,
    from: Option<State>,
    to: State,
    actor: &Principal,
    occurred: DateTime<Utc>,
    recorded: DateTime<Utc>,
    note: &str,
) -> EventRow {
    EventRow {
        dossier_id: d.id.clone(),
        seq: d.version,
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
        due_at: d.clock.due_at.map(to_db_time),
    }
}
