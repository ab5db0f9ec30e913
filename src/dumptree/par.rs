//! Reading many small files on every core.
//!
//! A tree of a million DynamoDB items is a million small files to open,
//! read, parse and encode (and, for the self-test, to read again and
//! compare). The walk itself — listing directories, applying results — is
//! light and stays on the calling thread; it collects file jobs into
//! windows and hands full windows to one worker thread per core through a
//! [`Pipeline`], which keeps walking meanwhile. Results are applied in
//! window and job order, so the first error reported does not depend on
//! scheduling. Windows stay small (at most [`WINDOW_FILES`] files,
//! [`WINDOW_DIRS`] directories, [`WINDOW_BYTES`] bytes) and only a few are
//! in flight, so memory and descriptors stay bounded: each directory in a
//! window is an open handle, so under a low `ulimit -n` windows hold fewer
//! directories ([`window_dirs`]).

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::fsio::Dir;
use crate::exit::Failure as PackError;

pub(crate) const WINDOW_FILES: usize = 1024;
pub(crate) const WINDOW_DIRS: usize = 128;
/// A window also closes once its files add up to this many bytes.
pub(crate) const WINDOW_BYTES: u64 = 32 << 20;

/// One file to process: its directory (an index into the window's dirs),
/// its name, its tree-relative path, and whatever else the caller needs
/// (e.g. the path below `items/`).
pub(crate) struct Job<X> {
    dir: usize,
    pub name: Vec<u8>,
    pub(crate) rel: Vec<u8>,
    pub(crate) extra: X,
}

/// A batch of file jobs and the directories they live in.
struct Window<X> {
    dirs: Vec<Arc<Dir>>,
    jobs: Vec<Job<X>>,
    bytes: u64,
}

impl<X> Window<X> {
    fn new() -> Self {
        Window { dirs: Vec::new(), jobs: Vec::new(), bytes: 0 }
    }
}

/// A processed window: the jobs and their results, in job order.
type Done<X, T> = (Window<X>, Vec<Result<T, PackError>>);
/// A processed window with its sequence number.
type Results<X, T> = (u64, Window<X>, Vec<Result<T, PackError>>);

/// Directories per window for `threads` workers: [`WINDOW_DIRS`], or fewer
/// so that the windows in flight (about three per worker: queued, being
/// processed, done but not applied) hold at most half the descriptor limit.
pub(crate) fn window_dirs(threads: usize) -> usize {
    // SAFETY: `lim` is plain old data filled in by the kernel.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return WINDOW_DIRS;
    }
    let budget = usize::try_from(lim.rlim_cur / 2).unwrap_or(usize::MAX);
    (budget / (3 * threads.max(1) + 1)).clamp(1, WINDOW_DIRS)
}

/// The walking side of a pipeline (see the module docs).
pub(crate) struct Pipeline<X, T> {
    window: Window<X>,
    max_dirs: usize,
    jobs: Option<SyncSender<(u64, Window<X>)>>,
    results: Receiver<Results<X, T>>,
    sent: u64,
    applied: u64,
    parked: BTreeMap<u64, Done<X, T>>,
}

/// Runs `walk` on this thread with a [`Pipeline`] whose windows are
/// processed by `work` on one worker thread per core.
pub(crate) fn with_pipeline<X, T, R>(
    work: impl Fn(&Dir, &Job<X>) -> Result<T, PackError> + Sync,
    walk: impl FnOnce(&mut Pipeline<X, T>) -> Result<R, PackError>,
) -> Result<R, PackError>
where
    X: Send,
    T: Send,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let (jobs_tx, jobs_rx) = sync_channel::<(u64, Window<X>)>(threads);
    let jobs_rx = Mutex::new(jobs_rx);
    let (results_tx, results) = channel::<Results<X, T>>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (jobs_rx, results_tx, work) = (&jobs_rx, results_tx.clone(), &work);
            s.spawn(move || loop {
                let next = jobs_rx.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
                let Ok((seq, w)) = next else { return };
                let out = w.jobs.iter().map(|j| work(&w.dirs[j.dir], j)).collect();
                if results_tx.send((seq, w, out)).is_err() {
                    return;
                }
            });
        }
        drop(results_tx);
        let mut p = Pipeline {
            window: Window::new(),
            max_dirs: window_dirs(threads),
            jobs: Some(jobs_tx),
            results,
            sent: 0,
            applied: 0,
            parked: BTreeMap::new(),
        };
        let r = walk(&mut p);
        // Stop the workers (they finish the window in hand) and let the
        // scope join them.
        p.jobs = None;
        r
    })
}

