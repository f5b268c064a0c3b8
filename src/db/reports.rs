//! Report aggregates: one SQL statement each, the same text on both backends, over the
//! dossier table's indexed columns (no dossier is loaded into memory).
//!
//! Placeholders are `$1, $2, …`: positional on PostgreSQL, but *named* on SQLite, where they
//! are numbered in order of first appearance. Every statement here therefore uses `$1` first,
//! then `$2`, and so on, so that both backends bind the same values to the same places.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::dossiers::running_states;
use super::{DbConnection, parse_stored, sql_list};
use crate::domain::dossier::{Channel, Outcome};
use crate::domain::state::State;
use crate::domain::timeliness::Timeliness;

/// What a Biểu 06 row is grouped by (each maps to a fixed column name, never user text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Field,
    Procedure,
    Unit,
    None,
}

impl GroupBy {
    fn column(self) -> &'static str {
        match self {
            GroupBy::Field => "field",
            GroupBy::Procedure => "procedure_code",
            GroupBy::Unit => "unit_code",
            // No GROUP BY at all (PostgreSQL refuses to group by a constant).
            GroupBy::None => "'all'",
        }
    }
}

#[derive(Debug, QueryableByName)]
pub struct Bieu06Counts {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub online: i64,
    #[diesel(sql_type = BigInt)]
    pub direct_postal: i64,
    #[diesel(sql_type = BigInt)]
    pub carried_over: i64,
    #[diesel(sql_type = BigInt)]
    pub early: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    pub within: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// Biểu 06 counts for [from, to) (UTC bounds of the local dates). In scope: dossiers
/// officially received (refusals never are) before `to` and not finished before `from`.
/// Each one falls in exactly one received column and in exactly one of resolved (finished
/// in the period) or in progress (not finished by `to`).
pub fn bieu06(
    conn: &mut DbConnection,
    from_day: i32,
    to_day: i32,
    group: GroupBy,
) -> QueryResult<Vec<Bieu06Counts>> {
    let key = group.column();
    let grouping = if group == GroupBy::None {
        String::new()
    } else {
        "GROUP BY 1 ORDER BY 1".to_owned()
    };
    // Whole local days (`*_day`): received in [from, to], finished by `to`, due by `to`.
    // Every column read is in the index `dossiers_report`, so only the index is scanned.
    // Grouping by the output column (not the table column) keeps SQLite from walking the
    // group column's own index in order and fetching every row from the table.
    let sql = format!(
        "SELECT CAST({key} AS TEXT) AS key,
           COALESCE(SUM(CASE WHEN received_day >= $1 AND channel = '{online}' THEN 1 ELSE 0 END), 0) AS online,
           COALESCE(SUM(CASE WHEN received_day >= $1 AND channel <> '{online}' THEN 1 ELSE 0 END), 0) AS direct_postal,
           COALESCE(SUM(CASE WHEN received_day < $1 THEN 1 ELSE 0 END), 0) AS carried_over,
           COALESCE(SUM(CASE WHEN finished_day <= $2 AND state <> '{stopped}' AND timeliness = '{early}' THEN 1 ELSE 0 END), 0) AS early,
           COALESCE(SUM(CASE WHEN finished_day <= $2 AND state <> '{stopped}' AND timeliness = '{on_time}' THEN 1 ELSE 0 END), 0) AS on_time,
           COALESCE(SUM(CASE WHEN finished_day <= $2 AND state <> '{stopped}' AND timeliness = '{late}' THEN 1 ELSE 0 END), 0) AS late,
           COALESCE(SUM(CASE WHEN finished_day <= $2 AND state = '{stopped}' THEN 1 ELSE 0 END), 0) AS withdrawn,
           COALESCE(SUM(CASE WHEN (finished_day IS NULL OR finished_day > $2) AND due_day > $2 THEN 1 ELSE 0 END), 0) AS within,
           COALESCE(SUM(CASE WHEN (finished_day IS NULL OR finished_day > $2) AND due_day <= $2 THEN 1 ELSE 0 END), 0) AS overdue
         FROM dossiers
         WHERE received_day <= $2
           AND (finished_day IS NULL OR finished_day >= $1)
         {grouping}",
        online = Channel::Online.as_str(),
        stopped = State::Stopped.as_str(),
        early = Timeliness::Early.as_str(),
        on_time = Timeliness::OnTime.as_str(),
        late = Timeliness::Late.as_str(),
    );
    diesel::sql_query(sql)
        .bind::<Integer, _>(from_day)
        .bind::<Integer, _>(to_day)
        .load(conn)
}

#[derive(Debug, QueryableByName)]
pub struct IndicatorCounts {
    /// Received in the period.
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub received_online: i64,
    /// Finished in the period or still open at its end, with the 766 rule applied.
    #[diesel(sql_type = BigInt)]
    pub processed: i64,
    #[diesel(sql_type = BigInt)]
    pub processed_in_time: i64,
    #[diesel(sql_type = BigInt)]
    pub fee_bearing_paid: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_online: i64,
    #[diesel(sql_type = BigInt)]
    pub paper_results: i64,
    #[diesel(sql_type = BigInt)]
    pub electronic_results: i64,
    #[diesel(sql_type = BigInt)]
    pub digitised: i64,
    #[diesel(sql_type = BigInt)]
    pub reused: i64,
    #[diesel(sql_type = BigInt)]
    pub rated: i64,
    #[diesel(sql_type = BigInt)]
    pub satisfied: i64,
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub working_seconds: Option<i64>,
}

/// The counts behind the Quyết định 766 indicators for [from, to). The scope is filtered on
/// the day columns written as expressions (`+ 0`) so that SQLite scans the table once
/// instead of walking an index and fetching every row from it.
pub fn indicators(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    from_day: i32,
    to_day: i32,
) -> QueryResult<IndicatorCounts> {
    diesel::sql_query(format!(
        "SELECT
           COALESCE(SUM(CASE WHEN received_at >= $1 THEN 1 ELSE 0 END), 0) AS received,
           COALESCE(SUM(CASE WHEN received_at >= $1 AND channel = '{online}' THEN 1 ELSE 0 END), 0) AS received_online,
           COUNT(*) AS processed,
           COALESCE(SUM(CASE WHEN supplement_count <= 1 AND (
                 (finished_at < $2 AND (state = '{stopped}' OR timeliness IN ('{early}', '{on_time}')))
              OR ((finished_at IS NULL OR finished_at >= $2) AND due_at >= $2)) THEN 1 ELSE 0 END), 0) AS processed_in_time,
           COALESCE(SUM(CASE WHEN paid_online IS NOT NULL THEN 1 ELSE 0 END), 0) AS fee_bearing_paid,
           COALESCE(SUM(CASE WHEN paid_online THEN 1 ELSE 0 END), 0) AS paid_online,
           COALESCE(SUM(CASE WHEN outcome = '{approved}' AND finished_at < $2 THEN 1 ELSE 0 END), 0) AS paper_results,
           COALESCE(SUM(CASE WHEN outcome = '{approved}' AND finished_at < $2 AND electronic_result THEN 1 ELSE 0 END), 0) AS electronic_results,
           COALESCE(SUM(CASE WHEN received_at >= $1 AND digitised THEN 1 ELSE 0 END), 0) AS digitised,
           COALESCE(SUM(CASE WHEN received_at >= $1 AND reused THEN 1 ELSE 0 END), 0) AS reused,
           COALESCE(SUM(CASE WHEN satisfaction IS NOT NULL AND delivered_at < $2 THEN 1 ELSE 0 END), 0) AS rated,
           COALESCE(SUM(CASE WHEN satisfaction >= 4 AND delivered_at < $2 THEN 1 ELSE 0 END), 0) AS satisfied,
           COALESCE(SUM(CASE WHEN outcome IS NOT NULL AND finished_at < $2 AND working_seconds IS NOT NULL THEN 1 ELSE 0 END), 0) AS completed,
           CAST(SUM(CASE WHEN outcome IS NOT NULL AND finished_at < $2 THEN working_seconds ELSE NULL END) AS BIGINT) AS working_seconds
         FROM dossiers
         WHERE received_day + 0 <= $3 AND (finished_day IS NULL OR finished_day + 0 >= $4)",
        online = Channel::Online.as_str(),
        stopped = State::Stopped.as_str(),
        early = Timeliness::Early.as_str(),
        on_time = Timeliness::OnTime.as_str(),
        approved = Outcome::Approved.as_str(),
    ))
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .bind::<Integer, _>(to_day)
    .bind::<Integer, _>(from_day)
    .get_result(conn)
}

#[derive(Debug, QueryableByName)]
struct StateCountRow {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug)]
pub struct StateCount {
    pub state: State,
    pub n: i64,
}

