//! After a calendar change: every open dossier's due times follow the new calendar, never
//! earlier than they were, each change recorded in the dossier's history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::dossiers::{self as store, EventRow};
use crate::db::{DbConnection, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::state::Action;
use crate::error::{AppError, AppResult, Code};

use super::super::procedures::Procedure;
use super::super::users::Principal;
use super::{history_row, load_procedure};

const RECOMPUTED_NOTE: &str = "Lịch làm việc thay đổi: hạn giải quyết được tính lại";

/// Recomputes inside the calendar change's transaction; answers how many dossiers changed.
pub fn recompute_due_times(
    conn: &mut DbConnection,
    cal: &Calendar,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut procedures: HashMap<String, Procedure> = HashMap::new();
    let mut changed = 0;
    for mut d in store::list_open_with_clock(conn)? {
        if !procedures.contains_key(&d.procedure_id) {
            let p = load_procedure(conn, &d.procedure_id)?;
            procedures.insert(d.procedure_id.clone(), p);
        }
        let Some(procedure) = procedures.get(&d.procedure_id) else {
            continue;
        };
        let duration = procedure.definition.duration_for(d.channel.is_online());
        let (Some(old_due), Some(new_due)) =
            (d.clock.due_at, d.clock.recomputed_due(cal, duration))
        else {
            continue;
        };
        // The current step's due time, from its start and allowance (pauses inside the step
        // are not tracked apart, so a paused step only ever keeps its later time).
        let new_step_due = match (d.current_step, d.step_started_at, d.clock.step_due_at) {
            (Some(i), Some(started), Some(old_step)) => usize::try_from(i)
                .ok()
                .and_then(|i| procedure.definition.steps.get(i))
                .map(|step| {
                    deadline::due(cal, started, step.allowance)
                        .due_at
                        .max(old_step)
                }),
            _ => None,
        };
        let step_moved = new_step_due
            .is_some_and(|s| Some(crate::domain::truncate_to_micros(s)) != d.clock.step_due_at);
        if new_due == old_due && !step_moved {
            continue;
        }
        let read_version = d.version;
        if let Some(s) = new_step_due {
            d.clock.step_due_at = Some(s);
        }
        d.clock.due_at = Some(new_due);
        if d.clock.due_at_current.is_none_or(|c| c < new_due) {
            d.clock.due_at_current = d.clock.due_at;
        }
        d.version += 1;
        d.updated_at = now;
        d.stamp_days(cal.settings().timezone());
        if !store::update_if_version(conn, &d, read_version)? {
            return Err(AppError::new(
                Code::DossierConcurrentChange,
                "A dossier changed during the recomputation; retry.",
            ));
        }
        let state = d.state;
        store::insert_event(
            conn,
            &EventRow {
                action: Action::CalendarRecomputed.as_str().to_owned(),
                details: json!({"old_due_at": old_due, "new_due_at": new_due,
                    "step_due_at": new_step_due})
                .to_string(),
                step_due_at: d.clock.step_due_at.filter(|_| step_moved).map(to_db_time),
                ..history_row(&d, Some(state), state, actor, now, now, RECOMPUTED_NOTE)
            },
        )?;
        changed += 1;
    }
    Ok(changed)
}
