//! Staff notices raised by the due-time watcher, and the running dossiers still owed one.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use super::DbConnection;
use super::dossiers::running_states;
use super::schema::{dossier_notices, dossiers};

/// The kinds of notice the watcher raises (the outbox event of the same name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    DossierOverdue,
    DossierDueSoon,
    StepDueSoon,
}

impl Kind {
    pub const ALL: [Kind; 3] = [
        Kind::DossierOverdue,
        Kind::DossierDueSoon,
        Kind::StepDueSoon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DossierOverdue => "dossier_overdue",
            Kind::DossierDueSoon => "dossier_due_soon",
            Kind::StepDueSoon => "step_due_soon",
        }
    }
}

impl Kind {
    /// The notice's key: one per dossier (per step start for a step's notice).
    pub fn key(self, dossier_id: &str, step: Option<(&str, NaiveDateTime)>) -> String {
        match (self, step) {
            (Kind::StepDueSoon, Some((code, started))) => {
                format!("step_due_soon:{dossier_id}:{code}:{started}")
            }
            (Kind::StepDueSoon, None) => format!("step_due_soon:{dossier_id}::"),
            (kind, _) => format!("{}:{dossier_id}", kind.as_str()),
        }
    }
}

/// What the watcher reads of a dossier.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct WatchRow {
    pub id: String,
    pub code: String,
    pub procedure_id: String,
    pub unit_code: String,
    pub due_at: Option<NaiveDateTime>,
    pub current_step: Option<i32>,
    pub current_unit: Option<String>,
    pub step_started_at: Option<NaiveDateTime>,
    pub step_due_at: Option<NaiveDateTime>,
}

/// Running dossiers that need a notice of `kind` at `now` (due soon: due by `soon`) and have
/// not had it, in id order after `after` (keyset pages: a scan always moves forward, whatever
/// the outcome of each row). Dossiers already noticed are never read again, so a pile of
/// overdue dossiers cannot hide newly due ones.
pub fn list_owed(
    conn: &mut DbConnection,
    kind: Kind,
    now: NaiveDateTime,
    soon: NaiveDateTime,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<WatchRow>> {
    let raised = dossier_notices::table
        .filter(dossier_notices::dossier_id.eq(dossiers::id))
        .filter(dossier_notices::kind.eq(kind.as_str()));
    let mut q = dossiers::table
        .filter(dossiers::state.eq_any(running_states()))
        .filter(dossiers::id.gt(after.to_owned()))
        .into_boxed();
    q = match kind {
        Kind::DossierOverdue => q
            .filter(dossiers::due_at.lt(now))
            .filter(not(exists(raised))),
        Kind::DossierDueSoon => q
            .filter(dossiers::due_at.ge(now))
            .filter(dossiers::due_at.le(soon))
            .filter(not(exists(raised))),
        Kind::StepDueSoon => q
            .filter(dossiers::step_due_at.ge(now))
            .filter(dossiers::step_due_at.le(soon))
            .filter(dossiers::current_step.is_not_null())
            .filter(dossiers::current_unit.is_not_null())
            .filter(dossiers::step_started_at.is_not_null())
            .filter(not(exists(raised.filter(
                dossier_notices::step_started_at.eq(dossiers::step_started_at),
            )))),
    };
    q.order(dossiers::id)
        .limit(limit)
        .select(WatchRow::as_select())
        .load(conn)
}

/// Records a notice; answers false when it was already raised (by this or another instance:
/// on PostgreSQL a concurrent insert of the same key waits for the first and then does
/// nothing). Same SQL text on both backends.
pub fn insert_if_absent(
    conn: &mut DbConnection,
    key: &str,
    dossier_id: &str,
    kind: Kind,
    step_started_at: Option<NaiveDateTime>,
    raised_at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO dossier_notices (notice_key, dossier_id, kind, step_started_at, raised_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(key)
    .bind::<Text, _>(dossier_id)
    .bind::<Text, _>(kind.as_str())
    .bind::<Nullable<Timestamp>, _>(step_started_at)
    .bind::<Timestamp, _>(raised_at)
    .execute(conn)
    .map(|n| n == 1)
}

pub fn count(conn: &mut DbConnection, kind: Kind) -> QueryResult<i64> {
    dossier_notices::table
        .filter(dossier_notices::kind.eq(kind.as_str()))
        .count()
        .get_result(conn)
}
