//! Prometheus metrics beyond the HTTP ones: the outbox.

use prometheus::{IntCounter, IntGauge, Registry};

pub struct Metrics {
    pub registry: Registry,
    pub emails_sent: IntCounter,
    pub emails_failed: IntCounter,
    pub emails_pending: IntGauge,
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
        let emails_pending =
            IntGauge::new("motcua_emails_pending", "Outbox rows waiting to be sent")?;
        registry.register(Box::new(emails_sent.clone()))?;
        registry.register(Box::new(emails_failed.clone()))?;
        registry.register(Box::new(emails_pending.clone()))?;
        Ok(Metrics {
            registry,
            emails_sent,
            emails_failed,
            emails_pending,
        })
    }
}
