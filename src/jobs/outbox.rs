//! The outbox worker: claims due rows (safe with several instances on one database), sends
//! them over SMTP, retries with exponential backoff and jitter, and keeps the outbox gauges.
//! At shutdown it sends no new message: those in flight finish or, at the deadline, are
//! released with the rest of its claims.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Job, JobContext, JobError, Pass};
use crate::config::Settings;
use crate::db::outbox::{self, OutboxRow, OutboxStatus};
use crate::db::{self, from_db_time, to_db_time};
use crate::error::{AppError, AppResult};
use crate::notify::mailer::Mailer;

const BATCH: i64 = 20;
/// Messages in flight at once per worker: one SMTP exchange waits on round trips (and on
/// the client's Nagle delay against the server's delayed ACK, ~40 ms on Linux).
const PARALLEL_SENDS: usize = 8;

pub struct OutboxWorker {
    mailer: Mailer,
    /// Rows this worker has claimed and not yet recorded, with their lease: given back if it
    /// stops first.
    held: Arc<Mutex<HashMap<String, chrono::NaiveDateTime>>>,
}

impl OutboxWorker {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let mailer = Mailer::from_settings(settings)?;
        if !mailer.enabled() {
            tracing::warn!(
                "smtp.url is not set: emails are written to the outbox and stay pending"
            );
        }
        Ok(OutboxWorker {
            mailer,
            held: Arc::default(),
        })
    }

    pub fn sends(&self) -> bool {
        self.mailer.enabled()
    }

    /// One batch: claim, send, record. Answers how many were claimed and sent and the last
    /// SMTP error.
    pub async fn send_due(&self, ctx: &JobContext) -> AppResult<Batch> {
        use futures_util::StreamExt;
        if !self.mailer.enabled() {
            return Ok(Batch::default());
        }
        let now = Utc::now();
        let lease = lease(&ctx.settings);
        let rows = ctx
            .blocking(move |conn| claim_batch(conn, now, lease))
            .await?;
        self.hold(
            rows.iter()
                .filter_map(|r| Some((r.id.clone(), r.locked_until?))),
        );
        let claimed = rows.len();
        let outcomes: Vec<AppResult<Option<Result<(), String>>>> = futures_util::stream::iter(rows)
            .map(|row| self.deliver(ctx, row))
            .buffer_unordered(PARALLEL_SENDS)
            .collect()
            .await;
        // Rows skipped because shutdown began.
        self.release(ctx).await?;
        let mut batch = Batch {
            claimed,
            ..Batch::default()
        };
        for outcome in outcomes {
            match outcome? {
                Some(Ok(())) => batch.sent += 1,
                Some(Err(e)) => {
                    batch.failed += 1;
                    batch.last_error = Some(e);
                }
                None => {}
            }
        }
        Ok(batch)
    }

    /// Sends one claimed row and records the outcome; `None` when shutdown began first.
    async fn deliver(
        &self,
        ctx: &JobContext,
        row: OutboxRow,
    ) -> AppResult<Option<Result<(), String>>> {
        if ctx.is_stopping() {
            return Ok(None);
        }
        // The claim is this worker's until its lease ends (`outbox.lease_seconds`); after that
        // another instance may take the row. So no conversation runs past the lease, with a
        // fifth of it left to record the outcome: a row still queued that late is given back.
        let lease = lease(&ctx.settings);
        let budget = row
            .locked_until
            .map(|until| from_db_time(until) - Utc::now() - lease / 5)
            .and_then(|left| left.to_std().ok())
            .filter(|left| !left.is_zero());
        let Some(budget) = budget else {
            return Ok(None);
        };
        let attempts = row.attempts + 1;
        let result = match tokio::time::timeout(budget, self.mailer.send(&row)).await {
            Ok(sent) => sent,
            Err(_) => Err("gave up before the claim's lease ended (outbox.lease_seconds)".into()),
        };
        let max = ctx.settings.smtp.max_attempts;
        let base = TimeDelta::milliseconds(i64::from(ctx.settings.smtp.retry_base_ms));
        let id = row.id.clone();
        let recorded = result.clone();
        ctx.blocking(move |conn| {
            let at = to_db_time(Utc::now());
            match &recorded {
                Ok(()) => outbox::mark_sent(conn, &id, attempts, at)?,
                Err(e) => {
                    let status = if attempts >= max {
                        OutboxStatus::Failed
                    } else {
                        OutboxStatus::Pending
                    };
                    let next = to_db_time(from_db_time(at) + backoff(base, attempts));
                    outbox::mark_retry(conn, &id, attempts, status, next, e)?;
                }
            }
            Ok(())
        })
        .await?;
        self.unhold(&row.id);
        match &result {
            Ok(()) => ctx.metrics.emails_sent.inc(),
            Err(e) => {
                if attempts >= max {
                    ctx.metrics.emails_failed.inc();
                }
                tracing::warn!(outbox.id = %row.id, outbox.attempts = attempts, error.cause = %e, "email not sent; will retry");
            }
        }
        Ok(Some(result))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, chrono::NaiveDateTime>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn hold(&self, claims: impl Iterator<Item = (String, chrono::NaiveDateTime)>) {
        self.held().extend(claims);
    }

    fn unhold(&self, id: &str) {
        self.held().remove(id);
    }

    /// Gives back every row still held.
    async fn release(&self, ctx: &JobContext) -> AppResult<()> {
        let claims: Vec<(String, chrono::NaiveDateTime)> =
            self.held().iter().map(|(id, l)| (id.clone(), *l)).collect();
        if claims.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = claims.iter().map(|c| c.0.clone()).collect();
        let n = ctx
            .blocking(move |conn| {
                db::write_tx(conn, |conn| {
                    let mut n = 0;
                    for (id, lease) in &claims {
                        n += usize::from(outbox::release(conn, id, *lease)?);
                    }
                    Ok::<_, AppError>(n)
                })
            })
            .await?;
        for id in &ids {
            self.unhold(id);
        }
        tracing::info!(
            outbox.released = n,
            "stopping: claimed emails given back to be sent later"
        );
        Ok(())
    }
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct Batch {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    pub last_error: Option<String>,
}

impl Job for OutboxWorker {
    const NAME: &'static str = "outbox";

    fn every(&self, settings: &Settings) -> Duration {
        Duration::from_millis(settings.smtp.poll_interval_ms)
    }

    async fn run(&mut self, ctx: &JobContext) -> Result<Pass, JobError> {
        let batch = self.send_due(ctx).await?;
        refresh_gauges(ctx).await?;
        if let Some(e) = batch.last_error {
            return Err(format!(
                "{} of {} emails not sent (will retry): {e}",
                batch.failed, batch.claimed
            )
            .into());
        }
        Ok(if batch.claimed as i64 == BATCH {
            Pass::More
        } else {
            Pass::Done
        })
    }

    async fn abandoned(&mut self, ctx: &JobContext) {
        if let Err(e) = self.release(ctx).await {
            tracing::error!(error.cause = %e, "releasing claimed emails; their lease will expire");
        }
    }
}

/// `motcua_outbox_pending` and `motcua_outbox_oldest_pending_seconds`.
async fn refresh_gauges(ctx: &JobContext) -> AppResult<()> {
    let now = ctx.clock.now();
    let (pending, oldest) = ctx.blocking(|conn| Ok(outbox::unsent(conn)?)).await?;
    ctx.metrics.outbox_pending.set(pending);
    ctx.metrics
        .outbox_oldest_pending_seconds
        .set(oldest.map_or(0, |t| age_seconds(now, t)));
    Ok(())
}

/// Seconds from `created` to `now`, never negative.
pub fn age_seconds(now: DateTime<Utc>, created: chrono::NaiveDateTime) -> i64 {
    (now - from_db_time(created)).num_seconds().max(0)
}

/// Backoff after `attempts` failures: base × 2^(attempts−1), at most an hour, ±20 % jitter so
/// that instances retrying together spread out.
pub fn backoff(base: TimeDelta, attempts: i32) -> TimeDelta {
    let exp = base * 2i32.saturating_pow(u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0));
    let capped = exp.min(TimeDelta::hours(1));
    let jitter: f64 = rand::random_range(0.8..1.2);
    TimeDelta::milliseconds((capped.num_milliseconds() as f64 * jitter) as i64)
}

/// How long a claimed row stays reserved for its worker (`outbox.lease_seconds`); a worker
/// that dies mid-send leaves the row to be taken again after this (the stable Message-ID marks
/// the resend).
fn lease(settings: &Settings) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(settings.outbox.lease_seconds).unwrap_or(86_400))
}

/// Claims up to a batch of due rows for this worker.
fn claim_batch(
    conn: &mut db::DbConnection,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> AppResult<Vec<OutboxRow>> {
    db::write_tx(conn, |conn| {
        let now_db = to_db_time(now);
        let lease = to_db_time(now + lease);
        let mut claimed = Vec::new();
        for id in outbox::candidates(conn, now_db, BATCH)? {
            if outbox::claim(conn, &id, now_db, lease)? {
                claimed.push(outbox::find(conn, &id)?);
            }
        }
        Ok::<_, AppError>(claimed)
    })
}
