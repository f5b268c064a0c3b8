//! motcua — the one-stop-shop counter (Bộ phận một cửa) of a Vietnamese public agency.
//!
//! Layers point inwards: `http` → `app` → `domain`; `app` → `db`, `notify`; `jobs` (the
//! background work) → `app`'s calendar, `db`, `notify`, `domain`. The binary (`main.rs`) only
//! parses the command line and calls [`startup`], which puts the service together.

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod startup;
pub mod storage;
