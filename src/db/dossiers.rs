//! Dossiers, their history rows, the units they passed through, code sequences and
//! idempotency keys.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};

use super::schema::{dossier_events, dossier_units, dossiers, idempotency_keys, procedures};
use super::{DbConnection, bad_value, from_db_time, parse_stored, to_db_time};
use crate::domain::dossier::{Channel, DossierRecord, DueClock};
use crate::domain::state::State;

/// The stored shape of a dossier; it leaves this module only as a [`DossierRecord`].
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
// NULL binds, never `DEFAULT`, on insert and update: see `EventRow`.
#[diesel(table_name = dossiers, treat_none_as_null = true, treat_none_as_default_value = false)]
struct DossierRow {
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
    pub timeliness_current: Option<String>,
    pub due_current_day: Option<i32>,
    pub held_day: Option<i32>,
    pub held_current_day: Option<i32>,
}

fn times(t: Option<NaiveDateTime>) -> Option<chrono::DateTime<chrono::Utc>> {
    t.map(from_db_time)
}

fn db_times(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<NaiveDateTime> {
    t.map(to_db_time)
}

fn json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> QueryResult<T> {
    serde_json::from_str(text).map_err(|e| bad_value(format!("dossiers.{what}: {e}")))
}

fn json_text<T: serde::Serialize>(v: &T) -> QueryResult<String> {
    serde_json::to_string(v).map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

impl DossierRow {
    /// The typed dossier; a stored value the code does not know is an error.
    fn into_record(self) -> QueryResult<DossierRecord> {
        Ok(DossierRecord {
            state: parse_stored("dossiers.state", &self.state)?,
            outcome: self
                .outcome
                .as_deref()
                .map(|o| parse_stored("dossiers.outcome", o))
                .transpose()?,
            channel: parse_stored("dossiers.channel", &self.channel)?,
            components: json("components", &self.components)?,
            clock: DueClock {
                started_at: times(self.clock_started_at),
                paused_at: times(self.paused_at),
                paused_seconds: self.paused_seconds,
                due_at: times(self.due_at),
                due_at_current: times(self.due_at_current),
                step_due_at: times(self.step_due_at),
            },
            state_before_withdrawal: self
                .state_before_withdrawal
                .as_deref()
                .map(|s| parse_stored::<State>("dossiers.state_before_withdrawal", s))
                .transpose()?,
            apology: self
                .apology
                .as_deref()
                .map(|a| json("apology", a))
                .transpose()?,
            timeliness: self
                .timeliness
                .as_deref()
                .map(|t| parse_stored("dossiers.timeliness", t))
                .transpose()?,
            timeliness_current: self
                .timeliness_current
                .as_deref()
                .map(|t| parse_stored("dossiers.timeliness_current", t))
                .transpose()?,
            due_current_day: self.due_current_day,
            held_day: self.held_day,
            held_current_day: self.held_current_day,
            submitted_at: times(self.submitted_at),
            received_at: times(self.received_at),
            step_started_at: times(self.step_started_at),
            resolved_at: times(self.resolved_at),
            finished_at: times(self.finished_at),
            delivered_at: times(self.delivered_at),
            last_event_at: from_db_time(self.last_event_at),
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            id: self.id,
            code: self.code,
            procedure_id: self.procedure_id,
            procedure_code: self.procedure_code,
            field: self.field,
            unit_code: self.unit_code,
            rule_regime: self.rule_regime,
            applicant: self.applicant,
            applicant_name: self.applicant_name,
            applicant_id_number: self.applicant_id_number,
            search_text: self.search_text,
            note: self.note,
            lookup_key_hash: self.lookup_key_hash,
            current_step: self.current_step,
            current_unit: self.current_unit,
            supplement_count: self.supplement_count,
            completion_asked: self.completion_asked,
            supplement_wait_seconds: self.supplement_wait_seconds,
            late_apology: self.late_apology,
            working_seconds: self.working_seconds,
            digitised: self.digitised,
            reused: self.reused,
            result_reference: self.result_reference,
            electronic_result: self.electronic_result,
            paid_online: self.paid_online,
            delivery_method: self.delivery_method,
            satisfaction: self.satisfaction,
            received_day: self.received_day,
            finished_day: self.finished_day,
            due_day: self.due_day,
            version: self.version,
        })
    }

    fn from_record(d: &DossierRecord) -> QueryResult<Self> {
        Ok(DossierRow {
            id: d.id.clone(),
            code: d.code.clone(),
            procedure_id: d.procedure_id.clone(),
            procedure_code: d.procedure_code.clone(),
            field: d.field.clone(),
            unit_code: d.unit_code.clone(),
            state: d.state.as_str().to_owned(),
            outcome: d.outcome.map(|o| o.as_str().to_owned()),
            channel: d.channel.as_str().to_owned(),
            rule_regime: d.rule_regime.clone(),
            applicant: d.applicant.clone(),
            applicant_name: d.applicant_name.clone(),
            applicant_id_number: d.applicant_id_number.clone(),
            search_text: d.search_text.clone(),
            components: json_text(&d.components)?,
            note: d.note.clone(),
            lookup_key_hash: d.lookup_key_hash.clone(),
            submitted_at: db_times(d.submitted_at),
            received_at: db_times(d.received_at),
            clock_started_at: db_times(d.clock.started_at),
            paused_seconds: d.clock.paused_seconds,
            paused_at: db_times(d.clock.paused_at),
            due_at: db_times(d.clock.due_at),
            due_at_current: db_times(d.clock.due_at_current),
            current_step: d.current_step,
            current_unit: d.current_unit.clone(),
            step_started_at: db_times(d.step_started_at),
            step_due_at: db_times(d.clock.step_due_at),
            supplement_count: d.supplement_count,
            completion_asked: d.completion_asked,
            state_before_withdrawal: d.state_before_withdrawal.map(|s| s.as_str().to_owned()),
            supplement_wait_seconds: d.supplement_wait_seconds,
            apology: d.apology.as_ref().map(json_text).transpose()?,
            late_apology: d.late_apology,
            resolved_at: db_times(d.resolved_at),
            finished_at: db_times(d.finished_at),
            timeliness: d.timeliness.map(|t| t.as_str().to_owned()),
            timeliness_current: d.timeliness_current.map(|t| t.as_str().to_owned()),
            due_current_day: d.due_current_day,
            held_day: d.held_day,
            held_current_day: d.held_current_day,
            working_seconds: d.working_seconds,
            digitised: d.digitised,
            reused: d.reused,
            result_reference: d.result_reference.clone(),
            electronic_result: d.electronic_result,
            paid_online: d.paid_online,
            delivered_at: db_times(d.delivered_at),
            delivery_method: d.delivery_method.clone(),
            satisfaction: d.satisfaction,
            received_day: d.received_day,
            finished_day: d.finished_day,
            due_day: d.due_day,
            version: d.version,
            last_event_at: to_db_time(d.last_event_at),
            created_at: to_db_time(d.created_at),
            updated_at: to_db_time(d.updated_at),
        })
    }
}

// `treat_none_as_default_value = false`: a `None` is bound as NULL instead of written as
// `DEFAULT`. The insert then has one fixed shape that diesel knows by its type, so it finds
// the prepared statement without writing the SQL text out first (with `DEFAULT` possible it
// rebuilt the text of every insert, column by column, to look the statement up; receipts/s
// +14 % without it, docs/performance.md). (`treat_none_as_null` is the `AsChangeset` option;
// `Insertable` ignores it.)
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events, treat_none_as_default_value = false)]
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

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<DossierRecord>> {
    dossiers::table
        .filter(dossiers::code.eq(code))
        .select(DossierRow::as_select())
        .get_result(conn)
        .optional()?
        .map(DossierRow::into_record)
        .transpose()
}

