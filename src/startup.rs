//! Start-up: settings → pool → migrations → bootstrap → the shared application state.

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::app::{AppState, calendar, users};
use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, Pool, SqliteOptions};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] db::DbError),
    #[error("{0}")]
    Other(String),
}

impl From<crate::error::AppError> for StartError {
    fn from(e: crate::error::AppError) -> Self {
        StartError::Other(e.to_string())
    }
}

pub fn open_pool(settings: &Settings) -> Result<Pool, StartError> {
    let sqlite = SqliteOptions {
        synchronous_full: settings.database.sqlite_synchronous == "full",
        busy_timeout_ms: settings.database.sqlite_busy_timeout_ms,
    };
    Ok(db::connect(
        settings.database.url.expose_secret(),
        settings.database.pool_size,
        sqlite,
    )?)
}

/// Runs pending migrations; answers how many ran.
pub fn migrate(pool: &Pool) -> Result<usize, StartError> {
    let mut conn = pool.get().map_err(db::DbError::from)?;
    Ok(db::run_migrations(&mut conn)?)
}

fn token_keys(settings: &Settings) -> TokenKeys {
    let secret = match &settings.auth.jwt_secret {
        Some(s) => s.expose_secret().as_bytes().to_vec(),
        None => {
            // Only reachable with MOTCUA_ENV=dev (validated at load).
            tracing::warn!(
                "auth.jwt_secret is not set: using a random secret; tokens end with this process"
            );
            let bytes: [u8; 32] = rand::random();
            bytes.to_vec()
        }
    };
    TokenKeys::new(&secret, settings.auth.token_ttl_minutes)
}

/// Migrates, creates the bootstrap admin if asked, and builds the state every worker shares.
pub fn build_state(settings: Settings, clock: Clock) -> Result<AppState, StartError> {
    let pool = open_pool(&settings)?;
    let ran = migrate(&pool)?;
    if ran > 0 {
        tracing::info!(migrations.applied = ran, "database migrated");
    }
    if let Some(password) = &settings.bootstrap.admin_password {
        let mut conn = pool.get().map_err(db::DbError::from)?;
        if users::bootstrap_admin(&mut conn, password.expose_secret(), clock.now())? {
            tracing::info!("bootstrap: created user admin");
        }
    }
    let working_time = settings.working_time_settings()?;
    {
        let mut conn = pool.get().map_err(db::DbError::from)?;
        let files = calendar::read_calendar_files(&settings.calendar.data_dir)?;
        calendar::load_calendar_files(&mut conn, &files, clock.now())?;
    }
    let templates = crate::notify::Templates::load().map_err(StartError::Other)?;
    let metrics = crate::metrics::Metrics::new().map_err(|e| StartError::Other(e.to_string()))?;
    Ok(AppState {
        store: Arc::new(
            crate::storage::Store::new(&settings.storage.dir).map_err(|e| {
                StartError::Other(format!(
                    "storage.dir {}: {e}",
                    settings.storage.dir.display()
                ))
            })?,
        ),
        forms: Arc::new(crate::app::forms::templates().map_err(StartError::Other)?),
        mail_enabled: settings.smtp.url.is_some(),
        lookup_limiter: Arc::new(crate::app::throttle::LookupLimiter::new(
            settings.public.lookup_per_minute,
            settings.public.wrong_keys_per_code,
            settings.public.code_lock_minutes,
        )),
        logins: Arc::new(
            crate::app::throttle::LoginThrottle::new(
                settings.auth.login_failures_per_window,
                settings.auth.login_window_minutes,
            )
            .map_err(StartError::Other)?,
        ),
        templates: Arc::new(templates),
        metrics: Arc::new(metrics),
        calendar: Arc::new(calendar::CalendarCache::new(working_time)),
        pool,
        tokens: token_keys(&settings),
        settings: Arc::new(settings),
        clock,
    })
}

/// The background workers of `serve`: the outbox sender and the due-time watcher. Flip the
/// returned sender to stop them; await the handles to let them finish.
pub fn spawn_workers(
    state: &AppState,
) -> Result<
    (
        tokio::sync::watch::Sender<bool>,
        Vec<tokio::task::JoinHandle<()>>,
    ),
    StartError,
> {
    let mailer =
        crate::notify::worker::Mailer::from_settings(&state.settings).map_err(StartError::Other)?;
    if !mailer.enabled() {
        tracing::warn!("smtp.url is not set: emails are written to the outbox and stay pending");
    }
    let (stop, rx) = tokio::sync::watch::channel(false);
    let handles = vec![
        tokio::task::spawn_local(crate::notify::worker::run(
            state.clone(),
            mailer,
            rx.clone(),
        )),
        tokio::task::spawn_local(crate::notify::watcher::run(state.clone(), rx)),
    ];
    Ok((stop, handles))
}
