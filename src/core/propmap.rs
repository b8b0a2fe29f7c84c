//! [`PropMap`]: a property set as one vector sorted by property ID.
//!
//! Messages hold tens of properties, read far more often than changed: a lookup is a binary
//! search over contiguous entries (no pointer chasing through tree nodes), iteration is a slice
//! walk, and a set built from rows that arrive in ID order is appended without moves. The API is
//! the subset of `BTreeMap<u16, PropValue>` the crate uses, with the same meaning.

use super::value::PropValue;
use std::fmt;
use std::sync::OnceLock;

/// A property set with one value per property ID, in ID order.
#[derive(Default)]
pub struct PropMap {
    entries: Vec<(u16, PropValue)>,
    /// Where each ID's low byte leads, built at the first lookup after a change (a map read
    /// far more often than changed, as a message's stored base, pays for it once).
    index: OnceLock<Box<LowByteIndex>>,
}

/// For each low byte of a property ID: 1 + the position of the one entry whose ID has it,
/// [`NO_ENTRY`] when none has, [`SEVERAL`] when more than one (those IDs binary-search). A
/// lookup is then one load and one comparison, not a search's dependent probes.
type LowByteIndex = [u8; 256];
const NO_ENTRY: u8 = 0;
const SEVERAL: u8 = u8::MAX;
/// Positions the index can name (1 + position < SEVERAL); larger maps binary-search.
const INDEXED_MAX: usize = SEVERAL as usize - 1;
/// Maps this small binary-search (three or four probes): a recipient's or an attachment's
/// few properties do not pay 256 bytes and a build for an index.
const INDEXED_MIN: usize = 9;

impl Clone for PropMap {
    fn clone(&self) -> PropMap {
        PropMap {
            entries: self.entries.clone(),
            index: OnceLock::new(),
        }
    }
}

impl PartialEq for PropMap {
    fn eq(&self, other: &PropMap) -> bool {
        self.entries == other.entries
    }
}

type EntryRef<'a> = &'a (u16, PropValue);
type Pair<'a> = (&'a u16, &'a PropValue);

