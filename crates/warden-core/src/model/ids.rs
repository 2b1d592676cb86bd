//! Names as small integers: each distinct role, user and permission name is stored once, and every edge of the
//! model is a pair of `u32`s. That is what keeps a model of a million memberships in tens of megabytes.

use hashbrown::HashTable;

/// A name's number within its interner.
pub(crate) type Id = u32;

/// A sorted set of ids in one allocation: four bytes an element, look-ups by binary search. The model's sets are
/// small per key (a user's roles, a role's grants) or read far more often than written, so a sorted vector beats a
/// hash set on both memory and speed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct IdSet(Vec<Id>);

impl IdSet {
    /// The set of the given ids, in any order and with repeats.
    pub(crate) fn from_unsorted(mut ids: Vec<Id>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        ids.shrink_to_fit();
        Self(ids)
    }

    pub(crate) fn contains(&self, id: Id) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// Adds `id`; `false` when it was there.
    pub(crate) fn insert(&mut self, id: Id) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Removes `id`; `false` when it was not there.
    pub(crate) fn remove(&mut self, id: Id) -> bool {
        match self.0.binary_search(&id) {
            Ok(at) => {
                self.0.remove(at);
                if self.0.capacity() > 8 && self.0.len() * 4 < self.0.capacity() {
                    self.0.shrink_to_fit();
                }
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        self.0.iter().copied()
    }

    /// Whether the two sets share an id: each id of the smaller is looked up in the larger.
    pub(crate) fn intersects(&self, other: &IdSet) -> bool {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        small.iter().any(|id| large.contains(id))
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Id>()
    }
}

/// Names ↔ ids for one kind of name. An id freed by [`Interner::release`] is reused by the next new name, so churn
/// does not grow the tables.
#[derive(Default)]
pub(crate) struct Interner {
    /// By id; a freed slot holds the empty string (no valid name is empty).
    names: Vec<Box<str>>,
    /// The ids of live names, hashed by their name.
    index: HashTable<Id>,
    free: Vec<Id>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("live", &self.len())
            .finish_non_exhaustive()
    }
}

impl Interner {
    fn hash(&self, name: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, name)
    }

    /// The id of `name`, when it is live.
    pub(crate) fn get(&self, name: &str) -> Option<Id> {
        let names = &self.names;
        self.index
            .find(self.hash(name), |&id| &*names[id as usize] == name)
            .copied()
    }

    /// The id of `name`, given one when it is new.
    pub(crate) fn intern(&mut self, name: &str) -> Id {
        if let Some(id) = self.get(name) {
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = name.into();
                id
            }
            None => {
                let id = Id::try_from(self.names.len()).expect("fewer than 2^32 names of a kind");
                self.names.push(name.into());
                id
            }
        };
        let hash = self.hash(name);
        let (names, hasher) = (&self.names, &self.hasher);
        self.index.insert_unique(hash, id, |&other| {
            std::hash::BuildHasher::hash_one(hasher, &*names[other as usize])
        });
        id
    }

    /// Forgets the name of `id`, whose slot the next new name may take.
    pub(crate) fn release(&mut self, id: Id) {
        let hash = self.hash(&self.names[id as usize]);
        if let Ok(entry) = self.index.find_entry(hash, |&other| other == id) {
            entry.remove();
            self.names[id as usize] = Box::from("");
            self.free.push(id);
        }
    }

    /// The name of a live id.
    pub(crate) fn name(&self, id: Id) -> &str {
        &self.names[id as usize]
    }

    /// How many names are live.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// How many ids have ever been given (live or free): the length the per-id tables need.
    pub(crate) fn capacity(&self) -> usize {
        self.names.len()
    }

    /// Bytes held on the heap, names included.
    pub(crate) fn heap_bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len()).sum();
        self.names.capacity() * std::mem::size_of::<Box<str>>()
            + names
            + self.index.capacity() * (std::mem::size_of::<Id>() + 1)
            + self.free.capacity() * std::mem::size_of::<Id>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interner_reuses_freed_ids_and_forgets_their_names() {
        let mut names = Interner::default();
        let a = names.intern("alice");
        let b = names.intern("bob");
        assert_eq!(names.intern("alice"), a);
        assert_eq!((names.name(a), names.name(b)), ("alice", "bob"));
        names.release(a);
        assert_eq!(names.get("alice"), None);
        assert_eq!(names.len(), 1);
        let c = names.intern("carol");
        assert_eq!(c, a, "the freed slot is taken again");
        assert_eq!(names.get("carol"), Some(c));
        assert_eq!(names.get("bob"), Some(b));
        assert_eq!(names.capacity(), 2);
    }

    #[test]
    fn an_id_set_stays_sorted_and_answers_intersections() {
        let mut set = IdSet::from_unsorted(vec![9, 3, 3, 7]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [3, 7, 9]);
        assert!(set.insert(5));
        assert!(!set.insert(5));
        assert!(set.remove(3));
        assert!(!set.remove(3));
        assert_eq!(set.iter().collect::<Vec<_>>(), [5, 7, 9]);
        assert!(set.intersects(&IdSet::from_unsorted(vec![1, 2, 9])));
        assert!(!set.intersects(&IdSet::from_unsorted(vec![1, 2, 8])));
        assert!(!set.intersects(&IdSet::default()));
    }
}
