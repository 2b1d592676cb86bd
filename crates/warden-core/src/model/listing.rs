//! Pages of sorted listings, picked without sorting the whole listing.

use std::collections::BTreeSet;

/// Which part of a sorted listing to answer: the names after `after` (exclusive), at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub after: Option<&'a str>,
    pub limit: usize,
}

impl PageRequest<'_> {
    /// The whole listing.
    pub const ALL: PageRequest<'static> = PageRequest {
        after: None,
        limit: usize::MAX,
    };
}

/// One page of a sorted listing (a "page": `Page` is the users service's); `more` says whether names follow its last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// The page's names: the `limit` smallest distinct names after the cursor, sorted, and whether more follow. It keeps
/// only a bounded ordered set of borrowed names (`limit + 1` of them, O(n log limit) in all), so a page never
/// costs a sorted copy of the whole listing under the model's lock.
pub(crate) fn page_of<'m>(
    names: impl Iterator<Item = &'m str>,
    page: PageRequest<'_>,
) -> Listed<&'m str> {
    let keep = page.limit.saturating_add(1);
    let mut smallest: BTreeSet<&'m str> = BTreeSet::new();
    for name in names {
        if page.after.is_some_and(|after| name <= after) {
            continue;
        }
        if smallest.len() == keep && smallest.last().is_some_and(|&last| name >= last) {
            continue;
        }
        smallest.insert(name);
        if smallest.len() > keep {
            smallest.pop_last();
        }
    }
    let more = smallest.len() > page.limit;
    Listed {
        items: smallest.into_iter().take(page.limit).collect(),
        more,
    }
}

pub(crate) fn owned(page: Listed<&str>) -> Listed<String> {
    Listed {
        items: page.items.into_iter().map(str::to_owned).collect(),
        more: page.more,
    }
}
