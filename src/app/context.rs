//! What every dossier use case needs besides the connection, and the one answer to "may this
//! user see this dossier" (dossiers, their files and forms all ask it here).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::db::DbConnection;
use crate::db::dossiers as store;
use crate::domain::calendar::Calendar;
use crate::domain::dossier::DossierRecord;
use crate::error::{AppError, AppResult, Code};

use super::AppState;
use super::users::Principal;

pub struct Ctx<'a> {
    pub state: &'a AppState,
    /// Shared, so that a job run on another thread (group commit) can hold it.
    pub cal: &'a Arc<Calendar>,
    pub principal: &'a Principal,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    pub fn tz(&self) -> Tz {
        self.cal.settings().timezone()
    }

    /// A time as emails and forms print it, in the agency's zone.
    pub fn fmt(&self, t: Option<DateTime<Utc>>) -> Option<String> {
        t.map(|t| {
            t.with_timezone(&self.tz())
                .format("%H:%M %d/%m/%Y")
                .to_string()
        })
    }
}

/// Officers and leaders see dossiers now in their unit or that passed through it; every other
/// staff role sees all.
pub fn can_see(conn: &mut DbConnection, p: &Principal, d: &DossierRecord) -> AppResult<bool> {
    if !p.role.needs_unit() {
        return Ok(true);
    }
    let Some(unit) = &p.unit_code else {
        return Ok(false);
    };
    Ok(d.holding_unit() == unit || store::passed_through(conn, &d.id, unit)?)
}

/// The dossier if the caller may see it (404 otherwise, without telling why).
pub fn visible_dossier(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
) -> AppResult<DossierRecord> {
    match store::find_by_code(conn, dossier_code)? {
        Some(d) if can_see(conn, ctx.principal, &d)? => Ok(d),
        _ => Err(AppError::new(
            Code::DossierNotFound,
            format!("No dossier {dossier_code}."),
        )),
    }
}
