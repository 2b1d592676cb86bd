//! The bounds of the resource tree, so every walk of it stays short.

/// The most levels of any resource path (`org:1` › `folder:7` › `document:42` is three): a scoped decision walks
/// at most this many ancestors.
pub const MAX_RESOURCE_DEPTH: usize = 32;

/// The largest `properties` object a resource keeps, as JSON text.
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;
