//! The test kit, under the name every suite file uses.

pub use warden_testkit::*;
