//! Black-box tests over HTTP, one binary (keeps link time down). Each scenario runs on SQLite
//! and, when `TEST_DATABASE_URL` is set, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod actions;
mod auth;
mod calendar;
mod calendar_cache;
mod cli;
mod console;
mod docs;
mod documents;
mod dossiers;
mod errors;
mod faults;
mod forms;
mod import;
mod jobs;
mod layers;
mod migrations;
mod notifications;
mod ops;
mod proxy;
mod report_rules;
mod reports;
mod roles;
mod rules;
mod schema;
mod security;
mod serve;
mod served;
mod smtp;
mod sql;
mod times;
mod users;
mod webdriver;
