//! Storage: one diesel code path over SQLite and PostgreSQL (`DbConnection`), the pool,
//! embedded migrations and the write-transaction rule.

pub mod calendar;
pub mod dossiers;
pub mod files;
pub mod group;
pub mod notices;
pub mod outbox;
pub mod procedures;
pub mod reports;
pub mod schema;
pub mod units;
pub mod users;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
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

/// The connection pool and the bound on the blocking work waiting for it: at most
/// `max_size` closures run on blocking threads at once (the others wait as futures, which
/// cost nothing), so a burst of requests no longer grows tokio's blocking pool to hundreds of
/// threads that all sleep on the pool's condition variable.
#[derive(Clone, Debug)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    permits: Arc<tokio::sync::Semaphore>,
    writer: Option<Arc<WriteGate>>,
    group: Arc<group::GroupCommit>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Pool {
    /// One permit per connection: hold one while a blocking closure uses the pool.
    pub fn permits(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.permits
    }

    /// The SQLite write queue of this pool (none on PostgreSQL).
    pub fn write_gate(&self) -> Option<&Arc<WriteGate>> {
        self.writer.as_ref()
    }

    /// The group commit of this pool: its writer thread, which runs the writes queued at one
    /// moment in one transaction.
    pub fn group_commit(&self) -> &group::GroupCommit {
        &self.group
    }
}
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
    #[error("starting the database writer thread: {0}")]
    Writer(std::io::Error),
}

/// Runs one diesel query, written once, on the backend's own connection. Through the
/// `MultiConnection` diesel serialises the query for the inner connection at every execution,
/// writing its SQL text out again (column by column) before it finds the prepared statement;
/// on the inner connection a query with a fixed shape is found by its type. For the hottest
/// reads only (the public lookup): the rest of `db/` stays on the one connection type.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $query,
            $crate::db::DbConnection::Sqlite($c) => $query,
        }
    };
}
pub(crate) use on_backend;

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
    let sqlite = matches!(manager.backend, Backend::Sqlite { .. });
    // One connection more than the permits, for the group commit's writer thread.
    let inner = r2d2::Pool::builder()
        .max_size(size + 1)
        .connection_timeout(acquire_timeout)
        .build(manager)?;
    let writer = sqlite.then(|| Arc::new(WriteGate::default()));
    let group =
        group::GroupCommit::start(inner.clone(), writer.clone()).map_err(DbError::Writer)?;
    Ok(Pool {
        inner,
        permits: Arc::new(tokio::sync::Semaphore::new(size as usize)),
        writer,
        group: Arc::new(group),
    })
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

/// The in-process queue of SQLite writers. SQLite lets one writer in at a time; without a
/// queue, a writer that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5, 10 …
/// 100 ms naps), so it wakes long after the lock is free and the order is luck: at 64
/// connections receipts had a p99 of almost a second. Here writers of one pool take tickets
/// and enter `BEGIN IMMEDIATE` in order, each the moment the previous one has committed. The
/// busy timeout stays, as the safety net against other processes (a CLI command, a second
/// instance on the same file).
#[derive(Debug, Default)]
pub struct WriteGate {
    /// (next ticket, ticket now served)
    tickets: Mutex<(u64, u64)>,
    turn: Condvar,
}

struct WriteTurn<'a>(&'a WriteGate);

impl WriteGate {
    fn enter(&self) -> WriteTurn<'_> {
        let mut t = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let mine = t.0;
        t.0 += 1;
        while t.1 != mine {
            t = self.turn.wait(t).unwrap_or_else(|e| e.into_inner());
        }
        WriteTurn(self)
    }
}

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        let mut t = self.0.tickets.lock().unwrap_or_else(|e| e.into_inner());
        t.1 += 1;
        self.0.turn.notify_all();
    }
}

thread_local! {
    /// The gate of the pool whose connection this thread is using (set by
    /// [`with_write_gate`] around a pooled closure), and whether this thread is inside it.
    static GATE: RefCell<Option<Arc<WriteGate>>> = const { RefCell::new(None) };
    static IN_GATE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (which uses a connection of the pool `gate` belongs to) so that its SQLite write
/// transactions queue on `gate`. `write_tx` takes `&mut DbConnection`, which cannot tell its
/// pool; the pool's closure runner (`app::blocking`) says it here instead. Writes outside it
/// (one-shot commands, tests on their own connection) rely on the busy timeout alone.
pub fn with_write_gate<T>(gate: Option<Arc<WriteGate>>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<WriteGate>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            GATE.with(|g| *g.borrow_mut() = prev);
        }
    }
    let _restore = Restore(GATE.with(|g| g.replace(gate)));
    f()
}

/// Runs `f` in a write transaction. SQLite must take the write lock up front (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads then writes fails at once with "database is
/// locked" under concurrency, ignoring the busy timeout. SQLite writers of a pool queue on its
/// [`WriteGate`] first.
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
            let gate = if IN_GATE.get() {
                None // a nested call: this thread already holds its turn
            } else {
                GATE.with(|g| g.borrow().clone())
            };
            let _turn = gate.as_deref().map(|g| {
                IN_GATE.set(true);
                g.enter()
            });
            struct Leave(bool);
            impl Drop for Leave {
                fn drop(&mut self) {
                    if self.0 {
                        IN_GATE.set(false);
                    }
                }
            }
            let _leave = Leave(_turn.is_some());
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
