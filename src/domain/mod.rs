//! Pure rules, no I/O: they take `now`, the calendar and the settings as values.

pub mod calendar;
pub mod code;
pub mod deadline;
pub mod dossier;
pub mod holidays;
pub mod lunar;
pub mod media;
pub mod notice;
pub mod procedure;
pub mod role;
pub mod state;
pub mod stats;
pub mod timeliness;
