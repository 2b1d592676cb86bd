//! Session permissions with wildcards: a stored permission's `*` matches any run of characters (also none), and a
//! permission without `*` matches only itself. Matching is linear in the two lengths, whatever the pattern.

use std::collections::BTreeMap;

/// Whether the stored `pattern` grants `permission` (see the module docs).
pub fn permission_matches(pattern: &str, permission: &str) -> bool {
    Compiled::new(pattern).matches(permission)
}

/// A stored permission split at its `*`s once per check, with a prebuilt substring searcher for each inner piece.
///
/// Matching is linear: the first piece must start the permission, the last must end it, and each piece between is
/// found (leftmost) after the previous one. Taking the leftmost occurrence never loses a match, since a `*` can
/// swallow whatever lies before the next piece. It works on bytes, which is exact for UTF-8: a valid piece can only
/// occur in valid text at character boundaries.
struct Compiled<'a> {
    /// The whole pattern when it has no `*`.
    exact: Option<&'a str>,
    first: &'a str,
    inner: Vec<memchr::memmem::Finder<'a>>,
    last: &'a str,
}

impl<'a> Compiled<'a> {
    fn new(pattern: &'a str) -> Self {
        let mut pieces = pattern.split('*');
        // `split` yields at least one piece, even for an empty pattern.
        let first = pieces.next().unwrap_or_default();
        let Some(last) = pieces.next_back() else {
            return Self {
                exact: Some(pattern),
                first,
                inner: Vec::new(),
                last: "",
            };
        };
        Self {
            exact: None,
            first,
            inner: pieces
                .filter(|piece| !piece.is_empty())
                .map(memchr::memmem::Finder::new)
                .collect(),
            last,
        }
    }

    fn matches(&self, permission: &str) -> bool {
        if let Some(exact) = self.exact {
            return exact == permission;
        }
        let Some(rest) = permission.strip_prefix(self.first) else {
            return false;
        };
        let mut rest = rest.as_bytes();
        for piece in &self.inner {
            match piece.find(rest) {
                Some(at) => rest = &rest[at + piece.needle().len()..],
                None => return false,
            }
        }
        rest.ends_with(self.last.as_bytes())
    }
}

/// For each requested permission, whether one of `patterns` grants it; each pattern is compiled once.
pub fn grants(patterns: &[String], requested: Vec<String>) -> BTreeMap<String, bool> {
    let compiled: Vec<Compiled<'_>> = patterns.iter().map(|p| Compiled::new(p)).collect();
    requested
        .into_iter()
        .map(|wanted| {
            let granted = compiled.iter().any(|pattern| pattern.matches(&wanted));
            (wanted, granted)
        })
        .collect()
}

/// The most (stored permission, requested permission) pairs one `POST /api/sessions/{id}/check` may compare: the
/// number of the session's permissions times the number asked about. Each pair costs time linear in the two
/// lengths (at most 255 characters each), so this bounds a check's work; over it the check is refused (400).
pub const MAX_CHECK_PAIRS: usize = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_table() {
        for (pattern, permission, expected) in [
            ("admin:*", "admin:read", true),
            ("admin:*", "admin:read:all", true),
            ("admin:*", "admin:", true),
            ("admin:*", "admin", false),
            ("admin:*", "Admin:read", false),
            ("admin:*", "xadmin:read", false),
            ("admin:read", "admin:read", true),
            ("admin:read", "admin:Read", false),
            ("admin:read", "admin:read:all", false),
            ("*", "anything at all", true),
            ("*", "", true),
            ("*:read", "docs:read", true),
            ("*:read", "docs:write", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a**", "a", true),
            ("docs:*:own", "docs:edit:own", true),
            ("docs:*:own", "docs:edit:all", false),
            ("ünï*", "ünïcode", true),
            ("%", "anything", false),
            ("_", "x", false),
            (".*", "abc", false),
        ] {
            assert_eq!(
                permission_matches(pattern, permission),
                expected,
                "{pattern} vs {permission}"
            );
        }
    }

    /// The textbook dynamic programme: `*` matches any run, everything else itself.
    fn reference(pattern: &str, permission: &str) -> bool {
        let (p, s): (Vec<char>, Vec<char>) =
            (pattern.chars().collect(), permission.chars().collect());
        let mut row = vec![false; s.len() + 1];
        row[0] = true;
        for &c in &p {
            let mut next = vec![false; s.len() + 1];
            if c == '*' {
                let mut seen = false;
                for j in 0..=s.len() {
                    seen |= row[j];
                    next[j] = seen;
                }
            } else {
                for j in 1..=s.len() {
                    next[j] = row[j - 1] && s[j - 1] == c;
                }
            }
            row = next;
        }
        row[s.len()]
    }

    /// Every string over `alphabet` up to `len` characters.
    fn strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..len {
            layer = layer
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(layer.iter().cloned());
        }
        all
    }

    #[test]
    fn the_linear_matcher_agrees_with_the_textbook_one_on_every_small_case() {
        let patterns = strings(&['a', 'b', '*'], 5);
        let permissions = strings(&['a', 'b'], 6);
        for pattern in &patterns {
            for permission in &permissions {
                assert_eq!(
                    permission_matches(pattern, permission),
                    reference(pattern, permission),
                    "{pattern:?} vs {permission:?}"
                );
            }
        }
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = format!("{}b", "*a".repeat(100));
        let subject = "a".repeat(255);
        let start = std::time::Instant::now();
        assert!(!permission_matches(&pattern, &subject));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
