//! `POST /dossiers`: a clerk's counter receipt (→ received, or refused on the spot) or a
//! portal's online filing (→ submitted), with `Idempotency-Key` replay. The rules are
//! `domain::dossier::receipt`; this loads the procedure, allocates the code and writes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::app::users::Principal;
use crate::db::dossiers::{self as store, EventRow, IdempotencyRow};
use crate::db::{self, DbConnection, procedures as procedure_store, to_db_time};
use crate::domain::calendar::Calendar;
use crate::domain::code;
use crate::domain::dossier::DossierRecord;
use crate::domain::dossier::receipt::{self as rules, ProcedureVersion};
use crate::domain::state::State;
use crate::error::{AppError, AppResult, Code};

use super::super::procedures::Procedure;
use super::notices::{is_back_entry, notify_applicant, quiet_passed_notices};
use super::{CreateDossierRequest, CreatedDossier, Ctx, history_row, view, warn_beyond_calendar};

fn request_hash(req: &CreateDossierRequest) -> String {
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    crate::domain::hex(&Sha256::digest(&bytes))
}

/// Receives or files a dossier in one transaction: the code, the lookup key and, on receipt,
/// the due time; the history row and the applicant's email. Answers the status and body (a
/// replay with the same `Idempotency-Key` answers what the first request got). This is
/// [`prepare`], [`Receipt::write`] in a write transaction and [`Receipt::answer`] on one
/// connection; the API runs the write in the group commit instead (`http::dossiers::receive`).
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    req: &CreateDossierRequest,
    idempotency_key: Option<&str>,
    random: [u8; code::LOOKUP_KEY_LEN],
) -> AppResult<(u16, Value)> {
    match prepare(conn, ctx, req, idempotency_key, random)? {
        Prepared::Replay(answer) => Ok(answer),
        Prepared::Write(job) => match db::write_tx(conn, |c| job.write(c)) {
            Ok(written) => job.answer(written),
            Err(e) if Receipt::lost_race(&e) => job.replay_winner(conn),
            Err(e) => Err(e),
        },
    }
}

/// A receipt request once read and checked: the first request's answer again, or the writes.
pub enum Prepared {
    Replay((u16, Value)),
    Write(Box<Receipt>),
}

