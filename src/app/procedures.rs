//! The procedure catalogue: versioned definitions; a dossier keeps the version it was
//! received under.

use chrono::{DateTime, Utc};

use crate::clock::ApiTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::procedures::{self as store, ProcedureRow};
use crate::db::{self, DbConnection, from_db_time, to_db_time, units};
use crate::domain::procedure::ProcedureDefinition;
use crate::error::{AppError, AppResult, Code, FieldErrors};

use super::{Page, PageRequest};

/// A procedure version as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Procedure {
    #[serde(flatten)]
    pub definition: ProcedureDefinition,
    pub version: i32,
    /// Internal id of this version (dossiers point at it).
    pub version_id: String,
    pub updated_at: ApiTime,
}

impl Procedure {
    pub fn from_row(row: ProcedureRow) -> AppResult<Self> {
        let definition: ProcedureDefinition =
            serde_json::from_str(&row.definition).map_err(|e| {
                AppError::internal(format!("procedure {} v{}: {e}", row.code, row.version))
            })?;
        Ok(Procedure {
            definition,
            version: row.version,
            version_id: row.id,
            updated_at: from_db_time(row.created_at).into(),
        })
    }
}

fn validate(
    conn: &mut DbConnection,
    def: &ProcedureDefinition,
    day_length: chrono::TimeDelta,
) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    for (field, message) in def.problems(day_length) {
        errors.add(&field, message);
    }
    for (i, code) in def.unit_codes().enumerate() {
        if units::find_unit(conn, code)?.is_none() {
            let field = if i == 0 {
                "unit_code".to_owned()
            } else {
                format!("steps[{}].unit_code", i - 1)
            };
            errors.add(&field, format!("unknown unit {code:?}"));
        }
    }
    errors.into_result()
}

fn insert_version(
    conn: &mut DbConnection,
    def: &ProcedureDefinition,
    version: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> AppResult<Procedure> {
    let row = ProcedureRow {
        id: uuid::Uuid::new_v4().to_string(),
        code: def.code.clone(),
        version,
        is_current: true,
        name: def.name.trim().to_owned(),
        field: def.field.trim().to_owned(),
        unit_code: def.unit_code.clone(),
        definition: serde_json::to_string(def).map_err(AppError::internal)?,
        created_by: actor.to_owned(),
        created_at: to_db_time(now),
    };
    store::insert(conn, &row)?;
    Procedure::from_row(row)
}

pub fn create(
    conn: &mut DbConnection,
    actor: &str,
    def: &ProcedureDefinition,
    day_length: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> AppResult<Procedure> {
    db::write_tx(conn, |conn| {
        validate(conn, def, day_length)?;
        if store::find_current(conn, &def.code)?.is_some() {
            return Err(AppError::new(
                Code::ProcedureExists,
                format!(
                    "Procedure {} exists; PUT /api/v1/procedures/{} makes a new version.",
                    def.code, def.code
                ),
            ));
        }
        insert_version(conn, def, 1, actor, now)
    })
}

/// Makes a new version; earlier versions stay for the dossiers received under them.
pub fn update(
    conn: &mut DbConnection,
    actor: &str,
    code: &str,
    def: &ProcedureDefinition,
    day_length: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> AppResult<Procedure> {
    if def.code != code {
        return Err(AppError::invalid_field(
            "code",
            format!("must be {code:?}, the code in the path"),
        ));
    }
    db::write_tx(conn, |conn| {
        validate(conn, def, day_length)?;
        let current = store::find_current(conn, code)?.ok_or_else(|| {
            AppError::new(Code::ProcedureNotFound, format!("No procedure {code}."))
        })?;
        store::retire(conn, &current.id)?;
        insert_version(conn, def, current.version + 1, actor, now)
    })
}

/// Creates or updates (only when the definition changed): `motcua import procedures` and demo data.
pub fn upsert(
    conn: &mut DbConnection,
    actor: &str,
    def: &ProcedureDefinition,
    day_length: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> AppResult<Option<Procedure>> {
    match store::find_current(conn, &def.code)? {
        None => create(conn, actor, def, day_length, now).map(Some),
        Some(row) if Procedure::from_row(row.clone())?.definition == *def => Ok(None),
        Some(_) => update(conn, actor, &def.code, def, day_length, now).map(Some),
    }
}

pub fn get(conn: &mut DbConnection, code: &str) -> AppResult<Procedure> {
    let row = store::find_current(conn, code)?
        .ok_or_else(|| AppError::new(Code::ProcedureNotFound, format!("No procedure {code}.")))?;
    Procedure::from_row(row)
}

pub fn list(
    conn: &mut DbConnection,
    field: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<Procedure>> {
    let (rows, total) = store::list_current(conn, field, page.offset(), page.per_page)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(Procedure::from_row)
            .collect::<AppResult<_>>()?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}
