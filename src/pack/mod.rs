//! `fsmfs pack TREE OUT.fsm`: a logical dump tree back into the bare
//! `EKVPBBL1` payload upstream's restore path loads, plus its
//! `OUT.encode_info.json` sidecar (`spec/pack.md`, `design.md` §6).
//!
//! Pipeline: read and validate `MANIFEST.json` (`manifest`) → walk each
//! selected adapter's directory and turn files into records (one module
//! per adapter: `dynamodb`, `s3`, `redis`, `sqs`, chosen by
//! `adapters::pack_encoder`) → sort by full encoded key within a memory
//! budget (`sorter`) → stream the entries into an unnamed file in OUT's
//! directory, hashing as they go (`output`) → index that file with the
//! decoder and compare it with the canonical form of the input tree, which
//! the walk notes as it goes (`selftest`, `canonical`) → publish it
//! atomically and write the sidecar (`info`).
//!
//! The input tree is read through `dumptree::fsio`, which never follows a symlink
//! and never opens anything but single-link regular files.
//!
//! Each adapter packs in its own folder (`adapters/<name>/pack.rs`, one
//! line in `adapters::pack_encoder`): `fn encode(root: &Dir, ctx: &mut Ctx)`
//! walks the adapter directory with `dumptree::fsio`, reads many small
//! files on every core through `dumptree::par` (or, like `sqs`, a few large
//! files directly), builds records with the adapter's `records` module,
//! and hands them to `ctx.add` (value bytes) or
//! `ctx.add_file` (a byte range of an input file, copied at write time);
//! anything the decoder would not have written is refused with `ctx.tree`
//! (`sqs` keeps upstream's leniency for stray files: the self-test
//! reports them).
//! `KEYMAP.jsonl` lines parse with `keymap`; the manifest's producer-mode
//! guards and the self-test already cover all four adapters.

pub(crate) mod fuzz;
mod info;
mod manifest;
mod output;
mod selftest;
mod sorter;

pub use info::sidecar_path;
pub(crate) use info::EncodeInfo;

use crate::adapters::canonical::Canonical;
use manifest::Manifest;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::adapters::packing::{Ctx, RecordSink};
use crate::adapters::route::Adapter;
use crate::container::error::show_key;
use crate::container::writer::StreamWriter;
use crate::container::VALUE_HEADER_LEN;
use crate::dumptree::fsio::{Dir, FileError, Kind};
use crate::dumptree::FileRef;
use crate::dumptree::{is_environment, tree_error};
use crate::exit::{Failure, EXIT_USAGE};
use crate::index::DecodeOptions;
use sorter::{SortError, Sorter, Value};

/// Largest `MANIFEST.json` read (a decoder's is a few KiB; a listing of a
/// million table names still fits).
const MAX_MANIFEST: u64 = 64 << 20;

/// `encoder_version` in the sidecar.
pub(crate) const ENCODER_VERSION: &str = concat!("fsmfs-", env!("CARGO_PKG_VERSION"));

/// Default `--memory-budget`.
pub(crate) const DEFAULT_MEMORY_BUDGET: usize = 1 << 30;

/// A failed pack: the exit code (1 usage/environment, 2 data) and one line.
pub type PackError = Failure;

/// What to pack and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub tree: PathBuf,
    pub(crate) out: PathBuf,
    /// Selected adapters (any order).
    pub adapters: Vec<Adapter>,
    /// `--last-commit-ts`; must not be below the manifest's.
    pub(crate) last_commit_ts: Option<u64>,
    pub self_test: bool,
    /// Where sorted runs are spilled (default: the OS temp dir).
    pub(crate) scratch_root: Option<PathBuf>,
    pub(crate) memory_budget: usize,
    /// Progress bars (drawn only when stderr is a terminal).
    pub(crate) progress: bool,
}

