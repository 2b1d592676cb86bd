//! Whether a user may use the service at all (seed 000's `status`).

use std::fmt;

/// A user's status: only an `allowed` (and enabled) user gets access, credentials or sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Allowed,
    Denied,
}

impl UserStatus {
    /// Parses a status by exact match: never a substring or a case-folded match.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "allowed" => Some(Self::Allowed),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }

    /// Reads a stored status; anything but exactly `allowed` denies, so a damaged row never opens access.
    pub fn from_stored(raw: &str) -> Self {
        Self::parse(raw).unwrap_or(Self::Denied)
    }

    /// The status as stored and sent: `allowed` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }
}

/// Reads a stored status, as [`UserStatus::from_stored`] does (so a row decodes straight into it).
impl From<String> for UserStatus {
    fn from(stored: String) -> Self {
        Self::from_stored(&stored)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_words_parse_and_anything_else_stored_denies() {
        assert_eq!(UserStatus::parse("allowed"), Some(UserStatus::Allowed));
        assert_eq!(UserStatus::parse("denied"), Some(UserStatus::Denied));
        for raw in ["Allowed", "allowed ", "xallowed", ""] {
            assert_eq!(UserStatus::parse(raw), None, "{raw:?}");
            assert_eq!(UserStatus::from_stored(raw), UserStatus::Denied, "{raw:?}");
        }
    }
}
