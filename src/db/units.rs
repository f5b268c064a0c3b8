//! Handling units.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::units;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn list_units(conn: &mut DbConnection) -> QueryResult<Vec<UnitRow>> {
    units::table
        .order(units::code)
        .select(UnitRow::as_select())
        .load(conn)
}

pub fn find_unit(conn: &mut DbConnection, code: &str) -> QueryResult<Option<UnitRow>> {
    units::table
        .find(code)
        .select(UnitRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_unit(conn: &mut DbConnection, row: &UnitRow) -> QueryResult<()> {
    diesel::insert_into(units::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}
