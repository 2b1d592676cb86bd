//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

mod bad_input;
mod jwt;
mod limits;
mod outage;
mod rbac;
mod registered;
mod showcase;
mod tenancy;
