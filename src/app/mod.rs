//! Use cases: one function per action, each one transaction. Handlers call these.

pub mod calendar;
pub mod context;
pub mod demo;
pub mod dossiers;
pub mod files;
pub mod forms;
pub mod import;
pub mod notifications;
pub mod procedures;
pub mod public;
pub mod report_page;
pub mod reports;
pub mod throttle;
pub mod units;
pub mod users;

use std::sync::Arc;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DbConnection, Pool};
use crate::error::{AppError, AppResult};

/// Everything a request needs, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub clock: Clock,
    pub calendar: Arc<calendar::CalendarCache>,
    pub templates: Arc<crate::notify::Templates>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// This instance's background jobs, as `/readyz` reports them.
    pub jobs: Arc<crate::health::Health>,
    /// `public.lookup_per_minute` per client address, and the per-code wrong-key lock.
    pub lookup_limiter: Arc<throttle::LookupLimiter>,
    /// The login throttle and the password hashing it guards.
    pub logins: Arc<throttle::LoginThrottle>,
    /// Uploaded files, content-addressed under `storage.dir`.
    pub store: Arc<crate::storage::Store>,
    /// Printable form templates (01–05).
    pub forms: Arc<minijinja::Environment<'static>>,
}

impl AppState {
    /// Runs blocking database work off the async workers (diesel is synchronous).
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        blocking(&self.pool, f).await
    }

    /// Runs a write job in the pool's group commit (`db::group`): one transaction with the
    /// writes waiting at the same moment, no connection held while waiting.
    pub async fn write_grouped<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.pool.group_commit().write(f).await
    }
}

/// Runs blocking database work on a pooled connection off the async threads.
pub async fn blocking<T, F>(pool: &Pool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    // One blocking thread per pooled connection at most: the rest wait here, as futures.
    // Waiting for a permit counts against the same `database.acquire_timeout_ms` as waiting
    // for a connection, so a request still fails fast with 503 when the database is gone.
    let started = std::time::Instant::now();
    let timeout = pool.connection_timeout();
    let permit = tokio::time::timeout(timeout, pool.permits().clone().acquire_owned())
        .await
        .map_err(|_| {
            AppError::database_unavailable(format!(
                "database pool: no connection within {} ms",
                timeout.as_millis()
            ))
        })?
        .map_err(|e| AppError::internal(format!("database pool: {e}")))?;
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let left = timeout.saturating_sub(started.elapsed());
        let mut conn = pool.get_timeout(left.max(std::time::Duration::from_millis(1)))?;
        crate::db::with_write_gate(pool.write_gate().cloned(), || f(&mut conn))
    })
    .await
    .map_err(|e| AppError::internal(format!("blocking task: {e}")))?
}

/// Page parameters shared by every list (`per_page` ≤ 200).
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

/// Reads `page` / `per_page` from a query string: text that is not a whole number becomes an
/// out-of-range value, so that it is refused with the same 422 as a huge one.
pub fn page_param<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let raw: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(raw.map(|s| s.trim().parse::<i64>().unwrap_or(i64::MAX)))
}

impl PageRequest {
    pub const MAX_PER_PAGE: i64 = 200;
    /// Far past any real list; keeps `offset` small for both databases.
    pub const MAX_PAGE: i64 = 1_000_000;

    pub fn new(page: Option<i64>, per_page: Option<i64>) -> AppResult<Self> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(50);
        let mut errors = crate::error::FieldErrors::default();
        errors.check(
            (1..=Self::MAX_PAGE).contains(&page),
            "page",
            "must be a whole number from 1 to 1000000",
        );
        errors.check(
            (1..=Self::MAX_PER_PAGE).contains(&per_page),
            "per_page",
            "must be a whole number from 1 to 200",
        );
        errors.into_result()?;
        Ok(PageRequest { page, per_page })
    }

    pub fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}
