//! The notification outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::outbox;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
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
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
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
        .values(row)
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
                .eq("pending")
                .and(outbox::next_attempt_at.le(now))
                .or(outbox::status
                    .eq("sending")
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
                .eq("pending")
                .and(outbox::next_attempt_at.le(now))
                .or(outbox::status
                    .eq("sending")
                    .and(outbox::locked_until.lt(now))),
        ),
    )
    .set((
        outbox::status.eq("sending"),
        outbox::locked_until.eq(lease_until),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<OutboxRow> {
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
}

pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
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
    status: &str,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
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
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<OutboxRow>, i64)> {
    let build = || {
        let mut q = outbox::table.into_boxed();
        if let Some(c) = dossier_code {
            q = q.filter(outbox::dossier_code.eq(c.to_owned()));
        }
        if let Some(s) = status {
            q = q.filter(outbox::status.eq(s.to_owned()));
        }
        q
    };
    let rows = build()
        .order((outbox::created_at.desc(), outbox::id))
        .offset(offset)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?;
    Ok((rows, build().count().get_result(conn)?))
}

/// Gives a claimed row back (a worker stopping before it sent it): pending again and due at
/// once, so this or another instance takes it without waiting for the lease to end. Only
/// while the claim is still this worker's (`lease_until`, the lease it was claimed with).
pub fn release(conn: &mut DbConnection, id: &str, lease_until: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq("sending"))
            .filter(outbox::locked_until.eq(lease_until)),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Messages not yet sent (pending, or claimed by a worker) and the creation time of the oldest.
pub fn unsent(conn: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    outbox::table
        .filter(outbox::status.eq_any(["pending", "sending"]))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .first(conn)
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
                .eq("sent")
                .and(outbox::sent_at.lt(sent_before))
                .or(outbox::status
                    .eq("failed")
                    .and(outbox::next_attempt_at.lt(failed_before))),
        ),
    )
    .execute(conn)
}
