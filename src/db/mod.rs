//! Storage: one diesel code path over SQLite and PostgreSQL (`DbConnection`), the pool,
//! embedded migrations and the write-transaction rule.

pub mod calendar;
pub mod dossiers;
pub mod files;
pub mod notices;
pub mod outbox;
pub mod procedures;
pub mod reports;
pub mod schema;
pub mod units;
pub mod users;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database url scheme (expected sqlite:// or postgres://)")]
    UnknownScheme,
    #[error("sqlite url has no path")]
    EmptySqlitePath,
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("creating the database folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
}

/// Which backend a `database.url` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite { path: String },
    Postgres { url: String },
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err(DbError::EmptySqlitePath);
            }
            Ok(Backend::Sqlite {
                path: rest.to_owned(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres {
                url: url.to_owned(),
            })
        } else {
            Err(DbError::UnknownScheme)
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// SQLite connection tuning; these are legal records, so durability is FULL unless relaxed.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub synchronous_full: bool,
    pub busy_timeout_ms: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous_full: true,
            busy_timeout_ms: 10_000,
        }
    }
}

/// r2d2 manager that connects to the one backend the URL names (the derived
/// `establish` would try every backend in turn and hide the real error).
#[derive(Clone, Debug)]
pub struct Manager {
    backend: Backend,
    sqlite: SqliteOptions,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.backend {
            Backend::Postgres { url } => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite { path } => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                let sync = if self.sqlite.synchronous_full {
                    "FULL"
                } else {
                    "NORMAL"
                };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;",
                    self.sqlite.busy_timeout_ms
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// How long `connect`'s pool waits for a free connection (`database.acquire_timeout_ms`).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the pool with the default checkout timeout.
pub fn connect(url: &str, pool_size: u32, sqlite: SqliteOptions) -> Result<Pool, DbError> {
    connect_with(url, pool_size, sqlite, DEFAULT_ACQUIRE_TIMEOUT)
}

/// Opens the pool; creates the SQLite file's folder when it is missing. A checkout waits at
/// most `acquire_timeout` (then the request gets 503): with the database down, r2d2 keeps
/// reconnecting in the background, so requests fail within this bound and recover by
/// themselves.
pub fn connect_with(
    url: &str,
    pool_size: u32,
    sqlite: SqliteOptions,
    acquire_timeout: Duration,
) -> Result<Pool, DbError> {
    let backend = Backend::from_url(url)?;
    let size = match (&backend, pool_size) {
        (_, n) if n > 0 => n,
        (Backend::Sqlite { .. }, _) => 8,
        (Backend::Postgres { .. }, _) => 10,
    };
    if let Backend::Sqlite { path } = &backend
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| DbError::Folder(dir.to_owned(), e))?;
    }
    // Connect once outside the pool so that a wrong URL fails with the driver's own message.
    let manager = Manager { backend, sqlite };
    manager.connect().map_err(|e| match e {
        diesel::r2d2::Error::ConnectionError(c) => DbError::Connection(c),
        diesel::r2d2::Error::QueryError(q) => DbError::Query(q),
    })?;
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(acquire_timeout)
        .build(manager)?;
    Ok(pool)
}

impl DbConnection {
    pub fn backend_name(&self) -> &'static str {
        match self {
            DbConnection::Postgresql(_) => "postgres",
            DbConnection::Sqlite(_) => "sqlite",
        }
    }
}

/// Runs pending migrations of the connection's backend. On PostgreSQL an advisory lock keeps
/// several instances starting at once from racing.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(err)?
            .len()),
        DbConnection::Postgresql(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7418230001)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(7418230001)")?;
            result.map_err(err)
        }
    }
}

/// Whether any embedded migration has not been applied (readiness).
pub fn has_pending_migrations(conn: &mut DbConnection) -> Result<bool, DbError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS).map_err(err),
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS).map_err(err),
    }
}

/// Reverts every migration (tests of the down scripts).
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => Ok(c
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map_err(err)?
            .len()),
        DbConnection::Postgresql(c) => Ok(c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map_err(err)?
            .len()),
    }
}

/// Runs `f` in a write transaction. SQLite must take the write lock up front (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads then writes fails at once with "database is
/// locked" under concurrency, ignoring the busy timeout.
pub fn write_tx<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(f),
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(e) => {
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
                    Err(e)
                }
            }
        }
    }
}

/// Times are stored as UTC `TIMESTAMP` truncated to microseconds, so that both backends
/// hold (and compare) the same value.
pub fn to_db_time(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    crate::domain::truncate_to_micros(t).naive_utc()
}

pub fn from_db_time(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// Whether a diesel error means the database could not be reached (connection closed or
/// lost mid-statement, a transaction broken by it), not that the statement was wrong.
/// `UnableToSendCommand` is also what libpq answers for a dead socket.
pub fn is_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => true,
        Error::RollbackErrorOnCommit { commit_error, .. } => is_connection_lost(commit_error),
        _ => false,
    }
}

/// A stored value the code does not know: an error where the row leaves `db/`, never a default.
pub(crate) fn bad_value(what: impl std::fmt::Display) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.to_string().into())
}

/// Parses a stored enum value (`State`, `Channel`, …) or fails with [`bad_value`].
pub(crate) fn parse_stored<T>(column: &str, value: &str) -> diesel::QueryResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| bad_value(format!("{column}: {e}")))
}

/// `'a', 'b'` for an SQL `IN (…)` list of stored names (names are the code's own constants).
pub(crate) fn sql_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a diesel error is a unique-constraint violation (same kind on both backends).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
