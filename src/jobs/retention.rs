//! Forgetting what must not be kept: receipts' idempotency keys after a day (they hold the
//! first answer, lookup key included), outbox rows after `outbox.retain_days` (their
//! bodies hold lookup keys too), and stored files that no row names.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Job, JobContext, JobError, Pass};
use crate::config::Settings;
use crate::db::{dossiers, outbox, to_db_time};

/// How long a receipt's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);

pub struct IdempotencyPurge;

impl Job for IdempotencyPurge {
    const NAME: &'static str = "idempotency_purge";

    fn every(&self, settings: &Settings) -> Duration {
        Duration::from_secs(settings.jobs.retention_interval_seconds)
    }

    async fn run(&mut self, ctx: &JobContext) -> Result<Pass, JobError> {
        // Keys are stamped with the business clock.
        let before = to_db_time(ctx.clock.now() - IDEMPOTENCY_TTL);
        let n = ctx
            .blocking(move |conn| Ok(dossiers::purge_idempotency(conn, before)?))
            .await?;
        if n > 0 {
            tracing::info!(idempotency.purged = n, "idempotency keys forgotten");
        }
        Ok(Pass::Done)
    }
}

pub struct OutboxRetention;

/// The cut-off before which sent and failed outbox rows are deleted.
pub fn outbox_cutoff(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    now - TimeDelta::days(i64::from(settings.outbox.retain_days))
}

impl Job for OutboxRetention {
    const NAME: &'static str = "outbox_retention";

    fn every(&self, settings: &Settings) -> Duration {
        Duration::from_secs(settings.jobs.retention_interval_seconds)
    }

    async fn run(&mut self, ctx: &JobContext) -> Result<Pass, JobError> {
        // The worker stamps sends and attempts with the real clock.
        let before = to_db_time(outbox_cutoff(&ctx.settings, Utc::now()));
        let n = ctx
            .blocking(move |conn| Ok(outbox::prune(conn, before, before)?))
            .await?;
        if n > 0 {
            tracing::info!(outbox.pruned = n, "old outbox rows deleted");
        }
        Ok(Pass::Done)
    }
}

/// Deletes stored files that no row names once `storage.orphan_grace_minutes` old: what a
/// crash between writing a file and committing its row leaves behind.
pub struct OrphanFileSweep;

impl Job for OrphanFileSweep {
    const NAME: &'static str = "orphan_file_sweep";

    fn every(&self, settings: &Settings) -> Duration {
        Duration::from_secs(settings.jobs.retention_interval_seconds)
    }

    async fn run(&mut self, ctx: &JobContext) -> Result<Pass, JobError> {
        let store = ctx.store.clone();
        let grace = Duration::from_secs(ctx.settings.storage.orphan_grace_minutes * 60);
        ctx.blocking(move |conn| crate::app::files::sweep_orphan_files(conn, &store, grace))
            .await?;
        Ok(Pass::Done)
    }
}