/// Dossiers by state (for one unit when given: those it holds).
pub fn by_state(conn: &mut DbConnection, unit: Option<&str>) -> QueryResult<Vec<StateCount>> {
    let sql = "SELECT state, COUNT(*) AS n FROM dossiers
               WHERE ($1 IS NULL OR COALESCE(current_unit, unit_code) = $1)
               GROUP BY state ORDER BY state";
    diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(unit)
        .load::<StateCountRow>(conn)?
        .into_iter()
        .map(|r| {
            Ok(StateCount {
                state: parse_stored("dossiers.state", &r.state)?,
                n: r.n,
            })
        })
        .collect()
}

#[derive(Debug, QueryableByName)]
pub struct DueCounts {
    #[diesel(sql_type = BigInt)]
    pub due_today: i64,
    #[diesel(sql_type = BigInt)]
    pub due_soon: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// Running dossiers due before the end of today, within one working day, or already late.
pub fn due_counts(
    conn: &mut DbConnection,
    unit: Option<&str>,
    now: NaiveDateTime,
    end_of_today: NaiveDateTime,
    soon: NaiveDateTime,
) -> QueryResult<DueCounts> {
    diesel::sql_query(format!(
        "SELECT
           COALESCE(SUM(CASE WHEN due_at >= $1 AND due_at < $2 THEN 1 ELSE 0 END), 0) AS due_today,
           COALESCE(SUM(CASE WHEN due_at >= $1 AND due_at <= $3 THEN 1 ELSE 0 END), 0) AS due_soon,
           COALESCE(SUM(CASE WHEN due_at < $1 THEN 1 ELSE 0 END), 0) AS overdue
         FROM dossiers
         WHERE state IN ({running})
           AND ($4 IS NULL OR COALESCE(current_unit, unit_code) = $4)",
        running = sql_list(&running_states()),
    ))
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(end_of_today)
    .bind::<Timestamp, _>(soon)
    .bind::<Nullable<Text>, _>(unit)
    .get_result(conn)
}
