//! The outbox worker: claims due rows (safe with several instances on one database), sends
//! them over SMTP with lettre, and retries with exponential backoff and jitter.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::app::AppState;
use crate::db::outbox::{self, OutboxRow};
use crate::db::{self, from_db_time, to_db_time};
use crate::error::{AppError, AppResult};

/// How long a claimed row stays reserved for its worker; a worker that dies mid-send leaves
/// the row to be taken again after this (the stable Message-ID marks the resend).
const LEASE: TimeDelta = TimeDelta::minutes(2);
const BATCH: i64 = 20;

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp.url` unset: email is off (rows stay pending).
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Self, String> {
        let from: Mailbox = settings
            .smtp
            .from
            .parse()
            .map_err(|e| format!("configuration key `smtp.from`: {e}"))?;
        let transport = match &settings.smtp.url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| format!("configuration key `smtp.url`: {e}"))?
                    .timeout(Some(Duration::from_secs(settings.smtp.timeout_seconds)))
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }

    fn message(&self, row: &OutboxRow) -> Result<Message, String> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .header(header::Date::new(std::time::SystemTime::now()))
            .multipart(MultiPart::alternative_plain_html(
                row.body_text.clone(),
                row.body_html.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}

/// Backoff after `attempts` failures: base × 2^(attempts−1), at most an hour, ±20 % jitter so
/// that instances retrying together spread out.
pub fn backoff(base: TimeDelta, attempts: i32) -> TimeDelta {
    let exp = base * 2i32.saturating_pow(u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0));
    let capped = exp.min(TimeDelta::hours(1));
    let jitter: f64 = rand::random_range(0.8..1.2);
    TimeDelta::milliseconds((capped.num_milliseconds() as f64 * jitter) as i64)
}

/// Claims up to a batch of due rows for this worker.
fn claim_batch(conn: &mut db::DbConnection, now: DateTime<Utc>) -> AppResult<Vec<OutboxRow>> {
    db::write_tx(conn, |conn| {
        let now_db = to_db_time(now);
        let lease = to_db_time(now + LEASE);
        let mut claimed = Vec::new();
        for id in outbox::candidates(conn, now_db, BATCH)? {
            if outbox::claim(conn, &id, now_db, lease)? {
                claimed.push(outbox::find(conn, &id)?);
            }
        }
        Ok::<_, AppError>(claimed)
    })
}

/// One pass: claim, send, record. Answers how many rows were sent.
pub async fn run_once(state: &AppState, mailer: &Mailer) -> AppResult<usize> {
    use futures_util::StreamExt;
    let Some(transport) = &mailer.transport else {
        return Ok(0);
    };
    let now = Utc::now();
    let rows = state.run(move |conn| claim_batch(conn, now)).await?;
    // Several conversations at once: one SMTP exchange waits on round trips
    // (and on the client's Nagle delay against the server's delayed ACK, ~40 ms on Linux).
    let outcomes: Vec<AppResult<bool>> = futures_util::stream::iter(rows)
        .map(|row| deliver(state, mailer, transport, row))
        .buffer_unordered(PARALLEL_SENDS)
        .collect()
        .await;
    let mut sent = 0;
    for outcome in outcomes {
        if outcome? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Messages in flight at once per worker.
const PARALLEL_SENDS: usize = 8;

/// Sends one claimed row and records the outcome; answers whether it was sent.
async fn deliver(
    state: &AppState,
    mailer: &Mailer,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    row: OutboxRow,
) -> AppResult<bool> {
    let attempts = row.attempts + 1;
    let result = match mailer.message(&row) {
        Ok(m) => transport
            .send(m)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let max = state.settings.smtp.max_attempts;
    let base = TimeDelta::milliseconds(i64::from(state.settings.smtp.retry_base_ms));
    let id = row.id.clone();
    let ok = result.is_ok();
    state
        .run(move |conn| {
            let at = to_db_time(Utc::now());
            match &result {
                Ok(()) => outbox::mark_sent(conn, &id, attempts, at)?,
                Err(e) => {
                    let status = if attempts >= max { "failed" } else { "pending" };
                    let next = to_db_time(from_db_time(at) + backoff(base, attempts));
                    outbox::mark_retry(conn, &id, attempts, status, next, e)?;
                }
            }
            Ok(())
        })
        .await?;
    if ok {
        state.metrics.emails_sent.inc();
    } else {
        if attempts >= max {
            state.metrics.emails_failed.inc();
        }
        tracing::warn!(outbox.id = %row.id, outbox.attempts = attempts, "email not sent; will retry");
    }
    Ok(ok)
}

/// Runs until `stop` flips: sends due rows every poll interval.
pub async fn run(state: AppState, mailer: Mailer, mut stop: tokio::sync::watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings.smtp.poll_interval_ms);
    loop {
        match run_once(&state, &mailer).await {
            Ok(n) if n == BATCH as usize => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error.cause = %e, "outbox worker"),
        }
        if let Ok(pending) = state
            .run(|conn| Ok(outbox::count_by_status(conn, "pending")?))
            .await
        {
            state.metrics.emails_pending.set(pending);
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
    }
}
