//! Role, permission and user names.

use std::fmt;

/// What a name names; used in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Role,
    Permission,
    /// A permission as granted to a role: it may also hold `*`, which matches any run of characters (so
    /// `docs:*` grants `docs:read`). Only grants take it; a permission asked about is a plain [`Self::Permission`].
    GrantedPermission,
    User,
    ResourceType,
    ResourceId,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Role => "role",
            Self::Permission | Self::GrantedPermission => "permission",
            Self::User => "user",
            Self::ResourceType => "resource type",
            Self::ResourceId => "resource id",
        })
    }
}

/// A name that passed validation: 1 to [`Name::MAX_LEN`] bytes of `[A-Za-z0-9_.:@+|-]`.
///
/// The alphabet is narrow on purpose: names travel in URL paths, log lines and SQL parameters, and a name that
/// cannot hold `/`, spaces, quotes or control characters cannot be confused in any of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{0} name must not be empty")]
    Empty(NameKind),
    #[error("{0} name is longer than {max} bytes", max = Name::MAX_LEN)]
    TooLong(NameKind),
    #[error("{0} name `{1}` may only contain letters, digits and `_.:@+|-`")]
    BadCharacter(NameKind, String),
}

impl Name {
    pub const MAX_LEN: usize = 128;

    pub fn parse(kind: NameKind, raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty(kind));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(NameError::TooLong(kind));
        }
        let star_allowed = kind == NameKind::GrantedPermission;
        if !raw
            .bytes()
            .all(|b| is_name_byte(b) || (star_allowed && b == b'*'))
        {
            // Echo only what is printable and short, so a hostile name cannot forge log lines or flood a reply.
            let shown: String = raw
                .chars()
                .map(|c| if c.is_ascii_graphic() { c } else { '?' })
                .collect();
            return Err(NameError::BadCharacter(kind, shown));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this (granted) permission is a pattern: it holds `*`.
    pub fn is_pattern(&self) -> bool {
        self.0.contains('*')
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'@' | b'+' | b'|' | b'-')
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_emails_scoped_permissions_and_the_whole_alphabet() {
        for ok in [
            "admin",
            "alice@example.com",
            "docs:read",
            "a_b.c:d@e+f|g-h",
            "X9",
            &"a".repeat(128),
        ] {
            assert_eq!(Name::parse(NameKind::User, ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn only_a_granted_permission_may_hold_a_star() {
        assert!(Name::parse(NameKind::GrantedPermission, "docs:*")
            .unwrap()
            .is_pattern());
        assert!(!Name::parse(NameKind::GrantedPermission, "docs:read")
            .unwrap()
            .is_pattern());
        for kind in [NameKind::Permission, NameKind::Role, NameKind::User] {
            assert!(matches!(
                Name::parse(kind, "docs:*"),
                Err(NameError::BadCharacter(..))
            ));
        }
        assert!(Name::parse(NameKind::GrantedPermission, "a b*").is_err());
    }

    #[test]
    fn refuses_empty_long_and_foreign_characters() {
        assert_eq!(
            Name::parse(NameKind::Role, ""),
            Err(NameError::Empty(NameKind::Role))
        );
        assert_eq!(
            Name::parse(NameKind::Role, &"a".repeat(129)),
            Err(NameError::TooLong(NameKind::Role))
        );
        for bad in [
            "a b",
            "a/b",
            "a'b",
            "a;b",
            "é",
            "a\nb",
            "a\0b",
            "<script>",
            "a%20b",
            "' OR 1=1 --",
        ] {
            assert!(matches!(
                Name::parse(NameKind::Permission, bad),
                Err(NameError::BadCharacter(NameKind::Permission, _))
            ));
        }
    }

    #[test]
    fn error_messages_never_echo_control_characters() {
        let err = Name::parse(NameKind::User, "evil\r\ninjected")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n') && !err.contains('\r'), "{err}");
        assert!(err.starts_with("user name `evil??injected`"), "{err}");
    }
}
