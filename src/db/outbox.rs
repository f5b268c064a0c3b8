//! The notification outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::outbox;
use super::{DbConnection, parse_stored};

/// Where a message stands: waiting (or retrying), claimed by a worker, sent, given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutboxStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown outbox status {s:?}"))
    }
}

use OutboxStatus::{Failed, Pending, Sending, Sent};

/// One message of the outbox, as it leaves this module.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: String,
    pub event: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub idempotency_key: String,
    pub message_id: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The stored shape (status as text).
// NULL binds, one statement shape, found prepared by its type (see `EventRow`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
struct StoredRow {
    pub id: String,
    pub event: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub idempotency_key: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl StoredRow {
    fn into_row(self) -> QueryResult<OutboxRow> {
        Ok(OutboxRow {
            status: parse_stored("outbox.status", &self.status)?,
            id: self.id,
            event: self.event,
            dossier_id: self.dossier_id,
            dossier_code: self.dossier_code,
            recipient: self.recipient,
            language: self.language,
            subject: self.subject,
            body_text: self.body_text,
            body_html: self.body_html,
            idempotency_key: self.idempotency_key,
            message_id: self.message_id,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            locked_until: self.locked_until,
            last_error: self.last_error,
            created_at: self.created_at,
            sent_at: self.sent_at,
        })
    }

    fn from_row(r: &OutboxRow) -> Self {
        StoredRow {
            id: r.id.clone(),
            event: r.event.clone(),
            dossier_id: r.dossier_id.clone(),
            dossier_code: r.dossier_code.clone(),
            recipient: r.recipient.clone(),
            language: r.language.clone(),
            subject: r.subject.clone(),
            body_text: r.body_text.clone(),
            body_html: r.body_html.clone(),
            idempotency_key: r.idempotency_key.clone(),
            message_id: r.message_id.clone(),
            status: r.status.as_str().to_owned(),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            locked_until: r.locked_until,
            last_error: r.last_error.clone(),
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

pub fn exists(conn: &mut DbConnection, key: &str) -> QueryResult<bool> {
    outbox::table
        .filter(outbox::idempotency_key.eq(key))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

pub fn insert(conn: &mut DbConnection, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(StoredRow::from_row(row))
        .execute(conn)
        .map(|_| ())
}

/// Rows ready to send: pending and due, or left `sending` by a worker that died (lease over).
pub fn candidates(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(
            outbox::status
                .eq(Pending.as_str())
                .and(outbox::next_attempt_at.le(now))
                .or(outbox::status
                    .eq(Sending.as_str())
                    .and(outbox::locked_until.lt(now))),
        )
        .order(outbox::next_attempt_at)
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Takes one row for this worker until `lease_until`. Answers false when another worker took
/// it first: the status/lease guard is re-checked by the UPDATE itself, so on PostgreSQL a
/// concurrent claimer waits for the winner's commit and then matches no row.
pub fn claim(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        outbox::table.filter(outbox::id.eq(id)).filter(
            outbox::status
                .eq(Pending.as_str())
                .and(outbox::next_attempt_at.le(now))
                .or(outbox::status
                    .eq(Sending.as_str())
                    .and(outbox::locked_until.lt(now))),
        ),
    )
    .set((
        outbox::status.eq(Sending.as_str()),
        outbox::locked_until.eq(lease_until),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<OutboxRow> {
    outbox::table
        .find(id)
        .select(StoredRow::as_select())
        .get_result(conn)?
        .into_row()
}

pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(Sent.as_str()),
            outbox::attempts.eq(attempts),
            outbox::sent_at.eq(Some(at)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_retry(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    status: OutboxStatus,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(next),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn list(
    conn: &mut DbConnection,
    dossier_code: Option<&str>,
    status: Option<OutboxStatus>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<OutboxRow>, i64)> {
    let build = || {
        let mut q = outbox::table.into_boxed();
        if let Some(c) = dossier_code {
            q = q.filter(outbox::dossier_code.eq(c.to_owned()));
        }
        if let Some(s) = status {
            q = q.filter(outbox::status.eq(s.as_str()));
        }
        q
    };
    let rows = build()
        .order((outbox::created_at.desc(), outbox::id))
        .offset(offset)
        .limit(limit)
        .select(StoredRow::as_select())
        .load(conn)?
        .into_iter()
        .map(StoredRow::into_row)
        .collect::<QueryResult<_>>()?;
    Ok((rows, build().count().get_result(conn)?))
}

/// Gives a claimed row back (a worker stopping before it sent it): pending again and due at
/// once, so this or another instance takes it without waiting for the lease to end. Only
/// while the claim is still this worker's (`lease_until`, the lease it was claimed with).
pub fn release(conn: &mut DbConnection, id: &str, lease_until: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(Sending.as_str()))
            .filter(outbox::locked_until.eq(lease_until)),
    )
    .set((
        outbox::status.eq(Pending.as_str()),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Messages not yet sent (pending, or claimed by a worker) and the creation time of the oldest.
pub fn unsent(conn: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    outbox::table
        .filter(outbox::status.eq_any([Pending.as_str(), Sending.as_str()]))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .get_result(conn)
}

/// Deletes rows sent before `sent_before` and rows given up before `failed_before` (their
/// bodies hold lookup keys). Answers how many went.
pub fn prune(
    conn: &mut DbConnection,
    sent_before: NaiveDateTime,
    failed_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        outbox::table.filter(
            outbox::status
                .eq(Sent.as_str())
                .and(outbox::sent_at.lt(sent_before))
                .or(outbox::status
                    .eq(Failed.as_str())
                    .and(outbox::next_attempt_at.lt(failed_before))),
        ),
    )
    .execute(conn)
}