impl<X, T> Pipeline<X, T> {
    /// Adds a directory whose files will be pushed next; returns its index
    /// (valid until the window is submitted: see [`push`](Self::push)).
    pub(crate) fn add_dir(&mut self, dir: Arc<Dir>) -> usize {
        self.window.dirs.push(dir);
        self.window.dirs.len() - 1
    }

    /// Adds a job; `bytes` is what it will read, when known (0 otherwise).
    /// Returns true when the window is full: the caller should
    /// [`submit`](Self::submit) it (directory indexes start over then).
    #[must_use]
    pub(crate) fn push(&mut self, dir: usize, name: Vec<u8>, rel: Vec<u8>, extra: X, bytes: u64) -> bool {
        let w = &mut self.window;
        w.jobs.push(Job { dir, name, rel, extra });
        w.bytes += bytes;
        w.jobs.len() >= WINDOW_FILES || w.dirs.len() >= self.max_dirs || w.bytes >= WINDOW_BYTES
    }

    /// Hands the current window to the workers and applies, through
    /// `done`, every result that is ready, in order.
    pub(crate) fn submit(
        &mut self,
        done: &mut impl FnMut(&Job<X>, T) -> Result<(), PackError>,
    ) -> Result<(), PackError> {
        if !self.window.jobs.is_empty() {
            let w = std::mem::replace(&mut self.window, Window::new());
            let jobs = self.jobs.as_ref().expect("pipeline open");
            if jobs.send((self.sent, w)).is_err() {
                return Err(PackError::usage("worker threads stopped"));
            }
            self.sent += 1;
        } else {
            self.window.dirs.clear();
        }
        while let Ok(r) = self.results.try_recv() {
            self.park(r);
        }
        self.apply(done)
    }

    /// Submits what is left and applies every result.
    pub(crate) fn finish(
        &mut self,
        done: &mut impl FnMut(&Job<X>, T) -> Result<(), PackError>,
    ) -> Result<(), PackError> {
        self.submit(done)?;
        while self.applied < self.sent {
            let r = self.results.recv().map_err(|_| PackError::usage("worker thread panicked"))?;
            self.park(r);
            self.apply(done)?;
        }
        Ok(())
    }

    fn park(&mut self, (seq, w, out): Results<X, T>) {
        self.parked.insert(seq, (w, out));
    }

    fn apply(&mut self, done: &mut impl FnMut(&Job<X>, T) -> Result<(), PackError>) -> Result<(), PackError> {
        while let Some((w, out)) = self.parked.remove(&self.applied) {
            self.applied += 1;
            for (job, r) in w.jobs.iter().zip(out) {
                done(job, r?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..3000 {
            std::fs::write(tmp.path().join(format!("f{i}")), i.to_string()).unwrap();
        }
        let dir = Arc::new(Dir::open_root(tmp.path()).unwrap());
        let mut seen = Vec::new();
        with_pipeline(
            |d, j: &Job<usize>| {
                let text = d.read_file(&j.name, 100).map_err(|e| PackError::data(e.to_string()))?;
                Ok(String::from_utf8(text).unwrap().parse::<usize>().unwrap())
            },
            |p| {
                let mut at = None;
                for i in 0..3000usize {
                    let d = *at.get_or_insert_with(|| p.add_dir(dir.clone()));
                    if p.push(d, format!("f{i}").into_bytes(), Vec::new(), i, 0) {
                        p.submit(&mut |j, v| {
                            assert_eq!(j.extra, v);
                            seen.push(v);
                            Ok(())
                        })?;
                        at = None;
                    }
                }
                p.finish(&mut |j, v| {
                    assert_eq!(j.extra, v);
                    seen.push(v);
                    Ok(())
                })
            },
        )
        .unwrap();
        assert_eq!(seen, (0..3000).collect::<Vec<_>>());
        // The first failing job (in order) is the error reported.
        let r: Result<(), PackError> = with_pipeline(
            |_, j: &Job<usize>| {
                if j.extra % 700 == 699 {
                    Err(PackError::data(j.extra.to_string()))
                } else {
                    Ok(())
                }
            },
            |p| {
                for i in 0..3000usize {
                    let d = p.add_dir(dir.clone());
                    if p.push(d, Vec::new(), Vec::new(), i, 0) {
                        p.submit(&mut |_, ()| Ok(()))?;
                    }
                }
                p.finish(&mut |_, ()| Ok(()))
            },
        );
        assert_eq!(r.unwrap_err().message, "699");
    }
}