impl Options {
    pub fn new(tree: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Options {
        Options {
            tree: tree.into(),
            out: out.into(),
            adapters: Adapter::ALL.to_vec(),
            last_commit_ts: None,
            self_test: true,
            scratch_root: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            progress: false,
        }
    }
}

/// What a successful pack did.
#[derive(Debug, Clone)]
pub struct Report {
    pub bytes: u64,
    pub entries: u64,
    pub adapters: Vec<Adapter>,
    pub self_test: bool,
}

/// The sorter as adapter encoders see it (`adapters::packing::RecordSink`):
/// records in, and a record too large or a failed spill named as a
/// problem of the file it came from.
struct SorterSink<'a> {
    tree_display: String,
    sorter: &'a mut Sorter,
    spill_dir: &'a Path,
}

impl SorterSink<'_> {
    fn sort_error(&self, rel: &[u8], e: SortError<()>) -> PackError {
        let tree = |detail: String| tree_error(&self.tree_display, rel, detail);
        match e {
            SortError::KeyTooLarge(n) => {
                tree(format!("gives a record key of {n} bytes, over the 1 MiB limit"))
            }
            SortError::ValueTooLarge(n) => {
                tree(format!("gives a record value of {n} bytes, over the 256 MiB limit"))
            }
            SortError::Spill(e) => {
                PackError::usage(format!("spilling a sorted run to {}: {e}", self.spill_dir.display()))
            }
            SortError::Duplicate(_) | SortError::Emit(()) => tree("unexpected sorter error".into()),
        }
    }
}

impl RecordSink for SorterSink<'_> {
    fn add(&mut self, rel: &[u8], key: &[u8], value: &[u8]) -> Result<(), PackError> {
        self.sorter.add(key, value).map_err(|e| self.sort_error(rel, e))
    }

    fn add_file(&mut self, rel: &[u8], key: &[u8], r: FileRef<'_>) -> Result<(), PackError> {
        self.sorter.add_file(key, r).map_err(|e| self.sort_error(rel, e))
    }
}

/// The exit code for a file of the tree that could not be read.
fn file_error(path: &Path, e: FileError) -> PackError {
    let shown = crate::errpath::shown_path(path);
    match e {
        FileError::Missing => PackError::usage(format!("{shown}: cannot read: does not exist")),
        FileError::Io(e) if is_environment(&e) => PackError::usage(format!("{shown}: cannot read: {e}")),
        e => PackError::data(format!("{shown}: cannot read: {e}")),
    }
}

const TOP_LEVEL: [&[u8]; 6] = [b"MANIFEST.json", b"CHECKSUMS", b"dynamodb", b"s3", b"redis", b"sqs"];

/// Refuses top-level entries the decoder never writes. Upstream's decoder
/// can leave an empty `.scratch/` (its S3 spill area) behind: that one is
/// allowed while empty.
fn check_top_level(root: &Dir, tree: &str) -> Result<(), PackError> {
    let io = |e: io::Error| tree_error(tree, b"", e);
    for e in root.entries().map_err(io)? {
        let e = e.map_err(io)?;
        if TOP_LEVEL.contains(&e.name.as_slice()) {
            continue;
        }
        if e.name == b".scratch" && e.kind == Kind::Dir {
            let d = root.open_dir(&e.name).map_err(io)?;
            if d.entries().map_err(io)?.next().is_none() {
                continue;
            }
        }
        return Err(PackError::data(format!(
            "{tree}/{}: unknown top-level entry (a dump tree holds only MANIFEST.json, CHECKSUMS and the adapter directories dynamodb/, s3/, redis/, sqs/)",
            String::from_utf8_lossy(&e.name)
        )));
    }
    Ok(())
}

/// Why writing the payload stopped.
enum EmitError {
    /// Reading an input file (exit 2, or 1 for the environment's errors).
    Read(PackError),
    /// Writing the output (exit 1).
    Write(io::Error),
}

/// Everything decided before any file of the tree is read.
struct Plan<'o> {
    opts: &'o Options,
    tree_display: String,
    manifest: Manifest,
    /// Selected adapters, in canonical order.
    selected: Vec<Adapter>,
    commit_ts: u64,
    spill_dir: PathBuf,
    root: Dir,
}

/// The payload as written (not yet published).
struct Written {
    sha256: [u8; 32],
    bytes: u64,
    entries: u64,
}

