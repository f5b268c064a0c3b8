//! Group commit: the writes of concurrent requests share one transaction, one commit and one
//! WAL flush.
//!
//! SQLite lets one writer in at a time, and at `synchronous=FULL` every commit waits for the
//! disk. Under load receipts queued one behind the other, each paying a thread hand-over, an
//! fsync and the WAL frames of every page it touched (about a dozen b-tree pages per
//! dossier, most of them shared with the dossier received just before). On PostgreSQL every
//! receipt of a day waited for the row of the day's code sequence, locked from its upsert to
//! the commit. Here a request hands its write, as a job that owns what it uses, to the pool's
//! writer thread and waits for the answer without holding a connection. The writer takes
//! every job queued meanwhile, runs them in one transaction on one connection, each in its own
//! savepoint (a failing job is rolled back alone), and answers each job only after the commit:
//! an answered write is a committed write, as before. On SQLite the writer enters the pool's
//! [`WriteGate`] like any other writer. Several instances on one PostgreSQL each have their
//! writer; the row locks order them as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use diesel::connection::SimpleConnection;
use diesel::r2d2;
use diesel::result::{DatabaseErrorKind, Error};

use super::{DbConnection, Manager, WriteGate, with_write_gate, write_tx};

/// At most this many jobs share a transaction (it bounds the wait of the last one).
const MAX_BATCH: usize = 64;

/// A queued write: runs on the writer's connection (`alone`: the batch's only job, which needs
/// no savepoint) and answers whether it succeeded and how to deliver its result.
type Job = Box<dyn FnOnce(&mut DbConnection, bool) -> (bool, Deliver) + Send>;
/// Delivers a job's result once the batch's commit is known.
type Deliver = Box<dyn FnOnce(Result<(), &Error>) + Send>;

/// The writer thread's queue; the thread stops when the last pool handle is dropped.
#[derive(Debug)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

/// How many batches and jobs the writer has run (a batch of one job is a plain transaction).
#[derive(Debug, Default)]
pub struct Counts {
    pub batches: AtomicU64,
    pub jobs: AtomicU64,
}

impl GroupCommit {
    /// Starts the writer thread of a pool (`gate`: SQLite's writer queue).
    pub(super) fn start(
        pool: r2d2::Pool<Manager>,
        gate: Option<Arc<WriteGate>>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let counted = counts.clone();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || writer(&pool, &gate, &rx, &counted))?;
        Ok(GroupCommit { jobs: tx, counts })
    }

    /// The batches and jobs run so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts.batches.load(Ordering::Relaxed),
            self.counts.jobs.load(Ordering::Relaxed),
        )
    }

    /// Runs `f` in the next batch and answers its result after the batch's commit.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn, alone| {
            let outcome = if alone {
                f(conn)
            } else {
                in_savepoint(conn, f)
            };
            let ok = outcome.is_ok();
            let deliver: Deliver = Box::new(move |commit| {
                let _ = tx.send(match (outcome, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => {
                        Err(E::from(not_written(&format!("the commit failed: {e}"))))
                    }
                    (Err(e), _) => Err(e),
                });
            });
            (ok, deliver)
        });
        if self.jobs.send(job).is_err() {
            return Err(E::from(not_written("the writer thread has stopped")));
        }
        // A job dropped unrun (no connection, or it panicked) closes the channel.
        rx.await
            .unwrap_or_else(|_| Err(E::from(not_written("the write was not run"))))
    }
}

/// The writer thread: a batch of every job waiting, one transaction per batch.
fn writer(
    pool: &r2d2::Pool<Manager>,
    gate: &Option<Arc<WriteGate>>,
    jobs: &mpsc::Receiver<Job>,
    counts: &Counts,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        match pool.get() {
            Ok(mut conn) => with_write_gate(gate.clone(), || run(&mut conn, batch)),
            // Dropping the batch answers each job that it was not written.
            Err(e) => {
                tracing::error!(error = %e, jobs = batch.len(), "database writer: no connection")
            }
        }
    }
}

