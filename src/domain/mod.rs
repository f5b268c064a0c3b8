//! Pure rules, no I/O: they take `now`, the calendar and the settings as values.

pub mod calendar;
pub mod code;
pub mod deadline;
pub mod dossier;
pub mod email;
pub mod forms;
pub mod holidays;
pub mod lunar;
pub mod media;
pub mod notice;
pub mod period;
pub mod procedure;
pub mod rejection;
pub mod role;
pub mod state;
pub mod stats;
pub mod timeliness;

/// Times are kept to the microsecond (what PostgreSQL stores), so that both backends compare
/// them alike.
pub fn truncate_to_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
