//! The applicant's status lookup: dossier code + lookup key, minimal fields.

use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::ApiTime;
use crate::db::DbConnection;
use crate::db::dossiers::{self as store};
use crate::domain::code::{hash_lookup_key, lookup_key_matches};
use crate::domain::state::State;
use crate::error::{AppError, AppResult, Code};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureName {
    pub code: String,
    pub name: String,
}

/// What anyone holding the code and the key may see: no personal data but a masked name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStatus {
    pub code: String,
    pub procedure: ProcedureName,
    pub state: State,
    pub status_label: &'static str,
    pub received_at: Option<ApiTime>,
    pub due_at_current: Option<ApiTime>,
    pub resolved_at: Option<ApiTime>,
    pub delivered_at: Option<ApiTime>,
    pub applicant_masked: String,
}

/// "Công ty TNHH Minh Long" → "C*** t* T*** M*** L***": recognisable to its owner only.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            first + &"*".repeat(chars.count())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn not_found() -> AppError {
    AppError::new(Code::LookupNotFound, "No dossier with this code and key.")
}

pub fn lookup(conn: &mut DbConnection, tz: Tz, code: &str, key: &str) -> AppResult<PublicStatus> {
    let row = store::find_for_lookup(conn, code.trim())?;
    // An unknown code costs the same hash as a wrong key, so timing does not tell them apart.
    let matches = match &row {
        Some(r) => lookup_key_matches(&r.code, &r.lookup_key_hash, key),
        None => {
            let _ = hash_lookup_key(code, key);
            false
        }
    };
    let Some(row) = row.filter(|_| matches) else {
        return Err(not_found());
    };
    // Written in the agency's zone (the one `tz` names), to the second.
    debug_assert_eq!(tz, crate::clock::agency_zone());
    let local = ApiTime::opt;
    Ok(PublicStatus {
        procedure: ProcedureName {
            code: row.procedure_code,
            name: row.procedure_name,
        },
        state: row.state,
        status_label: row.state.label_vi(),
        received_at: local(row.received_at),
        due_at_current: local(row.due_at_current),
        resolved_at: local(row.resolved_at),
        delivered_at: local(row.delivered_at),
        applicant_masked: mask_name(&row.applicant_name),
        code: row.code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_word_by_word() {
        assert_eq!(
            mask_name("Công ty TNHH Minh Long"),
            "C*** t* T*** M*** L***"
        );
        assert_eq!(mask_name("Nguyễn Văn An"), "N***** V** A*");
    }
}
