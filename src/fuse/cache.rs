//! Bounded cache of rendered files, so a reader issuing many small reads
//! (or a `stat` followed by an `open`) renders a JSON file once.
//!
//! Sharded by node id: FUSE worker threads rarely contend, and each shard
//! is a small LRU bounded by its share of half the byte budget. Renders
//! too big for a shard go to one shared LRU holding the other half, which
//! always keeps at least the latest one: with zero-message opens there is
//! no file handle to pin content to, and a big JSON file read in 128 KiB
//! requests must not be rendered once per request.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::tree::NodeId;

const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    map: HashMap<NodeId, (Arc<[u8]>, u64)>,
    /// Last-use tick → node: the first entry is the least recently used.
    order: BTreeMap<u64, NodeId>,
    bytes: usize,
    tick: u64,
}

impl Shard {
    fn touch(&mut self, id: NodeId) -> Option<Arc<[u8]>> {
        self.tick += 1;
        let tick = self.tick;
        let (bytes, last) = self.map.get_mut(&id)?;
        self.order.remove(last);
        *last = tick;
        self.order.insert(tick, id);
        Some(bytes.clone())
    }

    fn insert(&mut self, id: NodeId, bytes: Arc<[u8]>, budget: usize) {
        if self.touch(id).is_some() {
            return;
        }
        while self.bytes + bytes.len() > budget && !self.map.is_empty() {
            let Some((_, victim)) = self.order.pop_first() else { break };
            if let Some((b, _)) = self.map.remove(&victim) {
                self.bytes -= b.len();
            }
        }
        self.tick += 1;
        self.bytes += bytes.len();
        self.order.insert(self.tick, id);
        self.map.insert(id, (bytes, self.tick));
    }
}

/// An LRU of rendered file contents keyed by node id, bounded by bytes.
pub(crate) struct RenderCache {
    shards: Box<[Mutex<Shard>]>,
    shard_budget: usize,
    large: Mutex<Shard>,
    large_budget: usize,
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding the lock cannot leave a shard inconsistent in
    // a way that matters for a cache; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RenderCache {
    /// A cache holding about `budget` bytes of content (0 disables it);
    /// a single render larger than half of it is still kept, alone.
    pub(crate) fn new(budget: usize) -> Self {
        RenderCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_budget: budget / 2 / SHARDS,
            large: Mutex::new(Shard::default()),
            large_budget: budget - budget / 2,
        }
    }

    fn shard(&self, id: NodeId) -> MutexGuard<'_, Shard> {
        lock(&self.shards[id as usize % SHARDS])
    }

    pub(crate) fn get(&self, id: NodeId) -> Option<Arc<[u8]>> {
        self.shard(id).touch(id).or_else(|| lock(&self.large).touch(id))
    }

    /// The cached content of `id`, or `render`'s result (cached when it
    /// fits). Rendering runs outside the lock; two threads racing on the
    /// same node both render and the cache keeps one copy.
    pub(crate) fn get_or_render<E>(
        &self,
        id: NodeId,
        render: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        if let Some(hit) = self.get(id) {
            return Ok(hit);
        }
        let bytes: Arc<[u8]> = render()?.into();
        if bytes.len() <= self.shard_budget {
            self.shard(id).insert(id, bytes.clone(), self.shard_budget);
        } else if self.large_budget > 0 {
            lock(&self.large).insert(id, bytes.clone(), self.large_budget);
        }
        Ok(bytes)
    }

    /// Bytes currently held (all shards).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.shards.iter().chain([&self.large]).map(|s| lock(s).bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(n: usize, calls: &mut u32) -> Result<Vec<u8>, ()> {
        *calls += 1;
        Ok(vec![7u8; n])
    }

    #[test]
    fn hits_do_not_render_again() {
        let c = RenderCache::new(16 * 1024);
        let mut calls = 0;
        let a = c.get_or_render(3, || render(100, &mut calls)).unwrap();
        let b = c.get_or_render(3, || render(100, &mut calls)).unwrap();
        assert_eq!(calls, 1);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.bytes(), 100);
    }

    #[test]
    fn evicts_least_recently_used_within_budget() {
        // 16 shards of 1000 bytes; ids 0, 16, 32 share shard 0.
        let c = RenderCache::new(2 * 16 * 1000);
        let mut calls = 0;
        c.get_or_render(0, || render(400, &mut calls)).unwrap();
        c.get_or_render(16, || render(400, &mut calls)).unwrap();
        c.get(0); // 16 is now the oldest
        c.get_or_render(32, || render(400, &mut calls)).unwrap();
        assert!(c.get(0).is_some());
        assert!(c.get(16).is_none());
        assert!(c.get(32).is_some());
        assert_eq!(c.bytes(), 800);
    }

    #[test]
    fn big_renders_share_the_other_half() {
        // Shards of 100 bytes, a large half of 1600.
        let c = RenderCache::new(2 * 16 * 100);
        let mut calls = 0;
        c.get_or_render(1, || render(700, &mut calls)).unwrap();
        c.get_or_render(2, || render(800, &mut calls)).unwrap();
        assert!(c.get(1).is_some() && c.get(2).is_some());
        // Too big for even the large half: kept alone, the others go.
        let huge = c.get_or_render(3, || render(5000, &mut calls)).unwrap();
        assert_eq!(huge.len(), 5000);
        assert!(c.get(3).is_some());
        assert!(c.get(1).is_none() && c.get(2).is_none());
        c.get_or_render(3, || render(5000, &mut calls)).unwrap();
        assert_eq!(calls, 3);
    }

    #[test]
    fn failed_renders_and_a_zero_budget_keep_nothing() {
        let c = RenderCache::new(16 * 100);
        let mut calls = 0;
        assert_eq!(c.get_or_render(2, || Err::<Vec<u8>, _>("bad")), Err("bad"));
        assert!(c.get(2).is_none());
        let off = RenderCache::new(0);
        off.get_or_render(1, || render(1, &mut calls)).unwrap();
        off.get_or_render(2, || render(10_000, &mut calls)).unwrap();
        assert_eq!(off.bytes(), 0);
    }
}
