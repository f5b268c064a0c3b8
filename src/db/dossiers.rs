//! Dossiers, their history rows, the units they passed through, code sequences and
//! idempotency keys.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};

use super::DbConnection;
use super::schema::{dossier_events, dossier_units, dossiers, idempotency_keys};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true)]
pub struct DossierRow {
    pub id: String,
    pub code: String,
    pub procedure_id: String,
    pub procedure_code: String,
    pub field: String,
    pub unit_code: String,
    pub state: String,
    pub outcome: Option<String>,
    pub channel: String,
    pub rule_regime: String,
    pub applicant: String,
    pub applicant_name: String,
    pub applicant_id_number: Option<String>,
    pub search_text: String,
    pub components: String,
    pub note: String,
    pub lookup_key_hash: String,
    pub submitted_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub clock_started_at: Option<NaiveDateTime>,
    pub paused_seconds: i64,
    pub paused_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub due_at_current: Option<NaiveDateTime>,
    pub current_step: Option<i32>,
    pub current_unit: Option<String>,
    pub step_started_at: Option<NaiveDateTime>,
    pub step_due_at: Option<NaiveDateTime>,
    pub supplement_count: i32,
    pub completion_asked: bool,
    pub state_before_withdrawal: Option<String>,
    pub supplement_wait_seconds: i64,
    pub apology: Option<String>,
    pub late_apology: bool,
    pub resolved_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub timeliness: Option<String>,
    pub working_seconds: Option<i64>,
    pub digitised: bool,
    pub reused: bool,
    pub result_reference: Option<String>,
    pub electronic_result: bool,
    pub paid_online: Option<bool>,
    pub delivered_at: Option<NaiveDateTime>,
    pub delivery_method: Option<String>,
    pub satisfaction: Option<i32>,
    pub received_day: Option<i32>,
    pub finished_day: Option<i32>,
    pub due_day: Option<i32>,
    pub version: i32,
    pub last_event_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    pub dossier_id: String,
    pub seq: i32,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub note: String,
    pub details: String,
    pub step: Option<String>,
    pub step_unit: Option<String>,
    pub step_due_at: Option<NaiveDateTime>,
    pub closed_step: Option<String>,
    pub closed_step_due_at: Option<NaiveDateTime>,
    pub step_timeliness: Option<String>,
    pub due_at: Option<NaiveDateTime>,
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<DossierRow>> {
    dossiers::table
        .filter(dossiers::code.eq(code))
        .select(DossierRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, row: &DossierRow) -> QueryResult<()> {
    diesel::insert_into(dossiers::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Writes the new state only if nobody changed the dossier since it was read (`version`);
/// answers whether it did. Concurrent writers: exactly one wins on either backend.
pub fn update_if_version(
    conn: &mut DbConnection,
    row: &DossierRow,
    read_version: i32,
) -> QueryResult<bool> {
    let n = diesel::update(
        dossiers::table
            .filter(dossiers::id.eq(&row.id))
            .filter(dossiers::version.eq(read_version)),
    )
    .set(row)
    .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_event(conn: &mut DbConnection, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(dossier_events::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list_events(conn: &mut DbConnection, dossier_id: &str) -> QueryResult<Vec<EventRow>> {
    dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .order(dossier_events::seq)
        .select(EventRow::as_select())
        .load(conn)
}

/// Records that the dossier has been in `unit` (idempotent).
pub fn mark_unit(conn: &mut DbConnection, dossier_id: &str, unit: &str) -> QueryResult<()> {
    let exists = dossier_units::table
        .find((dossier_id, unit))
        .count()
        .get_result::<i64>(conn)?;
    if exists == 0 {
        diesel::insert_into(dossier_units::table)
            .values((
                dossier_units::dossier_id.eq(dossier_id),
                dossier_units::unit_code.eq(unit),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn passed_through(conn: &mut DbConnection, dossier_id: &str, unit: &str) -> QueryResult<bool> {
    dossier_units::table
        .find((dossier_id, unit))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

#[derive(QueryableByName)]
struct Allocated {
    #[diesel(sql_type = Integer)]
    last: i32,
}

/// Allocates the next number of the agency's daily sequence inside the caller's
/// transaction: an atomic upsert, so concurrent receipts never share a number, and a
/// rolled-back receipt gives its number back (no gaps). Same SQL text on both backends.
pub fn next_sequence(
    conn: &mut DbConnection,
    agency_code: &str,
    day: NaiveDate,
) -> QueryResult<i32> {
    diesel::sql_query(
        "INSERT INTO dossier_sequences (agency_code, day, last) VALUES ($1, $2, 1) \
         ON CONFLICT (agency_code, day) DO UPDATE SET last = dossier_sequences.last + 1 \
         RETURNING last",
    )
    .bind::<Text, _>(agency_code)
    .bind::<Date, _>(day)
    .get_result::<Allocated>(conn)
    .map(|a| a.last)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    pub response: String,
    pub created_at: NaiveDateTime,
}

pub fn find_idempotency(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .find((user_id, key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_idempotency(conn: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Filters of the dossier list (queues).
#[derive(Debug, Clone, Default)]
pub struct DossierFilter {
    pub states: Vec<String>,
    pub procedure_code: Option<String>,
    pub unit_code: Option<String>,
    pub channel: Option<String>,
    /// Running dossiers whose due time is before this instant.
    pub due_before: Option<NaiveDateTime>,
    /// Running dossiers due in [from, to].
    pub due_between: Option<(NaiveDateTime, NaiveDateTime)>,
    pub received_from: Option<NaiveDateTime>,
    pub received_before: Option<NaiveDateTime>,
    pub q: Option<String>,
    /// Officers and leaders: only dossiers now in, or once in, this unit.
    pub visible_to_unit: Option<String>,
}

pub const RUNNING_STATES: [&str; 3] = ["received", "processing", "awaiting_payment"];

pub fn list(
    conn: &mut DbConnection,
    f: &DossierFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DossierRow>, i64)> {
    let build = || {
        let mut q = dossiers::table.into_boxed();
        if !f.states.is_empty() {
            q = q.filter(dossiers::state.eq_any(f.states.clone()));
        }
        if let Some(p) = &f.procedure_code {
            q = q.filter(dossiers::procedure_code.eq(p.clone()));
        }
        if let Some(u) = &f.unit_code {
            q = q.filter(dossiers::current_unit.eq(u.clone()));
        }
        if let Some(c) = &f.channel {
            q = q.filter(dossiers::channel.eq(c.clone()));
        }
        if let Some(t) = f.due_before {
            q = q
                .filter(dossiers::state.eq_any(RUNNING_STATES))
                .filter(dossiers::due_at.lt(t));
        }
        if let Some((a, b)) = f.due_between {
            q = q
                .filter(dossiers::state.eq_any(RUNNING_STATES))
                .filter(dossiers::due_at.ge(a))
                .filter(dossiers::due_at.le(b));
        }
        if let Some(t) = f.received_from {
            q = q.filter(dossiers::received_at.ge(t));
        }
        if let Some(t) = f.received_before {
            q = q.filter(dossiers::received_at.lt(t));
        }
        if let Some(text) = &f.q {
            let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
            q = q.filter(dossiers::search_text.like(pattern));
        }
        if let Some(u) = &f.visible_to_unit {
            let through = dossier_units::table
                .filter(dossier_units::unit_code.eq(u.clone()))
                .select(dossier_units::dossier_id);
            // Held by the unit (before the first transfer: the procedure's unit) or passed through it.
            q = q.filter(
                dossiers::current_unit
                    .eq(u.clone())
                    .or(dossiers::current_unit
                        .is_null()
                        .and(dossiers::unit_code.eq(u.clone())))
                    .or(dossiers::id.eq_any(through)),
            );
        }
        q
    };
    let rows = build()
        .order((dossiers::created_at.desc(), dossiers::code.desc()))
        .offset(offset)
        .limit(limit)
        .select(DossierRow::as_select())
        .load(conn)?;
    let total = build().count().get_result(conn)?;
    Ok((rows, total))
}

/// Open dossiers whose clock may depend on the calendar (for recomputation after a change).
pub fn list_open_with_clock(conn: &mut DbConnection) -> QueryResult<Vec<DossierRow>> {
    dossiers::table
        .filter(dossiers::state.eq_any([
            "received",
            "processing",
            "supplement_requested",
            "awaiting_payment",
            "withdrawal_requested",
        ]))
        .filter(dossiers::clock_started_at.is_not_null())
        .select(DossierRow::as_select())
        .load(conn)
}

/// Whether a dossier of this applicant (tax or identity number) exists.
pub fn exists_for_applicant(conn: &mut DbConnection, id_number: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        dossiers::table.filter(dossiers::applicant_id_number.eq(id_number)),
    ))
    .get_result(conn)
}

/// Forgets idempotency keys recorded before `before` (they hold a first answer, lookup key
/// included, and a retry after a day is a new request).
pub fn purge_idempotency(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(conn)
}
