//! Which role-inheritance edges may be added: the graph stays acyclic and no chain grows past
//! [`MAX_INHERITANCE_DEPTH`] edges, so every walk of it is bounded.

use std::collections::HashMap;

/// The most edges on any chain of inheritance (`a` inherits `b` inherits `c` … is a chain of two and more). Deep
/// enough for any organisation chart; shallow enough that a decision's walk stays short.
pub const MAX_INHERITANCE_DEPTH: usize = 16;

/// Why an edge is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeRefusal {
    /// The parent already inherits (directly or not) the role, or they are the same role.
    Cycle,
    /// The longest chain through the new edge would exceed [`MAX_INHERITANCE_DEPTH`].
    TooDeep,
}

/// Whether `role` may gain the edge `role` inherits `parent`, given the tenant's existing edges as
/// `(role, parent)` pairs (which form an acyclic graph).
pub fn check_new_edge<'a>(
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    role: &str,
    parent: &str,
) -> Result<(), EdgeRefusal> {
    if role == parent {
        return Err(EdgeRefusal::Cycle);
    }
    let mut up: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut down: HashMap<&str, Vec<&str>> = HashMap::new();
    for (child, parent) in edges {
        up.entry(child).or_default().push(parent);
        down.entry(parent).or_default().push(child);
    }
    // A cycle is a path from `parent` up to `role`; the longest chain is the longest one down from `role`, the
    // new edge, and the longest one up from `parent`.
    let Some(above) = longest(&up, parent, Some(role)) else {
        return Err(EdgeRefusal::Cycle);
    };
    let below = longest(&down, role, None).unwrap_or(0);
    if below + 1 + above > MAX_INHERITANCE_DEPTH {
        return Err(EdgeRefusal::TooDeep);
    }
    Ok(())
}

/// The most edges on a path from `from` along `next`; `None` when such a path reaches `forbidden`. Memoised, so
/// linear in the edges.
fn longest<'a>(
    next: &HashMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    forbidden: Option<&str>,
) -> Option<usize> {
    fn walk<'a>(
        next: &HashMap<&'a str, Vec<&'a str>>,
        at: &'a str,
        forbidden: Option<&str>,
        memo: &mut HashMap<&'a str, Option<usize>>,
    ) -> Option<usize> {
        if Some(at) == forbidden {
            return None;
        }
        if let Some(&known) = memo.get(at) {
            return known;
        }
        let mut most = Some(0);
        for &step in next.get(at).map(Vec::as_slice).unwrap_or_default() {
            match walk(next, step, forbidden, memo) {
                Some(depth) => most = most.map(|m| m.max(depth + 1)),
                None => {
                    most = None;
                    break;
                }
            }
        }
        memo.insert(at, most);
        most
    }
    walk(next, from, forbidden, &mut HashMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(len: usize) -> Vec<(String, String)> {
        (0..len)
            .map(|i| (format!("r{i}"), format!("r{}", i + 1)))
            .collect()
    }

    fn check(edges: &[(String, String)], role: &str, parent: &str) -> Result<(), EdgeRefusal> {
        check_new_edge(
            edges.iter().map(|(a, b)| (a.as_str(), b.as_str())),
            role,
            parent,
        )
    }

    #[test]
    fn refuses_self_edges_and_every_cycle() {
        let edges = chain(5);
        assert_eq!(check(&edges, "r2", "r2"), Err(EdgeRefusal::Cycle));
        assert_eq!(check(&edges, "r5", "r0"), Err(EdgeRefusal::Cycle));
        assert_eq!(check(&edges, "r3", "r1"), Err(EdgeRefusal::Cycle));
        assert_eq!(check(&edges, "r0", "r3"), Ok(()), "a shortcut is no cycle");
        assert_eq!(check(&edges, "x", "r0"), Ok(()));
    }

    #[test]
    fn counts_the_longest_chain_through_the_new_edge() {
        let edges = chain(MAX_INHERITANCE_DEPTH - 1);
        // r0 … r15 is 15 edges; one more on either end is 16, two more is 17.
        assert_eq!(check(&edges, "top", "r0"), Ok(()));
        let mut longer = edges.clone();
        longer.push(("top".into(), "r0".into()));
        assert_eq!(check(&longer, "r15", "bottom"), Err(EdgeRefusal::TooDeep));
        assert_eq!(check(&longer, "side", "r3"), Ok(()), "a short branch");
        assert_eq!(check(&edges, "r15", "bottom"), Ok(()));
    }

    #[test]
    fn a_diamond_is_allowed_and_measured_by_its_longest_side() {
        let edges: Vec<(String, String)> = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
            .iter()
            .map(|(x, y)| ((*x).to_owned(), (*y).to_owned()))
            .collect();
        assert_eq!(check(&edges, "d", "a"), Err(EdgeRefusal::Cycle));
        assert_eq!(check(&edges, "b", "c"), Ok(()));
    }
}
