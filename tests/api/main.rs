//! Integration tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod audit;
mod audit_users;
mod bad_input;
mod connections;
mod consistency;
mod encryption;
mod jwt;
mod limits;
mod operations;
mod outage;
mod overload;
mod rbac;
mod registered;
mod sessions;
mod showcase;
mod tenancy;
mod tokens;
mod user_support;
mod users;