/// Packs `opts.tree` into `opts.out` (see the module docs). On `Err`
/// nothing was published and an existing OUT is untouched — except after
/// a self-test mismatch, which (as upstream) removes a stale OUT so no
/// restore-visible payload disagrees with the new sidecar.
pub fn pack(opts: &Options) -> Result<Report, PackError> {
    let plan = Plan::new(opts)?;
    let out_dir = opts.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::temps::sweep(out_dir);
    let out = output::OutFile::create(&opts.out).map_err(|e| {
        PackError::usage(format!("{}: cannot create the output: {e}", crate::errpath::shown_path(&opts.out)))
    })?;
    let started = std::time::Instant::now();
    let phase = |name: &str| log::debug!("pack: {name} done at {:.3}s", started.elapsed().as_secs_f64());

    let mut sorter = Sorter::new(plan.commit_ts, opts.memory_budget, plan.spill_dir.clone());
    let canonical = plan.walk(&mut sorter)?;
    phase("walk");
    let written = plan.write(sorter, &out)?;
    phase("write");
    let mismatch = if opts.self_test { plan.self_test(&out, &canonical, written.bytes)? } else { None };
    phase("self-test");

    let mut sidecar = plan.encode_info(&written, mismatch.is_none());
    if let Some(report) = mismatch {
        drop(out);
        return Err(plan.refuse_mismatch(&report, &sidecar));
    }
    // Publish: name the file, then the sidecar; signals wait until both.
    // A sidecar path that would be refused fails the run before OUT is
    // replaced (upstream replaces OUT, fails, then removes it).
    output::check_sidecar_target(&sidecar_path(&opts.out))
        .map_err(|e| PackError::usage(format!("{e}; nothing was published")))?;
    {
        let _block = output::SignalBlock::new();
        out.publish().map_err(|e| {
            PackError::usage(format!("{}: publishing: {e}", crate::errpath::shown_path(&opts.out)))
        })?;
        sidecar.wall_time = now();
        if let Err(e) = info::write(&opts.out, &sidecar) {
            let _ = std::fs::remove_file(&opts.out);
            if e.opened {
                let _ = std::fs::remove_file(sidecar_path(&opts.out));
            }
            return Err(PackError::usage(format!(
                "{}: writing the sidecar: {} (the payload was removed again)",
                sidecar_path(&opts.out).display(),
                e.error
            )));
        }
    }
    log::info!(
        "packed {} entries ({} bytes, sha256 {}) into {}; self-test {}; adapters {}",
        written.entries,
        written.bytes,
        crate::codec::hex(&written.sha256),
        opts.out.display(),
        if opts.self_test { "matched" } else { "skipped" },
        plan.selected.iter().map(|a| a.name()).collect::<Vec<_>>().join(",")
    );
    Ok(Report {
        bytes: written.bytes,
        entries: written.entries,
        adapters: plan.selected,
        self_test: opts.self_test,
    })
}

/// Unix time now, as (seconds, nanoseconds).
fn now() -> (i64, u32) {
    let w = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (w.as_secs() as i64, w.subsec_nanos())
}

