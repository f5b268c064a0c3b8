//! Plain SQL against a test's database, for checks made from outside the service (what an
//! operator's `psql` or `sqlite3` would show): its own diesel connection, statements written
//! out, rows read into `QueryableByName` structs of the test. Nothing of motcua's own db code.

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::SqlQuery;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::helpers::TestDb;

pub enum Sql {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Word {
    #[diesel(sql_type = Text)]
    s: String,
}

impl Sql {
    pub fn open(db: &TestDb) -> Self {
        Self::open_url(&db.url)
    }

    pub fn open_url(url: &str) -> Self {
        match url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut c = SqliteConnection::establish(path).expect("open the SQLite file");
                diesel::sql_query("PRAGMA busy_timeout = 10000")
                    .execute(&mut c)
                    .unwrap();
                Sql::Lite(c)
            }
            None => Sql::Pg(PgConnection::establish(url).expect("connect to PostgreSQL")),
        }
    }

    /// The rows of `query` (the same text on both backends).
    #[track_caller]
    pub fn rows<T>(&mut self, query: &str) -> Vec<T>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        let q: SqlQuery = diesel::sql_query(query);
        match self {
            Sql::Pg(c) => q.load(c),
            Sql::Lite(c) => q.load(c),
        }
        .unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    /// A statement answering one number as `n`.
    #[track_caller]
    pub fn count(&mut self, query: &str) -> i64 {
        let rows: Vec<Count> = self.rows(query);
        rows.first().map_or(0, |r| r.n)
    }

    /// A statement answering one text column as `s`.
    #[track_caller]
    pub fn texts(&mut self, query: &str) -> Vec<String> {
        self.rows::<Word>(query).into_iter().map(|w| w.s).collect()
    }

    /// `PRAGMA integrity_check` on SQLite (`ok` when sound); PostgreSQL answers `ok`.
    pub fn integrity(&mut self) -> String {
        match self {
            Sql::Lite(_) => self
                .texts("SELECT integrity_check AS s FROM pragma_integrity_check")
                .join("; "),
            Sql::Pg(_) => "ok".into(),
        }
    }
}

/// Quotes text for an SQL literal (test data only: codes, ids).
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
