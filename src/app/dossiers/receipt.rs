//! `POST /dossiers`: a clerk's counter receipt (→ received, or refused on the spot) or a
//! portal's online filing (→ submitted), with `Idempotency-Key` replay. The rules are
//! `domain::dossier::receipt`; this loads the procedure, allocates the code and writes.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::dossiers::{self as store, EventRow, IdempotencyRow};
use crate::db::{self, DbConnection, procedures as procedure_store, to_db_time};
use crate::domain::code;
use crate::domain::dossier::receipt::{self as rules, ProcedureVersion};
use crate::domain::state::State;
use crate::error::{AppError, AppResult, Code};

use super::super::procedures::Procedure;
use super::notices::{is_back_entry, notify_applicant, quiet_passed_notices};
use super::{CreateDossierRequest, CreatedDossier, Ctx, history_row, view, warn_beyond_calendar};

fn request_hash(req: &CreateDossierRequest) -> String {
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Receives or files a dossier in one transaction: the code, the lookup key and, on receipt,
/// the due time; the history row and the applicant's email. Answers the status and body (a
/// replay with the same `Idempotency-Key` answers what the first request got).
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    req: &CreateDossierRequest,
    idempotency_key: Option<&str>,
    random: [u8; code::LOOKUP_KEY_LEN],
) -> AppResult<(u16, Value)> {
    let p = ctx.principal;
    rules::admit(req, p.role)?;
    let hash = request_hash(req);
    let result = db::write_tx(conn, |conn| {
        if let Some(key) = idempotency_key
            && let Some(prior) = store::find_idempotency(conn, &p.user_id, key)?
        {
            if prior.request_hash != hash {
                return Err(AppError::new(
                    Code::IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request.",
                ));
            }
            let body = serde_json::from_str(&prior.response).map_err(AppError::internal)?;
            return Ok((u16::try_from(prior.status).unwrap_or(201), body));
        }
        // A back-entered dossier keeps the version in force when it was received.
        let found = match req.received_at {
            Some(t) => {
                procedure_store::find_in_force(conn, &req.procedure_code, to_db_time(t.to_utc()))?
            }
            None => procedure_store::find_current(conn, &req.procedure_code)?,
        };
        let procedure = found.map(Procedure::from_row).transpose()?;
        let version = procedure.as_ref().map(|pr| ProcedureVersion {
            version_id: &pr.version_id,
            definition: &pr.definition,
        });
        let new = rules::receive(req, p.role, version, ctx.cal, ctx.now)?;
        let Some(procedure) = procedure else {
            return Err(AppError::internal("procedure checked by the rules"));
        };
        let agency = &ctx.state.settings.agency.code;
        let seq = store::next_sequence(conn, agency, new.local_date)?;
        let code = code::dossier_code(agency, new.local_date, seq);
        let lookup_key = code::lookup_key(random);
        let d = new.assign(uuid::Uuid::new_v4().to_string(), code.clone(), &lookup_key);
        warn_beyond_calendar(ctx.cal, &d.clock.due_at.into_iter().collect::<Vec<_>>());
        store::insert(conn, &d)?;
        store::insert_event(
            conn,
            &EventRow {
                action: new.action.as_str().to_owned(),
                details: new.details().to_string(),
                ..history_row(&d, None, d.state, p, new.at, ctx.now, &req.note)
            },
        )?;
        let def = &procedure.definition;
        let back_entered = req.received_at.is_some() && is_back_entry(new.at, ctx.now);
        if back_entered {
            // A paper record entered later tells nobody.
            let days = ctx.state.settings.notify.due_soon_working_days;
            quiet_passed_notices(conn, ctx.cal, days, &d, def, ctx.now)?;
        } else if let Some(event) = new.action.notice() {
            let extra = match d.state {
                State::Refused => json!({"reasons": new.refused}),
                _ => json!({"lookup_key": lookup_key}),
            };
            notify_applicant(ctx, conn, &d, def, event, extra)?;
        }
        let created = CreatedDossier {
            dossier: view(ctx.cal, &d, &procedure, p, ctx.now)?,
            lookup_key,
        };
        let body = serde_json::to_value(&created).map_err(AppError::internal)?;
        if let Some(key) = idempotency_key {
            store::insert_idempotency(
                conn,
                &IdempotencyRow {
                    user_id: p.user_id.clone(),
                    key: key.to_owned(),
                    request_hash: hash.clone(),
                    status: 201,
                    response: body.to_string(),
                    created_at: to_db_time(ctx.now),
                },
            )
            .map_err(|e| {
                if db::is_unique_violation(&e) {
                    AppError::new(
                        Code::IdempotencyRace,
                        "A retry with the same key won the race.",
                    )
                } else {
                    e.into()
                }
            })?;
        }
        tracing::info!(dossier.code = %code, action = new.action.as_str(), "dossier created");
        Ok((201, body))
    });
    match result {
        // Two retries with one key raced (PostgreSQL): answer with the winner's response.
        Err(e) if e.code() == Code::IdempotencyRace => {
            let key = idempotency_key.unwrap_or_default();
            let prior = store::find_idempotency(conn, &p.user_id, key)?
                .ok_or_else(|| AppError::internal("idempotency race without a winner"))?;
            Ok((
                u16::try_from(prior.status).unwrap_or(201),
                serde_json::from_str(&prior.response).map_err(AppError::internal)?,
            ))
        }
        other => other,
    }
}