fn progress_bar(on: bool, make: impl FnOnce() -> indicatif::ProgressBar) -> indicatif::ProgressBar {
    if on {
        make().with_finish(indicatif::ProgressFinish::AndClear)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

impl<'o> Plan<'o> {
    /// `pack.md` §2 steps 2–6: manifest, adapter scopes, commit timestamp,
    /// stale mismatch report, producer-mode guards, scratch root, tree.
    fn new(opts: &'o Options) -> Result<Plan<'o>, PackError> {
        let tree_display = opts.tree.display().to_string();
        check_outputs(&opts.out)?;
        let root = Dir::open_root(&opts.tree).map_err(|e| {
            PackError::usage(format!("{}: cannot open the tree: {e}", crate::errpath::shown_path(&opts.tree)))
        })?;
        // Read like every other file of the tree: never through a symlink,
        // never a FIFO or device, never more than MAX_MANIFEST bytes.
        let manifest_path = opts.tree.join("MANIFEST.json");
        let bytes =
            root.read_file(b"MANIFEST.json", MAX_MANIFEST).map_err(|e| file_error(&manifest_path, e))?;
        let manifest = manifest::parse(&bytes)
            .map_err(|e| PackError::data(format!("{}: {e}", crate::errpath::shown_path(&manifest_path))))?;
        let selected: Vec<Adapter> =
            Adapter::ALL.iter().copied().filter(|a| opts.adapters.contains(a)).collect();
        if selected.is_empty() {
            return Err(PackError::usage("no adapter selected"));
        }
        if let Some(a) = selected.iter().find(|a| !manifest.scopes.contains(a)) {
            return Err(PackError::data(format!(
                "adapter {:?} selected but {} has no scope for it (use --adapter to restrict, or re-dump including this adapter)",
                a.name(),
                manifest_path.display()
            )));
        }
        let commit_ts = match opts.last_commit_ts {
            Some(t) if t < manifest.last_commit_ts => {
                return Err(PackError::data(format!(
                    "--last-commit-ts {t} is lower than MANIFEST.json last_commit_ts {} (the HLC ceiling may only rise)",
                    manifest.last_commit_ts
                )))
            }
            Some(t) => t,
            None => manifest.last_commit_ts,
        };
        remove_stale_output(&output::with_suffix(&opts.out, ".mismatch.txt"));
        manifest.unsupported_mode(&selected).map_err(PackError::data)?;
        if commit_ts == 0 {
            log::warn!("last_commit_ts is 0: the restored node gets no HLC ceiling from this payload");
        }
        let spill_dir = match &opts.scratch_root {
            Some(p) if !p.is_dir() => {
                return Err(PackError::usage(format!("--scratch-root {}: not a directory", p.display())))
            }
            Some(p) => p.clone(),
            None => std::env::temp_dir(),
        };
        check_top_level(&root, &tree_display)?;
        Ok(Plan { opts, tree_display, manifest, selected, commit_ts, spill_dir, root })
    }

    /// Every selected adapter's files into sorted entries; returns what
    /// the next decode of them writes differently from the input.
    fn walk(&self, sorter: &mut Sorter) -> Result<Canonical, PackError> {
        let walked = progress_bar(self.opts.progress, || crate::progress::counter("reading", "files"));
        let mut sink =
            SorterSink { tree_display: self.tree_display.clone(), sorter, spill_dir: &self.spill_dir };
        let progress = |n: u64| walked.set_position(n);
        let mut ctx = Ctx::new(self.tree_display.clone(), &mut sink, &progress);
        for &a in &self.selected {
            let name = a.name().as_bytes();
            let at = |d| tree_error(&self.tree_display, name, d);
            match self.root.kind(name).map_err(at)? {
                None => continue,
                Some(Kind::Dir) => {}
                Some(k) => {
                    return Err(tree_error(
                        &self.tree_display,
                        name,
                        format!("is {}, not a directory", k.describe()),
                    ))
                }
            }
            let dir = self.root.open_dir(name).map_err(at)?;
            crate::adapters::pack_encoder(a)(&dir, &mut ctx)?;
        }
        Ok(ctx.canonical)
    }

    /// The sorted entries into the unnamed output, hashed on the way, then
    /// fsynced.
    fn write(&self, sorter: Sorter, out: &output::OutFile) -> Result<Written, PackError> {
        let (bytes, entries) = (sorter.stream_len(), sorter.entries());
        let pb = progress_bar(self.opts.progress, || crate::progress::bar(bytes, "writing", true));
        let write_err =
            |e: io::Error| PackError::usage(format!("{}: writing the output: {e}", self.opts.out.display()));
        let file = out.file().try_clone().map_err(write_err)?;
        let mut sw =
            StreamWriter::new(output::HashedWriter::new(file, pb), self.commit_ts).map_err(write_err)?;
        let header = [0u8; VALUE_HEADER_LEN];
        let tree = &self.tree_display;
        // The body file being copied: chunks of one object are adjacent.
        let mut body: Option<(Vec<u8>, std::fs::File)> = None;
        let mut read_err: Option<PackError> = None;
        let merged = sorter.finish(|key, value| match value {
            Value::Inline(b) => sw.entry(key, &[&header, b]).map_err(EmitError::Write),
            Value::File(r) => {
                if body.as_ref().is_none_or(|(p, _)| p.as_slice() != r.path) {
                    let f = crate::dumptree::fsio::reopen_beneath(&self.root, r.path, r.id)
                        .map_err(|e| EmitError::Read(tree_error(tree, r.path, e)))?;
                    body = Some((r.path.to_vec(), f));
                }
                let (_, f) = body.as_ref().expect("just opened");
                let len = VALUE_HEADER_LEN as u64 + u64::from(r.len);
                let res = sw.entry_with(key, len, |w| {
                    w.write_all(&header)?;
                    w.fill_from(f, r.offset, u64::from(r.len)).map_err(|e| match e {
                        output::FillError::Write(e) => e,
                        output::FillError::Read(e) => {
                            read_err = Some(tree_error(tree, r.path, e));
                            io::Error::other("input read failed")
                        }
                    })
                });
                match (res, read_err.take()) {
                    (_, Some(msg)) => Err(EmitError::Read(msg)),
                    (r, None) => r.map_err(EmitError::Write),
                }
            }
        });
        match merged {
            Ok(()) => {}
            Err(SortError::Duplicate(k)) => {
                return Err(PackError::data(format!(
                    "{tree}: two files produce the same record key {} (duplicate item or object)",
                    show_key(&k)
                )))
            }
            Err(SortError::Spill(e)) => {
                return Err(PackError::usage(format!(
                    "reading back a sorted run in {}: {e}",
                    self.spill_dir.display()
                )))
            }
            Err(SortError::Emit(EmitError::Read(e))) => return Err(e),
            Err(SortError::Emit(EmitError::Write(e))) => return Err(write_err(e)),
            Err(SortError::KeyTooLarge(_) | SortError::ValueTooLarge(_)) => {
                unreachable!("checked when added")
            }
        }
        debug_assert_eq!(sw.bytes_written(), bytes);
        let sha256 = sw.finish().finish().map_err(write_err)?;
        out.file().sync_all().map_err(write_err)?;
        Ok(Written { sha256, bytes, entries })
    }

    /// Decodes the payload and compares it with the input; `Some(report)`
    /// on a mismatch.
    fn self_test(
        &self,
        out: &output::OutFile,
        canonical: &Canonical,
        bytes: u64,
    ) -> Result<Option<Vec<u8>>, PackError> {
        let m = &self.manifest;
        let decode = DecodeOptions {
            adapters: self.selected.clone(),
            include_orphans: m.include_orphans,
            include_incomplete_uploads: m.include_incomplete_uploads,
            rename_collisions: m.rename_s3_collisions,
            preserve_sqs_visibility: m.preserve_sqs_visibility,
            include_sqs_side_records: m.include_sqs_side_records,
            ..DecodeOptions::default()
        };
        let progress = progress_bar(self.opts.progress, || crate::progress::bar(bytes, "self-test", true));
        let input = selftest::Input {
            tree: &self.root,
            adapters: &self.selected,
            decode,
            commit_ts: self.commit_ts,
            canonical,
            progress,
        };
        selftest::run(&out.reopen_path(), &input)
    }

    fn encode_info(&self, w: &Written, matched: bool) -> EncodeInfo {
        EncodeInfo {
            encoder_version: ENCODER_VERSION.into(),
            wall_time: now(),
            input_root: self.opts.tree.as_os_str().as_encoded_bytes().to_vec(),
            output_fsm_path: self.opts.out.as_os_str().as_encoded_bytes().to_vec(),
            sha256: w.sha256,
            last_commit_ts: self.commit_ts,
            overridden: self.opts.last_commit_ts.is_some(),
            manifest_last_commit_ts: self.manifest.last_commit_ts,
            cluster_id: self.manifest.cluster_id.clone(),
            adapters: self.selected.clone(),
            self_test_ran: self.opts.self_test,
            self_test_matched: self.opts.self_test && matched,
        }
    }

    /// `pack.md` §3.4 step 5: the report next to OUT, a stale OUT removed,
    /// the sidecar with `matched: false`; exit 2.
    fn refuse_mismatch(&self, report: &[u8], sidecar: &EncodeInfo) -> PackError {
        let out = &self.opts.out;
        let report_path = output::with_suffix(out, ".mismatch.txt");
        if let Err(e) = output::open_sidecar(&report_path).and_then(|mut f| f.write_all(report)) {
            log::warn!("writing {}: {e}", report_path.display());
        }
        remove_stale_output(out);
        if let Err(e) = info::write(out, sidecar) {
            log::warn!("writing the encode_info sidecar after a self-test mismatch: {}", e.error);
        }
        let first = report.split(|&b| b == b'\n').next().unwrap_or_default();
        PackError::data(format!(
            "self-test: the payload does not decode back to {} ({}; see {}); nothing was published",
            self.tree_display,
            crate::errpath::shown(first),
            report_path.display()
        ))
    }
}

/// Removes a stale output of an earlier run (OUT after a self-test
/// mismatch, an old `OUT.mismatch.txt`) — only ever a regular file: what
/// else sits there is not pack's (and [`check_outputs`] refused it).
fn remove_stale_output(out: &Path) {
    match std::fs::symlink_metadata(out) {
        Ok(md) if md.file_type().is_file() => {
            if let Err(e) = std::fs::remove_file(out) {
                log::warn!("removing the stale {}: {e}", out.display());
            }
        }
        Ok(md) => log::warn!("{} is not a regular file ({:?}); left alone", out.display(), md.file_type()),
        Err(_) => {}
    }
}

/// `pack.md` "What OUT may be": OUT and the files pack writes beside it
/// (`OUT.encode_info.json`, `OUT.mismatch.txt`) must each be absent or a
/// regular file; `-` is not standard output. Checked before anything is
/// read or changed, and again when publishing.
fn check_outputs(out: &Path) -> Result<(), PackError> {
    if out.as_os_str() == "-" {
        return Err(PackError::usage(
            "OUT is \"-\": pack writes a payload file plus OUT.encode_info.json beside it, never standard output; name a file (./- for a file called -)",
        ));
    }
    let refused = |e: io::Error| PackError::usage(format!("{e}; nothing was changed"));
    output::check_out_target(out).map_err(refused)?;
    output::check_out_target(&output::with_suffix(out, ".mismatch.txt")).map_err(refused)?;
    output::check_sidecar_target(&sidecar_path(out)).map_err(refused)
}

// --- command line -------------------------------------------------------------

/// `fsmfs pack` arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct PackArgs {
    /// The dump tree (a decoded snapshot: MANIFEST.json plus adapter
    /// directories), e.g. an extract, an fsmfs mount or an rsync copy.
    pub tree: PathBuf,
    /// The payload to write; OUT.encode_info.json is written next to it.
    pub(crate) out: PathBuf,
    /// Adapters to pack, comma-separated (dynamodb, s3, redis, sqs; `all`).
    #[arg(long, default_value = "dynamodb,s3,redis,sqs")]
    pub(crate) adapter: String,
    /// Commit timestamp for every entry and the header (decimal or 0x hex);
    /// must not be below MANIFEST.json's last_commit_ts. Default: that value.
    #[arg(long, value_name = "TS", allow_hyphen_values = true)]
    pub(crate) last_commit_ts: Option<String>,
    /// Verify the payload decodes back to TREE before publishing (the
    /// default; accepted for upstream compatibility, `--self-test=false`
    /// turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub self_test: Option<bool>,
    /// Skip the self-test (restore tooling then needs
    /// --allow-unverified-self-test).
    #[arg(long, conflicts_with = "self_test")]
    pub(crate) no_self_test: bool,
    /// Directory for sorted runs spilled beyond --memory-budget (default:
    /// the OS temp dir).
    #[arg(long, value_name = "DIR")]
    pub(crate) scratch_root: Option<PathBuf>,
    /// Memory for sorting record keys before spilling runs to disk, e.g.
    /// 512M, 2G, or bytes.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub(crate) memory_budget: usize,
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("invalid boolean value {s:?}")),
    }
}

