//! Stored files and their use as dossier components.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{component_files, dossiers, files};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = files)]
pub struct FileRow {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = component_files)]
pub struct ComponentFileRow {
    pub dossier_id: String,
    pub item_code: String,
    pub sha256: String,
    pub document_number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub digitised_by: String,
    pub digitised_at: NaiveDateTime,
    pub reused_from: Option<String>,
}

pub fn find_file(conn: &mut DbConnection, sha: &str) -> QueryResult<Option<FileRow>> {
    files::table
        .find(sha)
        .select(FileRow::as_select())
        .get_result(conn)
        .optional()
}

/// Records a stored file once (a second upload of the same bytes finds it there).
pub fn insert_file_if_new(conn: &mut DbConnection, row: &FileRow) -> QueryResult<()> {
    if find_file(conn, &row.sha256)?.is_none() {
        diesel::insert_into(files::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_component_file(
    conn: &mut DbConnection,
    dossier_id: &str,
    item_code: &str,
    sha: &str,
) -> QueryResult<Option<ComponentFileRow>> {
    component_files::table
        .find((dossier_id, item_code, sha))
        .select(ComponentFileRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_component_file(conn: &mut DbConnection, row: &ComponentFileRow) -> QueryResult<()> {
    diesel::insert_into(component_files::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list_for_dossier(
    conn: &mut DbConnection,
    dossier_id: &str,
) -> QueryResult<Vec<(ComponentFileRow, FileRow)>> {
    component_files::table
        .inner_join(files::table)
        .filter(component_files::dossier_id.eq(dossier_id))
        .order((component_files::item_code, component_files::digitised_at))
        .select((ComponentFileRow::as_select(), FileRow::as_select()))
        .load(conn)
}

/// Whether `sha` belongs to a dossier of the applicant with this identity number (reuse).
pub fn owned_by_applicant(
    conn: &mut DbConnection,
    sha: &str,
    id_number: &str,
) -> QueryResult<Option<String>> {
    component_files::table
        .inner_join(dossiers::table.on(dossiers::id.eq(component_files::dossier_id)))
        .filter(component_files::sha256.eq(sha))
        .filter(dossiers::applicant_id_number.eq(id_number))
        .select(dossiers::code)
        .get_result(conn)
        .optional()
}

pub fn set_digitisation(
    conn: &mut DbConnection,
    dossier_id: &str,
    digitised: bool,
    reused: bool,
) -> QueryResult<()> {
    diesel::update(dossiers::table.find(dossier_id))
        .set((
            dossiers::digitised.eq(digitised),
            dossiers::reused.eq(reused),
        ))
        .execute(conn)
        .map(|_| ())
}