fn pair(e: EntryRef<'_>) -> Pair<'_> {
    (&e.0, &e.1)
}

/// The borrowed iterator: (ID, value) in ID order.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (u16, PropValue)>, fn(EntryRef<'a>) -> Pair<'a>>;

impl PropMap {
    pub const fn new() -> PropMap {
        PropMap {
            entries: Vec::new(),
            index: OnceLock::new(),
        }
    }

    pub fn with_capacity(n: usize) -> PropMap {
        PropMap {
            entries: Vec::with_capacity(n),
            index: OnceLock::new(),
        }
    }

    fn find(&self, id: u16) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |e| e.0)
    }

    /// The position of `id`, through the low-byte index when the map is small enough for one.
    #[inline(always)]
    fn position(&self, id: u16) -> Option<usize> {
        if !(INDEXED_MIN..=INDEXED_MAX).contains(&self.entries.len()) {
            return self.find(id).ok();
        }
        let index = self.index.get_or_init(|| self.build_index());
        match index[id as usize & 0xFF] {
            NO_ENTRY => None,
            SEVERAL => self.find(id).ok(),
            p => {
                let i = p as usize - 1;
                (self.entries[i].0 == id).then_some(i)
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn build_index(&self) -> Box<LowByteIndex> {
        let mut index = Box::new([NO_ENTRY; 256]);
        for (i, (id, _)) in self.entries.iter().enumerate() {
            let slot = &mut index[*id as usize & 0xFF];
            *slot = if *slot == NO_ENTRY {
                i as u8 + 1
            } else {
                SEVERAL
            };
        }
        index
    }

    /// Forgets the index (the IDs or their positions are about to change).
    fn changed(&mut self) {
        if self.index.get().is_some() {
            self.index = OnceLock::new();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline(always)]
    pub fn get(&self, id: &u16) -> Option<&PropValue> {
        self.position(*id).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, id: &u16) -> Option<&mut PropValue> {
        match self.position(*id) {
            Some(i) => Some(&mut self.entries[i].1),
            None => None,
        }
    }

    pub fn contains_key(&self, id: &u16) -> bool {
        self.position(*id).is_some()
    }

    /// Sets `id`, returning the value it replaces.
    pub fn insert(&mut self, id: u16, value: PropValue) -> Option<PropValue> {
        // Rows come from storage and from callers mostly in ID order: append without a search.
        if self.entries.last().is_none_or(|e| e.0 < id) {
            self.changed();
            self.entries.push((id, value));
            return None;
        }
        match self.find(id) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.changed();
                self.entries.insert(i, (id, value));
                None
            }
        }
    }

    pub fn remove(&mut self, id: &u16) -> Option<PropValue> {
        let i = self.find(*id).ok()?;
        self.changed();
        Some(self.entries.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&u16, &mut PropValue) -> bool) {
        self.changed();
        self.entries.retain_mut(|(id, v)| keep(id, v));
    }

    pub fn clear(&mut self) {
        self.changed();
        self.entries.clear();
    }

    pub fn iter(&self) -> Iter<'_> {
        self.entries
            .iter()
            .map(pair as fn(EntryRef<'_>) -> Pair<'_>)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&u16, &mut PropValue)> {
        self.entries.iter_mut().map(|(id, v)| (&*id, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &u16> + ExactSizeIterator + Clone {
        self.entries.iter().map(|e| &e.0)
    }

    pub fn values(
        &self,
    ) -> impl DoubleEndedIterator<Item = &PropValue> + ExactSizeIterator + Clone {
        self.entries.iter().map(|e| &e.1)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut PropValue> {
        self.entries.iter_mut().map(|e| &mut e.1)
    }

    pub fn entry(&mut self, id: u16) -> Entry<'_> {
        Entry { map: self, id }
    }
}

/// The slot for one ID (the `or_insert` forms of `BTreeMap::entry`).
pub struct Entry<'a> {
    map: &'a mut PropMap,
    id: u16,
}

impl<'a> Entry<'a> {
    pub fn or_insert_with(self, make: impl FnOnce() -> PropValue) -> &'a mut PropValue {
        let i = match self.map.find(self.id) {
            Ok(i) => i,
            Err(i) => {
                let value = make();
                self.map.changed();
                self.map.entries.insert(i, (self.id, value));
                i
            }
        };
        &mut self.map.entries[i].1
    }

    pub fn or_insert(self, value: PropValue) -> &'a mut PropValue {
        self.or_insert_with(|| value)
    }
}

impl fmt::Debug for PropMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(u16, PropValue)> for PropMap {
    fn from_iter<I: IntoIterator<Item = (u16, PropValue)>>(iter: I) -> PropMap {
        let mut map = PropMap::new();
        map.extend(iter);
        map
    }
}

impl Extend<(u16, PropValue)> for PropMap {
    /// A later value for an ID replaces the earlier one, as in `BTreeMap`.
    fn extend<I: IntoIterator<Item = (u16, PropValue)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.entries.reserve(iter.size_hint().0);
        for (id, v) in iter {
            self.insert(id, v);
        }
    }
}

impl<const N: usize> From<[(u16, PropValue); N]> for PropMap {
    fn from(entries: [(u16, PropValue); N]) -> PropMap {
        entries.into_iter().collect()
    }
}