/// A byte size: digits with an optional K/M/G/T suffix (powers of 1024;
/// `KiB`, `MB` and `B` spellings accepted).
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("not a size: {s:?}")),
    };
    let bytes =
        n.checked_shl(shift).filter(|v| v >> shift == n).ok_or_else(|| format!("size too large: {s:?}"))?;
    let bytes = usize::try_from(bytes).map_err(|_| format!("size too large: {s:?}"))?;
    if bytes < 1 << 20 {
        return Err(format!("--memory-budget {s:?} is below the 1 MiB minimum"));
    }
    Ok(bytes)
}

/// `--adapter` as upstream's encoder parses it: `all` or empty selects all
/// four; otherwise items are trimmed and lower-cased, empty items skipped,
/// unknown names refused, and at least one must remain.
pub(crate) fn parse_adapter_list(csv: &str) -> Result<Vec<Adapter>, String> {
    if csv.is_empty() || csv == "all" {
        return Ok(Adapter::ALL.to_vec());
    }
    let mut set = Vec::new();
    for raw in csv.split(',') {
        let name = raw.trim().to_lowercase();
        let a = match name.as_str() {
            "" => continue,
            "dynamodb" => Adapter::DynamoDb,
            "s3" => Adapter::S3,
            "redis" => Adapter::Redis,
            "sqs" => Adapter::Sqs,
            _ => return Err(format!("unknown adapter {name:?}")),
        };
        if !set.contains(&a) {
            set.push(a);
        }
    }
    if set.is_empty() {
        return Err(format!(
            "--adapter {csv:?} selects no adapters; use \"all\" or a comma-separated subset"
        ));
    }
    set.sort();
    Ok(set)
}

