//! The two migration trees match, and up → down → up works on both backends.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::RunQueryDsl;
use motcua::db::{self, SqliteOptions};

use crate::helpers::*;

fn folder_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn sqlite_and_postgres_migration_folders_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let sqlite = folder_names(&root.join("sqlite"));
    let postgres = folder_names(&root.join("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    root.join(backend).join(name).join(file).is_file(),
                    "{backend}/{name}/{file}"
                );
            }
        }
    }
}

fn up_down_up(backend: Backend) {
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url, 2, SqliteOptions::default()).unwrap();
    let mut conn = pool.get().unwrap();
    let total =
        folder_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite")).len();
    assert_eq!(db::run_migrations(&mut conn).unwrap(), total);
    assert!(!db::has_pending_migrations(&mut conn).unwrap());
    diesel::sql_query("SELECT count(*) FROM users")
        .execute(&mut conn)
        .unwrap();
    assert_eq!(db::revert_all_migrations(&mut conn).unwrap(), total);
    assert!(db::has_pending_migrations(&mut conn).unwrap());
    assert!(
        diesel::sql_query("SELECT count(*) FROM users")
            .execute(&mut conn)
            .is_err()
    );
    assert_eq!(db::run_migrations(&mut conn).unwrap(), total);
    assert_eq!(db::run_migrations(&mut conn).unwrap(), 0);
    diesel::sql_query("SELECT count(*) FROM users")
        .execute(&mut conn)
        .unwrap();
}

#[test]
fn up_down_up_sqlite() {
    up_down_up(Backend::Sqlite);
}

#[test]
fn up_down_up_postgres() {
    if postgres_available() {
        up_down_up(Backend::Postgres);
    }
}