impl IntoIterator for PropMap {
    type Item = (u16, PropValue);
    type IntoIter = std::vec::IntoIter<(u16, PropValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a PropMap {
    type Item = Pair<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(i: i32) -> PropValue {
        PropValue::Long(i)
    }

    #[test]
    fn behaves_as_an_ordered_map() {
        let mut map = PropMap::new();
        for id in [5u16, 1, 9, 3, 7, 1] {
            map.insert(id, long(id as i32 * 10));
        }
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), vec![1, 3, 5, 7, 9]);
        assert_eq!(map.insert(3, long(-3)), Some(long(30)));
        assert_eq!(map.get(&3), Some(&long(-3)));
        assert_eq!(map.get(&4), None);
        assert_eq!(map.remove(&5), Some(long(50)));
        assert_eq!(map.remove(&5), None);
        assert!(!map.contains_key(&5) && map.contains_key(&9));
        *map.entry(2).or_insert(long(0)) = long(2);
        assert_eq!(*map.entry(2).or_insert(long(99)), long(2));
        map.retain(|id, _| *id != 9);
        let pairs: Vec<(u16, PropValue)> = map.clone().into_iter().collect();
        assert_eq!(
            pairs,
            vec![(1, long(10)), (2, long(2)), (3, long(-3)), (7, long(70))]
        );
        let later_wins: PropMap = [(4, long(1)), (2, long(1)), (4, long(2))].into();
        assert_eq!(
            later_wins.iter().collect::<Vec<_>>(),
            vec![(&2, &long(1)), (&4, &long(2))]
        );
    }

    /// IDs sharing a low byte, lookups between changes (the index rebuilt after each), and a
    /// map too large for the index all answer as a search does.
    #[test]
    fn lookups_agree_through_the_low_byte_index() {
        let mut map = PropMap::new();
        // Enough properties for the index.
        let ids = [
            0x0037u16, 0x0137, 0x8037, 0x0E06, 0x0070, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005,
        ];
        for id in ids {
            map.insert(id, long(id as i32));
        }
        for id in [
            0x0037u16, 0x0137, 0x8037, 0x0E06, 0x0070, 0x0237, 0x0006, 0x0071,
        ] {
            assert_eq!(map.get(&id).is_some(), map.find(id).is_ok(), "{id:#x}");
        }
        assert!(map.index.get().is_some(), "looked up through the index");
        map.remove(&0x0137);
        assert!(map.index.get().is_none(), "a change forgets the index");
        assert_eq!(map.get(&0x0137), None);
        assert_eq!(map.get(&0x8037), Some(&long(0x8037)));
        map.insert(0x0106, long(6));
        assert_eq!(map.get(&0x0E06), Some(&long(0x0E06)));
        assert_eq!(map.get(&0x0106), Some(&long(6)));
        let small: PropMap = [(1, long(1)), (2, long(2))].into();
        assert_eq!(small.get(&2), Some(&long(2)));
        assert!(small.index.get().is_none(), "a small map searches");
        let mut big: PropMap = (0..600u16).map(|i| (i * 3, long(i as i32))).collect();
        assert_eq!(big.get(&(3 * 599)), Some(&long(599)));
        assert_eq!(big.get(&1), None);
        big.retain(|id, _| *id < 30);
        assert_eq!(big.get(&27), Some(&long(9)));
        assert_eq!(big.get(&30), None);
    }

    #[test]
    fn agrees_with_btreemap_on_random_operations() {
        use std::collections::BTreeMap;
        let mut flat = PropMap::new();
        let mut tree = BTreeMap::new();
        let mut x: u32 = 12345;
        for _ in 0..20_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Spread over IDs whose low bytes collide.
            let id = ((x >> 8) % 97) as u16 * 37;
            match (x >> 20) % 3 {
                0 | 1 => assert_eq!(
                    flat.insert(id, long(x as i32)),
                    tree.insert(id, long(x as i32))
                ),
                _ => assert_eq!(flat.remove(&id), tree.remove(&id)),
            }
            let probe = ((x >> 4) % 97) as u16 * 37;
            assert_eq!(flat.get(&probe), tree.get(&probe));
        }
        assert!(flat.iter().eq(tree.iter()));
        assert_eq!(flat.len(), tree.len());
    }
}
