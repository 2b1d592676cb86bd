//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

mod audit;
mod bad_input;
mod consistency;
mod jwt;
mod limits;
mod outage;
mod rbac;
mod registered;
mod showcase;
mod tenancy;
