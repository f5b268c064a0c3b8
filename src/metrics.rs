//! Prometheus metrics beyond the HTTP ones: the outbox and the background jobs.

use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts, Registry};

pub struct Metrics {
    pub registry: Registry,
    pub emails_sent: IntCounter,
    pub emails_failed: IntCounter,
    /// Registered only where the jobs run ([`Metrics::register_outbox_gauges`]): an instance
    /// that serves HTTP only has no worker to keep them current.
    pub outbox_pending: IntGauge,
    pub outbox_oldest_pending_seconds: IntGauge,
    /// Per job (label `job`): 1 while its task runs. A series exists only for started jobs.
    pub job_running: IntGaugeVec,
    /// Per job: Unix time of its last successful pass.
    pub job_last_success: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let emails_sent = IntCounter::new(
            "motcua_emails_sent_total",
            "Emails delivered to the SMTP server",
        )?;
        let emails_failed = IntCounter::new(
            "motcua_emails_failed_total",
            "Emails given up after the last attempt",
        )?;
        let outbox_pending = IntGauge::new(
            "motcua_outbox_pending",
            "Outbox messages not sent yet (pending or being sent)",
        )?;
        let outbox_oldest_pending_seconds = IntGauge::new(
            "motcua_outbox_oldest_pending_seconds",
            "Age of the oldest unsent outbox message (0 when none)",
        )?;
        let job_running = IntGaugeVec::new(
            Opts::new("motcua_job_running", "1 while the background job runs"),
            &["job"],
        )?;
        let job_last_success = IntGaugeVec::new(
            Opts::new(
                "motcua_job_last_success_timestamp_seconds",
                "Unix time of the background job's last successful pass",
            ),
            &["job"],
        )?;
        registry.register(Box::new(emails_sent.clone()))?;
        registry.register(Box::new(emails_failed.clone()))?;
        registry.register(Box::new(job_running.clone()))?;
        registry.register(Box::new(job_last_success.clone()))?;
        Ok(Metrics {
            registry,
            emails_sent,
            emails_failed,
            outbox_pending,
            outbox_oldest_pending_seconds,
            job_running,
            job_last_success,
        })
    }

    pub fn register_outbox_gauges(&self) -> Result<(), prometheus::Error> {
        self.registry
            .register(Box::new(self.outbox_pending.clone()))?;
        self.registry
            .register(Box::new(self.outbox_oldest_pending_seconds.clone()))
    }
}
