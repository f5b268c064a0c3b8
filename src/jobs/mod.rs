//! Background jobs: the outbox worker, the due-time watcher, the idempotency-key purge, the
//! outbox retention and the orphan-file sweep. [`start`] lists them all; one runner ([`drive`]) repeats each job's pass
//! at its interval, records its health, and stops it at shutdown.
//!
//! A job gets a [`JobContext`] (pool, settings, calendar, templates, metrics, clock), never the
//! HTTP state. Several instances may run the same jobs on one PostgreSQL database: each job is
//! written so that two passes at once do the work once (row claims, notice keys, idempotent
//! deletes).
//!
//! Adding a job: a type implementing [`Job`] (a name, an interval, one pass) and one
//! `jobs.add(…)` line in [`start`].

pub mod outbox;
pub mod retention;
pub mod watcher;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::calendar::CalendarCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DbConnection, Pool};
use crate::error::AppResult;
use crate::metrics::Metrics;
use crate::notify::Templates;
use crate::storage::Store;

pub use crate::health::{Health, JobStatus, Snapshot};

/// A pass's failure, as logged and shown by `/readyz`.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// What a pass tells the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Wait for the interval.
    Done,
    /// Work is left (a full batch): run again at once.
    More,
}

/// A background job: one pass at a time, repeated by the runner.
pub trait Job: Send + 'static {
    /// The name in logs, `/readyz` and the `job` label of the metrics.
    const NAME: &'static str;

    /// Pause between passes.
    fn every(&self, settings: &Settings) -> Duration;

    /// One pass. At shutdown a pass gets until the deadline to finish, then it is dropped.
    fn run(&mut self, ctx: &JobContext) -> impl Future<Output = Result<Pass, JobError>> + Send;

    /// Called after a pass was dropped at the shutdown deadline: give back what it held.
    fn abandoned(&mut self, _ctx: &JobContext) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// What a job may use.
#[derive(Clone)]
pub struct JobContext {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub calendar: Arc<CalendarCache>,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    /// Uploaded files (the orphan sweep).
    pub store: Arc<Store>,
    /// The business clock (due times, idempotency keys); SMTP timing uses the real one.
    pub clock: Clock,
    /// `Some(deadline)` once the jobs are told to stop.
    stop: Arc<watch::Sender<Option<Instant>>>,
}

impl JobContext {
    pub fn new(
        pool: Pool,
        settings: Arc<Settings>,
        calendar: Arc<CalendarCache>,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
        store: Arc<Store>,
        clock: Clock,
    ) -> Self {
        JobContext {
            pool,
            settings,
            calendar,
            templates,
            metrics,
            store,
            clock,
            stop: Arc::new(watch::channel(None).0),
        }
    }

    /// Runs blocking database work off the async threads (diesel is synchronous).
    pub async fn blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        crate::app::blocking(&self.pool, f).await
    }

    /// Whether shutdown has begun (long passes check it between pieces of work).
    pub fn is_stopping(&self) -> bool {
        self.stop.borrow().is_some()
    }

    /// Resolves when shutdown begins, with its deadline.
    pub async fn stopping(&self) -> Instant {
        let mut rx = self.stop.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(deadline) => deadline.unwrap_or_else(Instant::now),
            Err(_) => Instant::now(),
        }
    }
}

/// The running jobs of one instance.
pub struct Jobs {
    ctx: JobContext,
    health: Arc<Health>,
    enabled: bool,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

/// Registers every job in `health` and, when `jobs.enabled`, starts them on the current
/// tokio runtime. The one list of jobs.
pub fn start(ctx: &JobContext, health: Arc<Health>) -> Result<Jobs, String> {
    let enabled = ctx.settings.jobs.enabled;
    if enabled {
        ctx.metrics
            .register_outbox_gauges()
            .map_err(|e| format!("metrics: {e}"))?;
    }
    let mut jobs = Jobs {
        ctx: ctx.clone(),
        health,
        enabled,
        handles: Vec::new(),
    };
    jobs.add(outbox::OutboxWorker::new(&ctx.settings)?);
    jobs.add(watcher::DueWatcher);
    jobs.add(retention::IdempotencyPurge);
    jobs.add(retention::OutboxRetention);
    jobs.add(retention::OrphanFileSweep);
    if !enabled {
        tracing::info!("jobs.enabled is false: this instance serves HTTP only");
    }
    Ok(jobs)
}

impl Jobs {
    fn add<J: Job>(&mut self, job: J) {
        let every = job.every(&self.ctx.settings);
        let metrics = self.enabled.then_some(&*self.ctx.metrics);
        let status = self.health.register(J::NAME, every, metrics);
        if self.enabled {
            // Running from now until the task ends, however it ends.
            let running = status.running();
            self.handles
                .push(tokio::spawn(drive(job, self.ctx.clone(), status, running)));
        }
    }

    /// Tells every job to stop and waits for them: passes in flight get until `deadline`.
    pub async fn stop(self, deadline: Instant) {
        self.ctx.stop.send_replace(Some(deadline));
        for handle in self.handles {
            // A pass past its deadline is dropped by its runner; the margin covers giving back.
            if tokio::time::timeout_at(deadline + Duration::from_secs(5), handle)
                .await
                .is_err()
            {
                tracing::warn!("a background job did not stop in time");
            }
        }
    }
}

/// Repeats `job` until shutdown, recording each pass in `status`.
async fn drive<J: Job>(
    mut job: J,
    ctx: JobContext,
    status: Arc<JobStatus>,
    _running: crate::health::RunningGuard,
) {
    let every = job.every(&ctx.settings);
    tracing::info!(
        job = J::NAME,
        every_ms = every.as_millis() as u64,
        "job started"
    );
    while !ctx.is_stopping() {
        let outcome = {
            let pass = job.run(&ctx);
            tokio::pin!(pass);
            tokio::select! {
                outcome = &mut pass => Some(outcome),
                deadline = ctx.stopping() => tokio::time::timeout_at(deadline, &mut pass).await.ok(),
            }
        };
        match outcome {
            None => {
                tracing::warn!(job = J::NAME, "pass cut short at the shutdown deadline");
                job.abandoned(&ctx).await;
                break;
            }
            Some(Ok(pass)) => {
                status.succeeded(chrono::Utc::now());
                if pass == Pass::More {
                    continue;
                }
            }
            Some(Err(e)) => {
                tracing::error!(job = J::NAME, error.cause = %e, "background job failed");
                status.failed(e.to_string());
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = ctx.stopping() => {}
        }
    }
    tracing::info!(job = J::NAME, "job stopped");
}
