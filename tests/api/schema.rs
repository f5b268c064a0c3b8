//! The migrations and `src/db/schema.rs` describe the same database: after migrating, each
//! backend has exactly the tables and columns the schema declares, with the same nullability
//! and the portable type each diesel type stands for. (That both trees have the same folders,
//! and that up → down → up works, is `migrations.rs`.)

use std::collections::BTreeMap;

use diesel::RunQueryDsl;
use diesel::sql_types::{Integer, Text};
use motcua::db::{self, SqliteOptions};

use crate::helpers::*;

/// Column name → (portable type, nullable).
type Columns = BTreeMap<String, (String, bool)>;

/// The tables of `src/db/schema.rs`: every `table!` block, its columns and their types.
fn declared() -> BTreeMap<String, Columns> {
    let text = include_str!("../../src/db/schema.rs");
    let mut tables = BTreeMap::new();
    let mut current: Option<(String, Columns)> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("diesel::table!") {
            continue;
        }
        if let Some(name) = line
            .strip_suffix('{')
            .and_then(|l| l.split_whitespace().next())
        {
            if line.contains('(') {
                current = Some((name.to_owned(), Columns::new()));
            }
            continue;
        }
        if let (Some((_, cols)), Some((col, ty))) = (current.as_mut(), line.split_once(" -> ")) {
            let ty = ty.trim_end_matches(',');
            let (inner, nullable) = match ty.strip_prefix("Nullable<") {
                Some(rest) => (rest.trim_end_matches('>'), true),
                None => (ty, false),
            };
            cols.insert(
                col.trim().to_owned(),
                (portable(inner).to_owned(), nullable),
            );
            continue;
        }
        if line == "}"
            && let Some((name, cols)) = current.take()
        {
            tables.insert(name, cols);
        }
    }
    assert!(tables.len() > 10, "schema.rs parsed: {:?}", tables.keys());
    tables
}

/// The portable SQL type a diesel type is stored as.
fn portable(diesel_type: &str) -> &'static str {
    match diesel_type {
        "Text" => "text",
        "Integer" => "integer",
        "BigInt" => "bigint",
        "Bool" => "boolean",
        "Timestamp" => "timestamp",
        "Date" => "date",
        other => panic!("schema.rs uses {other}, which is not one of the portable types"),
    }
}

/// A live column type, named as `portable` names it.
fn live_type(sql_type: &str) -> String {
    match sql_type.to_ascii_lowercase().as_str() {
        "timestamp without time zone" => "timestamp".to_owned(),
        other => other.to_owned(),
    }
}

#[derive(diesel::QueryableByName)]
struct LiveColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    /// 1 when the column may hold NULL.
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

fn live(backend: Backend) -> BTreeMap<String, Columns> {
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url, 1, SqliteOptions::default()).unwrap();
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    let sql = match backend {
        // A primary-key column without NOT NULL accepts NULL in SQLite (a legacy quirk), but
        // nothing writes NULL through a non-Nullable diesel column; counted as not null.
        Backend::Sqlite => {
            "SELECT m.name AS table_name, c.name AS column_name, c.type AS data_type,
                    CASE WHEN c.\"notnull\" = 0 AND c.pk = 0 THEN 1 ELSE 0 END AS nullable
             FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name <> '__diesel_schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name,
                    CAST(data_type AS TEXT) AS data_type,
                    CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable
             FROM information_schema.columns
             WHERE table_schema = current_schema()
               AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let mut tables: BTreeMap<String, Columns> = BTreeMap::new();
    for c in diesel::sql_query(sql)
        .load::<LiveColumn>(&mut conn)
        .unwrap()
    {
        tables
            .entry(c.table_name)
            .or_default()
            .insert(c.column_name, (live_type(&c.data_type), c.nullable == 1));
    }
    tables
}

fn live_columns_match_the_schema(backend: Backend) {
    let declared = declared();
    let live = live(backend);
    assert_eq!(
        live.keys().collect::<Vec<_>>(),
        declared.keys().collect::<Vec<_>>(),
        "{backend:?}: tables"
    );
    for (table, columns) in &declared {
        assert_eq!(&live[table], columns, "{backend:?}: columns of {table}");
    }
}

#[test]
fn sqlite_columns_match_the_schema() {
    live_columns_match_the_schema(Backend::Sqlite);
}

#[test]
fn postgres_columns_match_the_schema() {
    if postgres_available() {
        live_columns_match_the_schema(Backend::Postgres);
    }
}
