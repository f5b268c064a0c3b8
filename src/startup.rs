//! Start-up: settings → pool → migrations → bootstrap → the shared state, then the HTTP
//! server and the background jobs. [`start`] is the one way the service is put together:
//! `serve`, the API tests and the benchmarks all call it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::app::{AppState, calendar, users};
use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, Pool, SqliteOptions};
use crate::jobs::{JobContext, Jobs};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] db::DbError),
    #[error("listening: {0}")]
    Io(#[from] std::io::Error),
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
    Ok(db::connect_with(
        settings.database.url.expose_secret(),
        settings.database.pool_size,
        sqlite,
        Duration::from_millis(settings.database.acquire_timeout_ms),
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

/// Migrates, creates the bootstrap admin if asked, and builds the state every worker shares
/// (the one-shot commands `demo` and `import` use it alone: no server, no jobs).
pub fn build_state(settings: Settings, clock: Clock) -> Result<AppState, StartError> {
    let zone = settings
        .timezone()
        .map_err(|e| StartError::Other(e.to_string()))?;
    crate::clock::set_agency_zone(zone).map_err(|set| {
        StartError::Other(format!(
            "agency.timezone: this process already answers in {set}, not {zone}"
        ))
    })?;
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
        jobs: Arc::new(crate::health::Health::default()),
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

/// The jobs' view of the state: no HTTP parts.
pub fn job_context(state: &AppState) -> JobContext {
    JobContext::new(
        state.pool.clone(),
        state.settings.clone(),
        state.calendar.clone(),
        state.templates.clone(),
        state.metrics.clone(),
        state.store.clone(),
        state.clock.clone(),
    )
}

/// A running service: its HTTP server and its background jobs, on the current runtime.
pub struct Service {
    pub state: AppState,
    /// Where the server listens.
    pub addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    jobs: Jobs,
}

/// Builds the state, the HTTP server on `listener` and the background jobs (when
/// `jobs.enabled`), and starts them on the current actix runtime. `serve` passes the system
/// clock; tests pass a manual one.
pub fn start(
    settings: Settings,
    clock: Clock,
    listener: TcpListener,
) -> Result<Service, StartError> {
    if settings.smtp.watch_interval_seconds.is_some() {
        tracing::warn!(
            "smtp.watch_interval_seconds is deprecated: use jobs.watch_interval_seconds (the old key still wins while it is set)"
        );
    }
    let state = build_state(settings, clock)?;
    let jobs =
        crate::jobs::start(&job_context(&state), state.jobs.clone()).map_err(StartError::Other)?;
    let addr = listener.local_addr()?;
    let server = crate::http::server(state.clone(), listener)?;
    let handle = server.handle();
    let serving = actix_web::rt::spawn(server);
    Ok(Service {
        state,
        addr,
        server: handle,
        serving,
        jobs,
    })
}

impl Service {
    /// Serves until SIGTERM or SIGINT (or until the server ends), then stops gracefully.
    pub async fn run_until_signal(mut self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = int.recv() => tracing::info!("SIGINT: stopping"),
            ended = &mut self.serving => {
                tracing::warn!("the HTTP server ended by itself");
                let deadline = tokio::time::Instant::now() + self.shutdown();
                self.jobs.stop(deadline).await;
                return ended.map_err(std::io::Error::other)?;
            }
        }
        self.stop().await
    }

    /// Stops taking requests and work: requests in flight finish and the jobs finish or give
    /// back what they hold, both within `server.shutdown_seconds`.
    pub async fn stop(self) -> std::io::Result<()> {
        let deadline = tokio::time::Instant::now() + self.shutdown();
        let ((), ()) = tokio::join!(self.server.stop(true), self.jobs.stop(deadline));
        self.serving.await.map_err(std::io::Error::other)?
    }

    fn shutdown(&self) -> Duration {
        Duration::from_secs(self.state.settings.server.shutdown_seconds)
    }
}
