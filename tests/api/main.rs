//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

mod audit;
mod bad_input;
mod consistency;
mod outage;
mod rbac;
mod showcase;
mod tenancy;
