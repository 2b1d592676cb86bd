//! The roles holding one permission: a sorted id set while it is sparse, a bitset once it is dense.
//!
//! A decision asks whether any of a user's few roles is among a permission's holders. In a sorted set each
//! question is a binary search, a chain of dependent memory reads; in a bitset it is one read, and the reads for
//! the user's roles are independent, so the processor overlaps them. A bitset costs one bit per role id of the
//! tenant, so it is used only when it is no larger than the sorted set (at least one holder per 32 role ids):
//! a hierarchy makes popular permissions dense, and those are the ones checked most.

use super::ids::{Id, IdSet};

/// Bits per word of the bitset.
const WORD: usize = 64;
/// Fewer holders than this stay sorted: a few binary-search steps are as quick as a bit.
const MIN_DENSE: usize = 16;

#[derive(Debug, Clone)]
pub(crate) enum HolderSet {
    Sparse(IdSet),
    /// Bit `id` set for each holder; `count` of them.
    Dense {
        words: Vec<u64>,
        count: usize,
    },
}

impl Default for HolderSet {
    fn default() -> Self {
        Self::Sparse(IdSet::default())
    }
}

impl PartialEq for HolderSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl HolderSet {
    /// The set of the given ids, in the cheaper form.
    pub(crate) fn from_unsorted(ids: Vec<Id>) -> Self {
        let mut set = Self::Sparse(IdSet::from_unsorted(ids));
        set.settle();
        set
    }

    pub(crate) fn contains(&self, id: Id) -> bool {
        match self {
            Self::Sparse(ids) => ids.contains(id),
            Self::Dense { words, .. } => words
                .get(id as usize / WORD)
                .is_some_and(|word| word & (1 << (id as usize % WORD)) != 0),
        }
    }

    /// Whether any id of `roles` (a user's few roles) is a holder.
    pub(crate) fn contains_any(&self, roles: &IdSet) -> bool {
        match self {
            Self::Sparse(ids) => ids.intersects(roles),
            Self::Dense { .. } => roles.iter().any(|role| self.contains(role)),
        }
    }

    /// Adds `id`; `false` when it was there.
    pub(crate) fn insert(&mut self, id: Id) -> bool {
        let added = match self {
            Self::Sparse(ids) => ids.insert(id),
            Self::Dense { words, count } => {
                let at = id as usize / WORD;
                if words.len() <= at {
                    words.resize(at + 1, 0);
                }
                let bit = 1 << (id as usize % WORD);
                let added = words[at] & bit == 0;
                words[at] |= bit;
                *count += usize::from(added);
                added
            }
        };
        if added {
            self.settle();
        }
        added
    }

    /// Removes `id`; `false` when it was not there.
    pub(crate) fn remove(&mut self, id: Id) -> bool {
        let removed = match self {
            Self::Sparse(ids) => ids.remove(id),
            Self::Dense { words, count } => {
                let at = id as usize / WORD;
                let bit = 1 << (id as usize % WORD);
                let removed = words.get(at).is_some_and(|word| word & bit != 0);
                if removed {
                    words[at] &= !bit;
                    *count -= 1;
                }
                removed
            }
        };
        if removed {
            self.settle();
        }
        removed
    }

    /// Switches form: dense once the bitset is at most four times the sorted set's size, sparse again once it is
    /// half as full as that (so a set near the line does not switch back and forth).
    fn settle(&mut self) {
        match self {
            Self::Sparse(ids) => {
                let Some(highest) = ids.iter().last() else {
                    return;
                };
                let bits = highest as usize + 1;
                if ids.len() * 128 >= bits && ids.len() >= MIN_DENSE {
                    let mut words = vec![0u64; bits.div_ceil(WORD)];
                    for id in ids.iter() {
                        words[id as usize / WORD] |= 1 << (id as usize % WORD);
                    }
                    *self = Self::Dense {
                        count: ids.len(),
                        words,
                    };
                }
            }
            Self::Dense { words, count } => {
                if *count * 256 < words.len() * WORD || *count < MIN_DENSE / 2 {
                    let ids: Vec<Id> = self.iter().collect();
                    *self = Self::Sparse(IdSet::from_unsorted(ids));
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Sparse(ids) => ids.len(),
            Self::Dense { count, .. } => *count,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The holders in increasing order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = Id> + '_> {
        match self {
            Self::Sparse(ids) => Box::new(ids.iter()),
            Self::Dense { words, .. } => {
                Box::new(words.iter().enumerate().flat_map(|(at, &word)| {
                    (0..WORD)
                        .filter(move |bit| word & (1 << bit) != 0)
                        .map(move |bit| (at * WORD + bit) as Id)
                }))
            }
        }
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Sparse(ids) => ids.heap_bytes(),
            Self::Dense { words, .. } => words.capacity() * std::mem::size_of::<u64>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_switches_form_as_it_fills_and_empties_and_answers_the_same() {
        let mut set = HolderSet::default();
        let mut expected = std::collections::BTreeSet::new();
        for id in (0..2_000).step_by(3) {
            assert!(set.insert(id));
            expected.insert(id);
        }
        assert!(matches!(set, HolderSet::Dense { .. }), "dense when full");
        assert!(!set.insert(3));
        for id in (0..1_995).step_by(3) {
            assert!(set.remove(id));
            expected.remove(&id);
        }
        assert!(
            matches!(set, HolderSet::Sparse(_)),
            "sparse again when nearly empty"
        );
        assert!(!set.remove(0));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            expected.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(set.len(), expected.len());
        let roles = IdSet::from_unsorted(vec![1, 1_998, 5_000]);
        assert!(set.contains_any(&roles));
        let dense = HolderSet::from_unsorted((0..1_000).collect());
        assert!(matches!(dense, HolderSet::Dense { .. }));
        assert!(dense.contains(999) && !dense.contains(1_000) && !dense.contains(70_000));
        assert!(!dense.contains_any(&IdSet::from_unsorted(vec![1_000, 4_000])));
        assert_eq!(
            dense,
            HolderSet::Sparse(IdSet::from_unsorted((0..1_000).collect()))
        );
    }
}
