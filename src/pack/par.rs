//! Reading and encoding many small files on every core.
//!
//! A tree of a million DynamoDB items is a million small files to open,
//! read, parse and encode; one thread would leave the other core idle (the
//! writer thread only runs later). Adapters collect file jobs into a
//! [`Window`] while they walk; a full window is processed by one scoped
//! thread per core, each taking a contiguous share, and the results come
//! back in job order so the first error reported does not depend on
//! scheduling. Windows stay small (at most [`WINDOW_FILES`] files and
//! [`WINDOW_DIRS`] directories) so memory and descriptors stay bounded.

use std::sync::Arc;

use super::fsio::Dir;
use super::PackError;

pub const WINDOW_FILES: usize = 2048;
pub const WINDOW_DIRS: usize = 128;
/// A window also closes once its files add up to this many bytes.
pub const WINDOW_BYTES: u64 = 64 << 20;

/// One file to process: its directory (an index into the window's dirs),
/// its name, its tree-relative path, and whatever else the caller needs
/// (e.g. the path below `items/`).
pub struct Job<X> {
    dir: usize,
    pub name: Vec<u8>,
    pub rel: Vec<u8>,
    pub extra: X,
}

/// A batch of file jobs and the directories they live in.
pub struct Window<X> {
    dirs: Vec<Arc<Dir>>,
    jobs: Vec<Job<X>>,
    bytes: u64,
}

impl<X> Default for Window<X> {
    fn default() -> Self {
        Window { dirs: Vec::new(), jobs: Vec::new(), bytes: 0 }
    }
}

impl<X: Sync> Window<X> {
    /// Adds a directory whose files will be pushed next; returns its index
    /// (valid until the next [`run`](Self::run)).
    pub fn add_dir(&mut self, dir: Arc<Dir>) -> usize {
        self.dirs.push(dir);
        self.dirs.len() - 1
    }

    /// Adds a job; `bytes` is what it will read, when known (0 otherwise).
    pub fn push(&mut self, dir: usize, name: Vec<u8>, rel: Vec<u8>, extra: X, bytes: u64) {
        self.jobs.push(Job { dir, name, rel, extra });
        self.bytes += bytes;
    }

    pub fn is_full(&self) -> bool {
        self.jobs.len() >= WINDOW_FILES || self.dirs.len() >= WINDOW_DIRS || self.bytes >= WINDOW_BYTES
    }

    /// Runs `work` on every job, in parallel, and hands the results to
    /// `done` in job order; the first error (in job order) stops it. The
    /// window is empty afterwards.
    pub fn run<T: Send>(
        &mut self,
        work: impl Fn(&Dir, &Job<X>) -> Result<T, PackError> + Sync,
        mut done: impl FnMut(&Job<X>, T) -> Result<(), PackError>,
    ) -> Result<(), PackError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let share = self.jobs.len().div_ceil(threads).max(1);
        let (dirs, jobs) = (&self.dirs, &self.jobs);
        let work = &work;
        let results: Vec<Vec<Result<T, PackError>>> = if jobs.len() < 64 || threads == 1 {
            vec![jobs.iter().map(|j| work(&dirs[j.dir], j)).collect()]
        } else {
            std::thread::scope(|s| {
                let mut parts = jobs.chunks(share);
                let first = parts.next().unwrap_or_default();
                let handles: Vec<_> = parts
                    .map(|part| {
                        s.spawn(move || part.iter().map(|j| work(&dirs[j.dir], j)).collect::<Vec<_>>())
                    })
                    .collect();
                let mut all = vec![first.iter().map(|j| work(&dirs[j.dir], j)).collect::<Vec<_>>()];
                for h in handles {
                    all.push(
                        h.join().unwrap_or_else(|_| vec![Err(PackError::usage("worker thread panicked"))]),
                    );
                }
                all
            })
        };
        let mut outcome = Ok(());
        for (job, r) in self.jobs.iter().zip(results.into_iter().flatten()) {
            if let Err(e) = r.and_then(|v| done(job, v)) {
                outcome = Err(e);
                break;
            }
        }
        self.jobs.clear();
        self.dirs.clear();
        self.bytes = 0;
        outcome
    }
}
