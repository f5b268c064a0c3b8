//! The working calendar's special days, the years loaded, the change log and the revision.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{calendar_changes, calendar_days, calendar_revision, calendar_years};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub date: NaiveDate,
    pub kind: String,
    pub name: String,
    pub source: String,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_changes)]
pub struct CalendarChangeRow {
    pub id: String,
    pub date: NaiveDate,
    pub actor: String,
    pub at: NaiveDateTime,
    pub old_kind: Option<String>,
    pub old_name: Option<String>,
    pub new_kind: Option<String>,
    pub new_name: Option<String>,
}

pub fn list_days(conn: &mut DbConnection) -> QueryResult<Vec<CalendarDayRow>> {
    calendar_days::table
        .order(calendar_days::date)
        .select(CalendarDayRow::as_select())
        .load(conn)
}

pub fn list_days_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<CalendarDayRow>> {
    calendar_days::table
        .filter(calendar_days::date.between(from, to))
        .order(calendar_days::date)
        .select(CalendarDayRow::as_select())
        .load(conn)
}

pub fn find_day(conn: &mut DbConnection, date: NaiveDate) -> QueryResult<Option<CalendarDayRow>> {
    calendar_days::table
        .find(date)
        .select(CalendarDayRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_day(conn: &mut DbConnection, row: &CalendarDayRow) -> QueryResult<()> {
    diesel::insert_into(calendar_days::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn update_day(conn: &mut DbConnection, row: &CalendarDayRow) -> QueryResult<()> {
    diesel::update(calendar_days::table.find(row.date))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn delete_day(conn: &mut DbConnection, date: NaiveDate) -> QueryResult<usize> {
    diesel::delete(calendar_days::table.find(date)).execute(conn)
}

pub fn loaded_years(conn: &mut DbConnection) -> QueryResult<Vec<i32>> {
    calendar_years::table
        .select(calendar_years::year)
        .order(calendar_years::year)
        .load(conn)
}

pub fn insert_loaded_year(
    conn: &mut DbConnection,
    year: i32,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(calendar_years::table)
        .values((
            calendar_years::year.eq(year),
            calendar_years::loaded_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn insert_change(conn: &mut DbConnection, row: &CalendarChangeRow) -> QueryResult<()> {
    diesel::insert_into(calendar_changes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list_changes(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<CalendarChangeRow>> {
    calendar_changes::table
        .order(calendar_changes::at.desc())
        .limit(limit)
        .select(CalendarChangeRow::as_select())
        .load(conn)
}

pub fn revision(conn: &mut DbConnection) -> QueryResult<i64> {
    calendar_revision::table
        .select(calendar_revision::revision)
        .get_result(conn)
}

/// Marks the calendar changed. The new revision is random, not the old one plus one: the
/// cache may be filled from inside the changing transaction, and if that transaction rolls
/// back, a counter would hand the same number to the next change, whose readers would then
/// take the rolled-back calendar for theirs.
pub fn bump_revision(conn: &mut DbConnection) -> QueryResult<()> {
    let (high, _) = uuid::Uuid::new_v4().as_u64_pair();
    let fresh = i64::from_ne_bytes(high.to_ne_bytes());
    diesel::update(calendar_revision::table)
        .set(calendar_revision::revision.eq(fresh))
        .execute(conn)
        .map(|_| ())
}