/// What the public lookup shows of a dossier, with its procedure's name.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
struct LookupRow {
    code: String,
    lookup_key_hash: String,
    state: String,
    procedure_code: String,
    applicant_name: String,
    received_at: Option<NaiveDateTime>,
    due_at_current: Option<NaiveDateTime>,
    resolved_at: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
}

/// A dossier as the public lookup sees it (times in UTC).
#[derive(Debug, Clone)]
pub struct LookupView {
    pub code: String,
    pub lookup_key_hash: String,
    pub state: State,
    pub procedure_code: String,
    pub procedure_name: String,
    pub applicant_name: String,
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub due_at_current: Option<chrono::DateTime<chrono::Utc>>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The public lookup's read: one statement (the dossier by its unique code joined to its
/// procedure version) and only the columns it shows, where it used to read the whole row and
/// then the procedure in a second query.
pub fn find_for_lookup(conn: &mut DbConnection, code: &str) -> QueryResult<Option<LookupView>> {
    let found = super::on_backend!(conn, |c| dossiers::table
        .inner_join(procedures::table)
        .filter(dossiers::code.eq(code))
        .select((LookupRow::as_select(), procedures::name))
        .get_result::<(LookupRow, String)>(c)
        .optional())?;
    found
        .map(|(r, procedure_name)| {
            Ok(LookupView {
                state: parse_stored("dossiers.state", &r.state)?,
                code: r.code,
                lookup_key_hash: r.lookup_key_hash,
                procedure_code: r.procedure_code,
                procedure_name,
                applicant_name: r.applicant_name,
                received_at: r.received_at.map(from_db_time),
                due_at_current: r.due_at_current.map(from_db_time),
                resolved_at: r.resolved_at.map(from_db_time),
                delivered_at: r.delivered_at.map(from_db_time),
            })
        })
        .transpose()
}

pub fn insert(conn: &mut DbConnection, d: &DossierRecord) -> QueryResult<()> {
    diesel::insert_into(dossiers::table)
        .values(DossierRow::from_record(d)?)
        .execute(conn)
        .map(|_| ())
}

/// Writes the new state only if nobody changed the dossier since it was read (`version`);
/// answers whether it did. Concurrent writers: exactly one wins on either backend.
pub fn update_if_version(
    conn: &mut DbConnection,
    d: &DossierRecord,
    read_version: i32,
) -> QueryResult<bool> {
    let n = diesel::update(
        dossiers::table
            .filter(dossiers::id.eq(&d.id))
            .filter(dossiers::version.eq(read_version)),
    )
    .set(DossierRow::from_record(d)?)
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

/// Keeps the day's sequence at least `at_least` (a code entered from paper, so that the next
/// code allocated for that day does not repeat it). Same SQL text on both backends.
pub fn raise_sequence(
    conn: &mut DbConnection,
    agency_code: &str,
    day: NaiveDate,
    at_least: i32,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO dossier_sequences (agency_code, day, last) VALUES ($1, $2, $3) \
         ON CONFLICT (agency_code, day) DO UPDATE SET last = CASE \
         WHEN dossier_sequences.last < excluded.last THEN excluded.last \
         ELSE dossier_sequences.last END",
    )
    .bind::<Text, _>(agency_code)
    .bind::<Date, _>(day)
    .bind::<diesel::sql_types::Integer, _>(at_least)
    .execute(conn)
    .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
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
        .get_result(conn)
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
    pub states: Vec<State>,
    pub procedure_code: Option<String>,
    pub unit_code: Option<String>,
    pub channel: Option<Channel>,
    /// Dossiers overdue at this instant (running and past due, or paused after their due time).
    pub due_before: Option<NaiveDateTime>,
    /// Running dossiers due in [from, to].
    pub due_between: Option<(NaiveDateTime, NaiveDateTime)>,
    pub received_from: Option<NaiveDateTime>,
    pub received_before: Option<NaiveDateTime>,
    pub q: Option<String>,
    /// Officers and leaders: only dossiers now in, or once in, this unit.
    pub visible_to_unit: Option<String>,
}

/// The stored names of the states whose deadline clock runs.
pub fn running_states() -> Vec<&'static str> {
    State::ALL
        .into_iter()
        .filter(|s| s.clock_running())
        .map(State::as_str)
        .collect()
}

