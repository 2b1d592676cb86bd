//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod bad_input;
mod outage;
mod rbac;
mod sessions;
mod showcase;
mod tenancy;
mod tokens;
mod user_support;
mod users;