/// `--last-commit-ts` as upstream parses it: empty = not given; trimmed;
/// `0x`/`0X` hex or decimal; a strict unsigned 64-bit number.
pub(crate) fn parse_last_commit_ts(raw: &str) -> Result<Option<u64>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let s = raw.trim();
    if s.is_empty() {
        return Err("--last-commit-ts is empty".into());
    }
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (s, 10),
    };
    let ok = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    ok.then(|| u64::from_str_radix(digits, radix).ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| format!("--last-commit-ts {raw:?}: not an unsigned 64-bit decimal or 0x hex number"))
}

/// Runs `fsmfs pack` from parsed arguments.
pub(crate) fn run(args: PackArgs) -> Result<(), Failure> {
    let usage = |m: String| Failure { code: EXIT_USAGE, message: m };
    let adapters = parse_adapter_list(&args.adapter).map_err(usage)?;
    let last_commit_ts = parse_last_commit_ts(args.last_commit_ts.as_deref().unwrap_or("")).map_err(usage)?;
    let opts = Options {
        tree: args.tree,
        out: args.out,
        adapters,
        last_commit_ts,
        self_test: !args.no_self_test && args.self_test.unwrap_or(true),
        scratch_root: args.scratch_root,
        memory_budget: args.memory_budget,
        progress: true,
    };
    pack(&opts)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_lists_follow_the_encoder() {
        assert_eq!(parse_adapter_list("").unwrap().len(), 4);
        assert_eq!(parse_adapter_list("all").unwrap().len(), 4);
        assert_eq!(parse_adapter_list(" S3 , ,DynamoDB").unwrap(), vec![Adapter::DynamoDb, Adapter::S3]);
        assert!(parse_adapter_list("ALL").is_err());
        assert!(parse_adapter_list("all,redis").is_err());
        assert!(parse_adapter_list(" , ").is_err());
        assert!(parse_adapter_list("s3,ftp").is_err());
    }

    #[test]
    fn last_commit_ts_rules() {
        assert_eq!(parse_last_commit_ts(""), Ok(None));
        assert_eq!(parse_last_commit_ts(" 42 "), Ok(Some(42)));
        assert_eq!(parse_last_commit_ts("0xFF"), Ok(Some(255)));
        assert_eq!(parse_last_commit_ts("0X10"), Ok(Some(16)));
        assert_eq!(parse_last_commit_ts("18446744073709551615"), Ok(Some(u64::MAX)));
        for bad in ["  ", "-1", "+1", "1_000", "0x", "0xffZZ", "100oops", "18446744073709551616", "1.0"] {
            assert!(parse_last_commit_ts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_bools() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("64mb"), Ok(64 << 20));
        assert_eq!(parse_size("2097152"), Ok(2 << 20));
        assert!(parse_size("10K").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_go_bool("T"), Ok(true));
        assert_eq!(parse_go_bool("0"), Ok(false));
        assert!(parse_go_bool("yes").is_err());
    }
}