fn run(conn: &mut DbConnection, batch: Vec<Job>) {
    let alone = batch.len() == 1;
    let mut delivers = Vec::with_capacity(batch.len());
    let committed = write_tx(conn, |c| {
        for job in batch {
            // A panic may leave its savepoint open: the whole batch is rolled back, the jobs
            // not run yet are dropped, every request of the batch gets an error, and the
            // writer goes on with the next batch.
            let (ok, deliver) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(c, alone)))
                    .map_err(|_| Error::RollbackTransaction)?;
            delivers.push(deliver);
            if alone && !ok {
                // The only job failed: undo it; it delivers its own error.
                return Err(Error::RollbackTransaction);
            }
        }
        Ok(())
    });
    let failed;
    let commit = match committed {
        Ok(()) => Ok(()),
        Err(Error::RollbackTransaction) if alone => Ok(()),
        Err(e) => {
            failed = e;
            Err(&failed)
        }
    };
    for deliver in delivers {
        deliver(commit);
    }
}

/// `f` in a savepoint of the batch's transaction: its writes are undone alone if it fails.
fn in_savepoint<T, E: From<Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    conn.batch_execute("SAVEPOINT grouped")?;
    let outcome = f(conn);
    conn.batch_execute(match outcome {
        Ok(_) => "RELEASE grouped",
        Err(_) => "ROLLBACK TO grouped; RELEASE grouped",
    })?;
    outcome
}

/// The error of a job that was not committed (the database could not take the batch).
fn not_written(why: &str) -> Error {
    Error::DatabaseError(
        DatabaseErrorKind::ClosedConnection,
        Box::new(format!("grouped write not committed: {why}")),
    )
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    use super::*;

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Integer)]
        n: i32,
    }

    /// Every job answered Ok is committed, every job answered Err left nothing (failing after
    /// its insert, or in the batch of the job that panicked), jobs did share batches,
    /// and the writer survives a panicking job. SQLite, and PostgreSQL with
    /// `TEST_DATABASE_URL` (a failed statement there aborts the transaction until its
    /// savepoint is rolled back).
    #[test]
    fn an_answered_write_is_committed_and_a_failed_one_left_nothing() {
        let dir = std::env::temp_dir().join(format!("motcua-group-{}", uuid::Uuid::new_v4()));
        check(&format!("sqlite://{}/g.db", dir.display()));
        let _ = std::fs::remove_dir_all(dir);
        if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
            let name = format!("motcua_group_{}", uuid::Uuid::new_v4().simple());
            let mut server = diesel::PgConnection::establish(&admin).unwrap();
            server
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let url = match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("TEST_DATABASE_URL without a database name"),
            };
            check(&url);
            server
                .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .unwrap();
        }
    }

    fn check(url: &str) {
        let pool = crate::db::connect(url, 4, crate::db::SqliteOptions::default()).unwrap();
        pool.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let group = pool.group_commit();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let write = |n: i32| {
            group.write(move |c: &mut DbConnection| {
                diesel::sql_query("INSERT INTO t (n) VALUES ($1)")
                    .bind::<Integer, _>(n)
                    .execute(c)?;
                assert_ne!(n, 150, "a bug in one job");
                if n % 7 == 0 {
                    // A failing statement: on PostgreSQL it aborts the transaction.
                    diesel::sql_query("INSERT INTO t (n) VALUES ($1)")
                        .bind::<Integer, _>(n)
                        .execute(c)?;
                }
                Ok(n)
            })
        };
        let results: Vec<Result<i32, Error>> =
            rt.block_on(futures_util::future::join_all((0..300).map(write)));
        let again = rt.block_on(write(1000));
        let mut conn = pool.get().unwrap();
        let stored: Vec<i32> = diesel::sql_query("SELECT n FROM t ORDER BY n")
            .load::<N>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.n)
            .collect();
        let answered: Vec<i32> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert!(
            answered.len() > 100,
            "most jobs succeed: {}",
            answered.len()
        );
        assert!(results[150].is_err() && results[7].is_err());
        assert_eq!(again.unwrap(), 1000, "the writer outlives a panicking job");
        assert_eq!(stored, [answered, vec![1000]].concat());
        let (batches, jobs) = group.counts();
        assert_eq!(jobs, 301);
        assert!(batches < jobs, "{batches} batches for {jobs} jobs");
    }
}
