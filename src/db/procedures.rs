//! Procedure versions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::procedures;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedures)]
pub struct ProcedureRow {
    pub id: String,
    pub code: String,
    pub version: i32,
    pub is_current: bool,
    pub name: String,
    pub field: String,
    pub unit_code: String,
    pub definition: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn find_current(conn: &mut DbConnection, code: &str) -> QueryResult<Option<ProcedureRow>> {
    procedures::table
        .filter(procedures::code.eq(code))
        .filter(procedures::is_current.eq(true))
        .select(ProcedureRow::as_select())
        .get_result(conn)
        .optional()
}

/// The version in force at `at`: the latest made by then, or — for a dossier older than every
/// version the service knows (paper-era records entered later) — the first one.
pub fn find_in_force(
    conn: &mut DbConnection,
    code: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<ProcedureRow>> {
    let by_then = procedures::table
        .filter(procedures::code.eq(code))
        // Few versions per code: the order's first row, with no bound LIMIT (layers.rs).
        .filter(procedures::created_at.le(at))
        .order(procedures::version.desc())
        .select(ProcedureRow::as_select())
        .get_result(conn)
        .optional()?;
    match by_then {
        Some(row) => Ok(Some(row)),
        None => procedures::table
            .filter(procedures::code.eq(code))
            .order(procedures::version.asc())
            .select(ProcedureRow::as_select())
            .get_result(conn)
            .optional(),
    }
}

/// Version `version` of procedure `code`.
pub fn find_version(
    conn: &mut DbConnection,
    code: &str,
    version: i32,
) -> QueryResult<Option<ProcedureRow>> {
    procedures::table
        .filter(procedures::code.eq(code))
        .filter(procedures::version.eq(version))
        .select(ProcedureRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ProcedureRow>> {
    procedures::table
        .find(id)
        .select(ProcedureRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_current(
    conn: &mut DbConnection,
    field: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ProcedureRow>, i64)> {
    let filtered = || {
        let mut q = procedures::table
            .filter(procedures::is_current.eq(true))
            .into_boxed();
        if let Some(f) = field {
            q = q.filter(procedures::field.eq(f.to_owned()));
        }
        q
    };
    let rows = filtered()
        .order((procedures::field, procedures::code))
        .offset(offset)
        .limit(limit)
        .select(ProcedureRow::as_select())
        .load(conn)?;
    let total = filtered().count().get_result(conn)?;
    Ok((rows, total))
}

pub fn insert(conn: &mut DbConnection, row: &ProcedureRow) -> QueryResult<()> {
    diesel::insert_into(procedures::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn retire(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(procedures::table.find(id))
        .set(procedures::is_current.eq(false))
        .execute(conn)
        .map(|_| ())
}

/// Every version of every procedure (reports read each version's flags: paper result, fees).
pub fn list_all(conn: &mut DbConnection) -> QueryResult<Vec<ProcedureRow>> {
    procedures::table
        .order((procedures::code, procedures::version))
        .select(ProcedureRow::as_select())
        .load(conn)
}
