//! What each background job of this instance is doing, for `/readyz` and `/metrics`. Its own
//! module (not `jobs/`): the jobs write it and the HTTP state reads it, so both depend on it
//! and neither on the other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus::IntGauge;

use crate::metrics::Metrics;

/// The jobs of one instance, in start order. Shared by the jobs (which write) and the HTTP
/// state (which reads).
#[derive(Default)]
pub struct Health {
    jobs: Mutex<Vec<Arc<JobStatus>>>,
}

pub struct JobStatus {
    pub name: &'static str,
    pub every: Duration,
    running: AtomicBool,
    last: Mutex<LastRun>,
    gauges: Option<(IntGauge, IntGauge)>,
}

#[derive(Clone, Default)]
struct LastRun {
    success_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

/// A job's state at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub name: &'static str,
    pub every: Duration,
    pub running: bool,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last pass's failure, cleared by the next success.
    pub last_error: Option<String>,
}

impl Health {
    /// Adds a job; `metrics` given when it will run here (its gauges then get a series).
    pub fn register(
        &self,
        name: &'static str,
        every: Duration,
        metrics: Option<&Metrics>,
    ) -> Arc<JobStatus> {
        let gauges = metrics.map(|m| {
            (
                m.job_running.with_label_values(&[name]),
                m.job_last_success.with_label_values(&[name]),
            )
        });
        let status = Arc::new(JobStatus {
            name,
            every,
            running: AtomicBool::new(false),
            last: Mutex::new(LastRun::default()),
            gauges,
        });
        self.lock().push(status.clone());
        status
    }

    pub fn snapshot(&self) -> Vec<Snapshot> {
        self.lock().iter().map(|s| s.snapshot()).collect()
    }

    /// Whether the named job's task is running on this instance.
    pub fn is_running(&self, name: &str) -> bool {
        self.lock()
            .iter()
            .any(|s| s.name == name && s.running.load(Ordering::SeqCst))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<JobStatus>>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl JobStatus {
    /// Marks the job running until the guard drops (its task ended, panicked or was cancelled).
    pub fn running(self: &Arc<Self>) -> RunningGuard {
        self.set_running(true);
        RunningGuard(self.clone())
    }

    fn set_running(&self, on: bool) {
        self.running.store(on, Ordering::SeqCst);
        if let Some((g, _)) = &self.gauges {
            g.set(i64::from(on));
        }
    }

    pub fn succeeded(&self, at: DateTime<Utc>) {
        let mut last = self.last();
        last.success_at = Some(at);
        last.error = None;
        if let Some((_, g)) = &self.gauges {
            g.set(at.timestamp());
        }
    }

    pub fn failed(&self, error: String) {
        self.last().error = Some(error);
    }

    fn last(&self) -> std::sync::MutexGuard<'_, LastRun> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot(&self) -> Snapshot {
        let last = self.last().clone();
        Snapshot {
            name: self.name,
            every: self.every,
            running: self.running.load(Ordering::SeqCst),
            last_success_at: last.success_at,
            last_error: last.error,
        }
    }
}

pub struct RunningGuard(Arc<JobStatus>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.set_running(false);
    }
}