/// The stored names of the open states whose clock stands still (supplement requested,
/// withdrawal requested).
pub fn held_states() -> Vec<&'static str> {
    State::ALL
        .into_iter()
        .filter(|s| s.is_open() && !s.clock_running())
        .map(State::as_str)
        .collect()
}

/// The stored names of the states counted as open (received, not finished).
pub fn open_states() -> Vec<&'static str> {
    State::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(State::as_str)
        .collect()
}

pub fn list(
    conn: &mut DbConnection,
    f: &DossierFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DossierRecord>, i64)> {
    let build = || {
        let mut q = dossiers::table.into_boxed();
        if !f.states.is_empty() {
            let names: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
            q = q.filter(dossiers::state.eq_any(names));
        }
        if let Some(p) = &f.procedure_code {
            q = q.filter(dossiers::procedure_code.eq(p.clone()));
        }
        if let Some(u) = &f.unit_code {
            q = q.filter(dossiers::current_unit.eq(u.clone()));
        }
        if let Some(c) = &f.channel {
            q = q.filter(dossiers::channel.eq(c.as_str()));
        }
        if let Some(t) = f.due_before {
            // Overdue at `t` (`timeliness::overdue_at`): running and past due, or held by a
            // pause that began after the due time.
            q = q.filter(
                dossiers::state
                    .eq_any(running_states())
                    .and(dossiers::due_at.lt(t))
                    .or(dossiers::state
                        .eq_any(held_states())
                        .and(dossiers::paused_at.gt(dossiers::due_at))),
            );
        }
        if let Some((a, b)) = f.due_between {
            q = q
                .filter(dossiers::state.eq_any(running_states()))
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
    let rows = rows
        .into_iter()
        .map(DossierRow::into_record)
        .collect::<QueryResult<_>>()?;
    Ok((rows, total))
}

/// Open dossiers whose clock may depend on the calendar (for recomputation after a change).
pub fn list_open_with_clock(conn: &mut DbConnection) -> QueryResult<Vec<DossierRecord>> {
    dossiers::table
        .filter(dossiers::state.eq_any(open_states()))
        .filter(dossiers::clock_started_at.is_not_null())
        .select(DossierRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DossierRow::into_record)
        .collect()
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