/// Reads and checks a receipt request: a replayed `Idempotency-Key`, the procedure version,
/// the receipt rules (checklist, due time). Nothing is written.
///
/// The reads, the rules and the answer's view run outside the write transaction: SQLite lets
/// one writer in at a time and PostgreSQL holds the day's sequence row from its upsert to the
/// commit, so the transaction holds only the writes (the procedure version read just before is
/// the one in force when the clerk pressed the button; versions are never deleted).
pub fn prepare(
    conn: &mut DbConnection,
    ctx: &Ctx,
    req: &CreateDossierRequest,
    idempotency_key: Option<&str>,
    random: [u8; code::LOOKUP_KEY_LEN],
) -> AppResult<Prepared> {
    let p = ctx.principal;
    rules::admit(req, p.role)?;
    // The key with the request's hash (only a request with a key needs it).
    let keyed = idempotency_key.map(|k| (k.to_owned(), request_hash(req)));
    if let Some((key, hash)) = &keyed
        && let Some(prior) = replay(conn, &p.user_id, key, hash)?
    {
        return Ok(Prepared::Replay(prior));
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
    Ok(Prepared::Write(Box::new(Receipt {
        state: ctx.state.clone(),
        cal: ctx.cal.clone(),
        principal: p.clone(),
        now: ctx.now,
        new,
        procedure,
        lookup_key: code::lookup_key(random),
        note: req.note.clone(),
        back_entry: req.received_at.is_some(),
        idempotency: keyed,
    })))
}

/// The receipt's writes and what they need, owned: the group commit runs them on its writer
/// thread, in one transaction with the writes of other requests.
pub struct Receipt {
    state: AppState,
    cal: Arc<Calendar>,
    principal: Principal,
    now: DateTime<Utc>,
    new: rules::NewDossier,
    procedure: Procedure,
    lookup_key: String,
    note: String,
    back_entry: bool,
    /// The `Idempotency-Key` and the request's hash.
    idempotency: Option<(String, String)>,
}

/// The written dossier, and the answer stored with it for replays (when there is a key).
pub struct Written {
    dossier: DossierRecord,
    stored: Option<Value>,
}

impl Receipt {
    /// Allocates the code and writes the dossier, its history row, its notices and the
    /// replayable answer. Runs inside the caller's write transaction.
    pub fn write(&self, conn: &mut DbConnection) -> AppResult<Written> {
        let ctx = Ctx {
            state: &self.state,
            cal: &self.cal,
            principal: &self.principal,
            now: self.now,
        };
        let (new, p) = (&self.new, ctx.principal);
        let agency = &ctx.state.settings.agency.code;
        let seq = store::next_sequence(conn, agency, new.local_date)?;
        let code = code::dossier_code(agency, new.local_date, seq);
        let d = new.assign(uuid::Uuid::new_v4().to_string(), code, &self.lookup_key);
        warn_beyond_calendar(ctx.cal, &d.clock.due_at.into_iter().collect::<Vec<_>>());
        store::insert(conn, &d)?;
        store::insert_event(
            conn,
            &EventRow {
                action: new.action.as_str().to_owned(),
                details: new.details().to_string(),
                ..history_row(&d, None, d.state, p, new.at, ctx.now, &self.note)
            },
        )?;
        let def = &self.procedure.definition;
        if self.back_entry && is_back_entry(new.at, ctx.now) {
            // A paper record entered later tells nobody.
            let days = ctx.state.settings.notify.due_soon_working_days;
            quiet_passed_notices(conn, ctx.cal, days, &d, def, ctx.now)?;
        } else if let Some(event) = new.action.notice() {
            let extra = match d.state {
                State::Refused => json!({"reasons": new.refused}),
                _ => json!({"lookup_key": self.lookup_key}),
            };
            notify_applicant(&ctx, conn, &d, def, event, extra)?;
        }
        // The replayed answer is stored with the dossier, so it is built here.
        let stored = match &self.idempotency {
            Some((key, hash)) => Some(remember(conn, p, key, hash, self.body(&d)?, ctx.now)?),
            None => None,
        };
        Ok(Written { dossier: d, stored })
    }

    /// The 201 answer once the write is committed.
    pub fn answer(&self, written: Written) -> AppResult<(u16, Value)> {
        let d = &written.dossier;
        tracing::info!(dossier.code = %d.code, action = self.new.action.as_str(), "dossier created");
        let body = match written.stored {
            Some(body) => body,
            None => self.body(d)?,
        };
        Ok((201, body))
    }

    /// Whether a write failed because a retry with the same key committed first.
    pub fn lost_race(e: &AppError) -> bool {
        e.code() == Code::IdempotencyRace
    }

    /// The answer of the retry that won the race.
    pub fn replay_winner(&self, conn: &mut DbConnection) -> AppResult<(u16, Value)> {
        let (key, hash) = self.idempotency.clone().unwrap_or_default();
        replay(conn, &self.principal.user_id, &key, &hash)?
            .ok_or_else(|| AppError::internal("idempotency race without a winner"))
    }

    /// The 201 body: the dossier as its receiver sees it, with the lookup key (shown once).
    fn body(&self, d: &DossierRecord) -> AppResult<Value> {
        let created = CreatedDossier {
            dossier: view(&self.cal, d, &self.procedure, &self.principal, self.now)?,
            lookup_key: self.lookup_key.clone(),
        };
        serde_json::to_value(&created).map_err(AppError::internal)
    }
}

/// What the first request with this key got, or an error when the key came with another body.
fn replay(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    hash: &str,
) -> AppResult<Option<(u16, Value)>> {
    let Some(prior) = store::find_idempotency(conn, user_id, key)? else {
        return Ok(None);
    };
    if prior.request_hash != hash {
        return Err(AppError::new(
            Code::IdempotencyKeyReused,
            "This Idempotency-Key was used for a different request.",
        ));
    }
    let body = serde_json::from_str(&prior.response).map_err(AppError::internal)?;
    Ok(Some((u16::try_from(prior.status).unwrap_or(201), body)))
}

/// Stores the answer under the key; a concurrent retry that stored first is a race.
fn remember(
    conn: &mut DbConnection,
    p: &Principal,
    key: &str,
    hash: &str,
    body: Value,
    now: DateTime<Utc>,
) -> AppResult<Value> {
    let row = IdempotencyRow {
        user_id: p.user_id.clone(),
        key: key.to_owned(),
        request_hash: hash.to_owned(),
        status: 201,
        response: body.to_string(),
        created_at: to_db_time(now),
    };
    store::insert_idempotency(conn, &row).map_err(|e| {
        if db::is_unique_violation(&e) {
            AppError::new(
                Code::IdempotencyRace,
                "A retry with the same key won the race.",
            )
        } else {
            e.into()
        }
    })?;
    Ok(body)
}
