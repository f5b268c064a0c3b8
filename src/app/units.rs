//! Handling units (cơ quan / đơn vị giải quyết).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::units::UnitRow;
use crate::db::{self, DbConnection, to_db_time, units};
use crate::error::{AppError, AppResult, Code, FieldErrors};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// The unit's address for staff notices.
    pub email: Option<String>,
}

impl From<UnitRow> for Unit {
    fn from(r: UnitRow) -> Self {
        Unit {
            code: r.code,
            name: r.name,
            email: r.email,
        }
    }
}

pub fn list_units(conn: &mut DbConnection) -> AppResult<Vec<Unit>> {
    Ok(units::list_units(conn)?
        .into_iter()
        .map(Unit::from)
        .collect())
}

pub fn create_unit(conn: &mut DbConnection, req: &Unit, now: DateTime<Utc>) -> AppResult<Unit> {
    let mut errors = FieldErrors::default();
    errors.check(
        (1..=50).contains(&req.code.len())
            && req
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
        "code",
        "must be 1–50 letters, digits, '.', '_' or '-'",
    );
    errors.check(
        !req.name.trim().is_empty() && req.name.chars().count() <= 300,
        "name",
        "must be 1–300 characters",
    );
    if let Some(e) = &req.email {
        errors.check(
            crate::domain::email::valid_email(e),
            "email",
            "is not an email address",
        );
    }
    errors.into_result()?;
    let row = UnitRow {
        code: req.code.clone(),
        name: req.name.trim().to_owned(),
        email: req.email.clone(),
        created_at: to_db_time(now),
    };
    db::write_tx(conn, |conn| {
        units::insert_unit(conn, &row).map_err(|e| {
            if db::is_unique_violation(&e) {
                AppError::new(
                    Code::UnitExists,
                    format!("Unit {:?} already exists.", row.code),
                )
            } else {
                e.into()
            }
        })
    })?;
    Ok(row.into())
}
