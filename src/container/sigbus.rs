//! Survives reads of a mapping whose file shrank underneath it.
//!
//! A read-only `MAP_SHARED` mapping faults with `SIGBUS` when it touches a
//! page past the file's current end (someone truncated the snapshot) or a
//! page the kernel could not read (an I/O error). The default action kills
//! the process, which for a mount means every path answers "Transport
//! endpoint is not connected". Instead, a process-wide handler replaces the
//! faulting page of a registered mapping with a page of zeros (so the
//! faulting instruction can finish) and marks that mapping *poisoned*. The
//! bytes read from it are then worthless, so every user of the mapping asks
//! [`Registration::poisoned`] after touching it and refuses the result
//! (`container::mapped`). Faults outside registered mappings get the
//! default action, as before.
//!
//! The handler only reads atomics and calls `mmap`, a plain system call.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// Mappings alive at once in one process (a mount has one; tests, the
/// pack self-test and a future `diff` a few).
const SLOTS: usize = 64;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    poisoned: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot =
    Slot { start: AtomicUsize::new(0), len: AtomicUsize::new(0), poisoned: AtomicBool::new(false) };
static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
/// Serialises registration (the handler itself never locks).
static CLAIM: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// A mapping known to the handler; dropping it forgets the mapping, which
/// must happen before the range is unmapped (so a later, unrelated mapping
/// at the same address is never patched).
#[derive(Debug)]
pub(super) struct Registration {
    slot: Option<usize>,
}

impl Registration {
    /// Registers `[start, start + len)`. When every slot is taken the
    /// mapping is unprotected (a fault there kills the process as it would
    /// without this module) and a warning says so.
    pub(super) fn new(start: *const u8, len: usize) -> Registration {
        install();
        let _held = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
        for (i, s) in TABLE.iter().enumerate() {
            if s.len.load(Ordering::Acquire) == 0 {
                s.poisoned.store(false, Ordering::Release);
                s.start.store(start as usize, Ordering::Release);
                s.len.store(len, Ordering::Release);
                return Registration { slot: Some(i) };
            }
        }
        log::warn!("more than {SLOTS} snapshot mappings at once: a truncated file will end the process");
        Registration { slot: None }
    }

    /// Whether a read of this mapping has faulted since it was registered:
    /// from then on some of its pages read as zeros.
    pub(super) fn poisoned(&self) -> bool {
        self.slot.is_some_and(|i| TABLE[i].poisoned.load(Ordering::Acquire))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let _held = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
            TABLE[i].len.store(0, Ordering::Release);
            TABLE[i].start.store(0, Ordering::Release);
        }
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction with a handler that only touches
        // atomics and calls mmap.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = handler;
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) != 0 {
                log::warn!("cannot install the SIGBUS handler: a truncated snapshot will end the process");
            }
        }
    });
}

extern "C" fn handler(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel hands a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in TABLE.iter() {
        let start = s.start.load(Ordering::Acquire);
        let len = s.len.load(Ordering::Acquire);
        if len == 0 || addr < start || addr - start >= len {
            continue;
        }
        s.poisoned.store(true, Ordering::Release);
        let page = addr & !(PAGE.load(Ordering::Relaxed) - 1);
        // SAFETY: the page lies inside a live read-only mapping this
        // process owns; replacing it with zeros keeps the range mapped.
        let r = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                PAGE.load(Ordering::Relaxed),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if r != libc::MAP_FAILED {
            return;
        }
        break;
    }
    // Not ours (or the page could not be replaced): fall back to the
    // default action, which the retried instruction then triggers.
    // SAFETY: signal() with SIG_DFL is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::io::AsRawFd;

    #[test]
    fn a_read_past_a_truncation_is_survived_and_poisons_the_mapping() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![7u8; 3 * 4096]).unwrap();
        let map = unsafe { memmap2::Mmap::map(&f) }.unwrap();
        let reg = Registration::new(map.as_ptr(), map.len());
        assert_eq!(map[2 * 4096 + 5], 7);
        assert!(!reg.poisoned());
        // SAFETY: a plain ftruncate of our own temporary file.
        assert_eq!(unsafe { libc::ftruncate(f.as_raw_fd(), 4096) }, 0);
        assert_eq!(map[100], 7, "pages before the cut are still there");
        let past = unsafe { std::ptr::read_volatile(map.as_ptr().add(2 * 4096 + 5)) };
        assert_eq!(past, 0, "the faulting page reads as zeros");
        assert!(reg.poisoned());
        drop(reg);
    }
}
