//! Command-line front end. Every failure reaches the user as one line on
//! stderr and a documented exit code (see `docs/cli.md`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::adapters::Adapter;
use crate::extract::{self, ExtractError};
use crate::index::{DecodeOptions, Index, IndexError};
use crate::progress;
use crate::tree::{NodeId, View};

pub(crate) use crate::exit::{Failure, EXIT_DATA, EXIT_OK, EXIT_USAGE};

#[derive(Parser)]
#[command(name = "fsmfs", version, about = "Browse, extract and re-pack elastickv .fsm snapshots")]
pub(crate) struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a snapshot's shape, header fields, record counts and index size.
    Info {
        snapshot: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// List a directory of the snapshot's tree.
    Ls {
        snapshot: PathBuf,
        /// Directory inside the tree (default: the root).
        #[arg(default_value = "")]
        path: String,
        /// Long listing: mode, size, mtime.
        #[arg(short, long)]
        long: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Print one file of the snapshot's tree to stdout.
    Cat {
        snapshot: PathBuf,
        path: String,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Write the whole tree to OUTDIR (atomically: nothing is left on failure).
    Extract {
        snapshot: PathBuf,
        outdir: PathBuf,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Mount the tree read-only at MOUNTPOINT (FUSE); returns once it is ready.
    Mount(Box<MountArgs>),
    /// Pack a dump tree back into an .fsm payload (+ OUT.encode_info.json);
    /// self-tested and published atomically (docs/pack.md).
    Pack(Box<crate::pack::PackArgs>),
    /// Files added (A), removed (D) and changed (M) from OLD to NEW; exit 0
    /// when none, 3 when some (docs/cli.md).
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Per-group counts (dynamodb/<table>, s3/<bucket>, redis/db_N, sqs/<queue>).
        #[arg(long)]
        stat: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Print shell completions (from these very definitions) to stdout.
    Completions {
        /// The shell to complete for: bash, zsh, fish (or elvish, powershell).
        shell: clap_complete::Shell,
    },
    /// Write the man pages: fsmfs.1 and one fsmfs-SUBCOMMAND.1 per subcommand
    /// into DIR (created if missing), or without DIR fsmfs.1 to stdout.
    Man {
        /// Directory for the pages, e.g. /usr/local/share/man/man1.
        dir: Option<PathBuf>,
    },
}

/// FUSE worker threads unless `--threads` says otherwise (docs/fuse.md).
pub(crate) const DEFAULT_THREADS: u16 = 2;

#[derive(Args)]
struct MountArgs {
    /// The .fsm snapshot file.
    snapshot: PathBuf,
    /// An existing directory to mount on (nothing mounted there yet).
    mountpoint: PathBuf,
    /// Stay attached (log to stderr); SIGINT/SIGTERM unmount.
    #[arg(short, long)]
    foreground: bool,
    /// FUSE worker threads.
    #[arg(long, default_value_t = DEFAULT_THREADS, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Memory for rendered JSON files, in MiB.
    #[arg(long, default_value_t = crate::fuse::DEFAULT_CACHE_MB)]
    cache_mb: usize,
    /// Owner of every file (default: the mounting user).
    #[arg(long)]
    uid: Option<u32>,
    /// Group of every file (default: the mounting user's group).
    #[arg(long)]
    gid: Option<u32>,
    /// Mode of every file, octal (default: 0600, MANIFEST.json and CHECKSUMS 0644).
    #[arg(long, value_parser = parse_mode)]
    file_mode: Option<u32>,
    /// Mode of every directory, octal (default: 0755).
    #[arg(long, value_parser = parse_mode)]
    dir_mode: Option<u32>,
    /// Mount options, comma-separated and repeatable: allow_other, allow_root, auto_unmount,
    /// noexec, noatime, fsname=NAME, uid=N, gid=N, umask=OCTAL, … (docs/fuse.md).
    #[arg(short = 'o', value_name = "OPTIONS", action = clap::ArgAction::Append)]
    options: Vec<String>,
    /// Turn kernel caching off for measurements: keep-cache, cache-dir, readdirplus, ttl, zero-open,
    /// readdirplus-always (= use READDIRPLUS_AUTO).
    #[arg(long, hide = true, value_delimiter = ',')]
    no_kernel_cache: Vec<String>,
    /// One /dev/fuse descriptor per worker thread.
    #[arg(long, hide = true)]
    clone_fd: bool,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// An octal permission mode such as `644` or `0o755`.
fn parse_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o7777 => Ok(m),
        _ => Err(format!("not an octal mode: {s}")),
    }
}

/// Upstream decoder options, with upstream defaults, plus `--include-expired`.
#[derive(Args, Clone)]
struct DecodeArgs {
    /// Comma-separated adapters to decode: dynamodb, s3, redis, sqs, or all.
    #[arg(long, default_value = "dynamodb,s3,redis,sqs")]
    adapter: String,
    /// DynamoDB layout: per-item (jsonl is refused, as upstream fails on it).
    #[arg(long, default_value = "per-item")]
    dynamodb_bundle_mode: String,
    /// Cluster identifier to record in MANIFEST.json.
    #[arg(long, default_value = "")]
    cluster_id: String,
    /// Emit in-flight S3 multipart uploads under _incomplete_uploads/.
    #[arg(long)]
    include_incomplete_uploads: bool,
    /// Emit S3 chunks without a manifest (and stale generations) under _orphans/.
    #[arg(long)]
    include_orphans: bool,
    /// Keep live SQS visibility state instead of zeroing it.
    #[arg(long)]
    preserve_sqs_visibility: bool,
    /// Emit SQS dedup/group/vis side records under _internals/.
    #[arg(long)]
    include_sqs_side_records: bool,
    /// Rename S3 keys ending in .elastickv-meta.json instead of failing.
    #[arg(long)]
    rename_collisions: bool,
    /// Show entries whose TTL expired at the snapshot's commit time.
    #[arg(long)]
    include_expired: bool,
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Self {
        let code = match e {
            IndexError::Io { .. } | IndexError::NotAFile { .. } => EXIT_USAGE,
            IndexError::Unsupported(_) | IndexError::Changed(_) => EXIT_USAGE,
            IndexError::Container(_) | IndexError::Adapter(_) => EXIT_DATA,
        };
        Failure { code, message: e.to_string() }
    }
}

impl From<ExtractError> for Failure {
    fn from(e: ExtractError) -> Self {
        let code = match &e {
            ExtractError::TargetExists(_)
            | ExtractError::Io { .. }
            | ExtractError::NoParent { .. }
            | ExtractError::MountPoint(_)
            | ExtractError::Interrupted(_) => EXIT_USAGE,
            ExtractError::Render(v) if v.snapshot_changed => EXIT_USAGE,
            ExtractError::Render(_) | ExtractError::Deferred(_) => EXIT_DATA,
        };
        Failure { code, message: e.to_string() }
    }
}

/// Parses `--adapter` the way upstream does: items trimmed, empty items
/// ignored, `all` or an empty list meaning every adapter.
pub(crate) fn parse_adapters(csv: &str) -> Result<Vec<Adapter>, String> {
    if csv.is_empty() || csv == "all" {
        return Ok(Adapter::ALL.to_vec());
    }
    let mut set = Vec::new();
    for raw in csv.split(',') {
        let a = match raw.trim() {
            "" => continue,
            "dynamodb" => Adapter::DynamoDb,
            "s3" => Adapter::S3,
            "redis" => Adapter::Redis,
            "sqs" => Adapter::Sqs,
            other => return Err(format!("unknown adapter name: {other}")),
        };
        if !set.contains(&a) {
            set.push(a);
        }
    }
    if set.is_empty() {
        return Err("--adapter selected zero adapters".into());
    }
    set.sort();
    Ok(set)
}

impl DecodeArgs {
    fn options(&self, snapshot: &Path) -> Result<DecodeOptions, Failure> {
        let adapters = parse_adapters(&self.adapter).map_err(Failure::usage)?;
        let jsonl = match self.dynamodb_bundle_mode.as_str() {
            "per-item" | "" => false,
            "jsonl" => true,
            other => return Err(Failure::usage(format!("invalid --dynamodb-bundle-mode: {other}"))),
        };
        Ok(DecodeOptions {
            adapters,
            include_expired: self.include_expired,
            include_orphans: self.include_orphans,
            include_incomplete_uploads: self.include_incomplete_uploads,
            rename_collisions: self.rename_collisions,
            preserve_sqs_visibility: self.preserve_sqs_visibility,
            include_sqs_side_records: self.include_sqs_side_records,
            cluster_id: self.cluster_id.clone(),
            dynamodb_bundle_jsonl: jsonl,
            // Symlinks resolved, so MANIFEST.json names the real file
            // however it was reached (design.md §5).
            source_path: std::fs::canonicalize(snapshot)
                .unwrap_or_else(|_| snapshot.to_path_buf())
                .to_string_lossy()
                .into_owned(),
        })
    }
}

/// Builds the index with a progress bar on a terminal.
pub(crate) fn open_index(snapshot: &Path, options: DecodeOptions) -> Result<Index, Failure> {
    let len = std::fs::metadata(snapshot).map(|m| m.len()).unwrap_or(0);
    let pb = progress::bar(len, "indexing", true);
    let index = Index::open(snapshot, options, &mut |pos| pb.set_position(pos));
    pb.finish_and_clear();
    let index = index?;
    for e in &index.deferred {
        log::warn!("record not shown is malformed (extract would fail): {e}");
    }
    Ok(index)
}

/// mount(8) runs `mount.fuse3`, which runs `fsmfs SOURCE MOUNTPOINT -o
/// OPTS` (docs/fuse.md): a first argument that is no subcommand or flag
/// means `mount`, so fstab lines work without a separate helper.
fn mount_helper_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_owned);
    if let Some(first) = first {
        let known = Cli::command().get_subcommands().any(|c| c.get_name() == first) || first == "help";
        if !known && !first.starts_with('-') && args.len() >= 3 {
            args.insert(1, "mount".into());
        }
    }
    args
}

pub fn main() -> ExitCode {
    // Usage errors exit 1 (docs/cli.md, and upstream's pack), not clap's 2.
    let cli = match Cli::try_parse_from(mount_helper_args(std::env::args_os().collect())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("fsmfs: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

/// Lets a write to a closed pipe end the process silently by SIGPIPE, as
/// coreutils do (`fsmfs cat SNAP FILE | head -c 10`); Rust ignores the
/// signal by default and would report "Broken pipe". Only for the
/// commands whose sole output is stdout: `mount` and `pack` keep handling
/// write errors themselves.
fn die_quietly_on_closed_pipe() {
    // SAFETY: installs the default disposition; no handler runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn run(cmd: Command) -> Result<(), Failure> {
    if matches!(cmd, Command::Info { .. } | Command::Ls { .. } | Command::Cat { .. } | Command::Diff { .. }) {
        die_quietly_on_closed_pipe();
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let w = |r: io::Result<()>| r.map_err(|e| Failure::usage(format!("stdout: {e}")));
    match cmd {
        Command::Info { snapshot, json, decode } => {
            let index = open_index(&snapshot, decode.options(&snapshot)?)?;
            w(crate::info::write(&mut out, &index, json))
        }
        Command::Ls { snapshot, path, long, json, decode } => {
            let index = open_index(&snapshot, decode.options(&snapshot)?)?;
            let id = resolve(&index, &path)?;
            w(list(&mut out, &index, id, long, json))
        }
        Command::Cat { snapshot, path, decode } => {
            let index = open_index(&snapshot, decode.options(&snapshot)?)?;
            let id = resolve(&index, &path)?;
            if index.tree.is_dir(id) {
                return Err(Failure::usage(format!("{path}: is a directory")));
            }
            cat(&mut out, &index, id)
        }
        Command::Extract { snapshot, outdir, decode } => {
            let index = open_index(&snapshot, decode.options(&snapshot)?)?;
            let total = index.tree.files().count() as u64;
            let pb = progress::bar(total, "extracting", false);
            let stats = extract::extract(&index, &outdir, &|n| pb.set_position(n));
            pb.finish_and_clear();
            let stats = stats?;
            log::info!(
                "extracted {} files, {} directories, {} bytes into {}",
                stats.files,
                stats.dirs,
                stats.bytes,
                outdir.display()
            );
            Ok(())
        }
        Command::Mount(m) => mount(*m),
        Command::Pack(p) => crate::pack::run(*p),
        Command::Completions { shell } => w(completions(&mut out, shell)),
        Command::Man { dir } => man_pages(&mut out, dir.as_deref()),
        Command::Diff { old, new, stat, json, decode } => diff(&mut out, &old, &new, stat, json, &decode),
    }
}

fn diff(
    out: &mut impl Write,
    old: &Path,
    new: &Path,
    stat: bool,
    json: bool,
    decode: &DecodeArgs,
) -> Result<(), Failure> {
    let old_index = open_index(old, decode.options(old)?)?;
    let new_index = open_index(new, decode.options(new)?)?;
    let pb = progress::bar(crate::diff::work(&old_index, &new_index), "comparing", false);
    let changes = crate::diff::compare(&old_index, &new_index, &|n| pb.set_position(n));
    pb.finish_and_clear();
    let changes = changes.map_err(|e| Failure {
        code: if e.snapshot_changed { EXIT_USAGE } else { EXIT_DATA },
        message: e.to_string(),
    })?;
    crate::diff::write(out, &changes, stat, json).map_err(|e| Failure::usage(format!("stdout: {e}")))?;
    if changes.is_empty() {
        Ok(())
    } else {
        Err(Failure::silent(crate::exit::EXIT_DIFFERENT))
    }
}

/// Generated from the clap definitions, so completions never lag behind the
/// CLI. Rendered into memory first: clap_complete panics on write errors.
fn completions(out: &mut impl Write, shell: clap_complete::Shell) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "fsmfs", &mut script);
    out.write_all(&script)
}

/// The command as the man pages see it: built (so subcommands carry their
/// `fsmfs-NAME` display names) and without clap's `help` subcommand, as
/// `clap_mangen::generate_to` does, so stdout and DIR/fsmfs.1 agree.
fn man_command() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn man_pages(out: &mut impl Write, dir: Option<&Path>) -> Result<(), Failure> {
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(man_command())
            .render(&mut page)
            .and_then(|()| out.write_all(&page))
            .map_err(|e| Failure::usage(format!("stdout: {e}")))?;
        return Ok(());
    };
    let fail = |e: io::Error| Failure::usage(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    clap_mangen::generate_to(man_command(), dir).map_err(fail)
}

fn mount(m: MountArgs) -> Result<(), Failure> {
    use crate::fuse::options::{MountOptions, OwnerFlags};
    use crate::fuse::{daemon, KernelCache, Ownership, Settings};
    let decode = m.decode.options(&m.snapshot)?;
    let options = MountOptions::parse(&m.options).map_err(Failure::usage)?;
    let flags = OwnerFlags { uid: m.uid, gid: m.gid, file_mode: m.file_mode, dir_mode: m.dir_mode };
    let own = options.ownership(flags, Ownership::current_user()).map_err(Failure::usage)?;
    let mut kernel = KernelCache::default();
    for what in &m.no_kernel_cache {
        match what.as_str() {
            "keep-cache" => kernel.keep_cache = false,
            "cache-dir" => kernel.cache_dir = false,
            "readdirplus" => kernel.readdirplus = false,
            "ttl" => kernel.ttl = std::time::Duration::ZERO,
            "zero-open" => kernel.zero_message_open = false,
            // Not a cache being turned off, but the same kind of switch.
            "readdirplus-always" => kernel.readdirplus_auto = true,
            other => return Err(Failure::usage(format!("--no-kernel-cache: unknown item {other}"))),
        }
    }
    let plan = daemon::Plan {
        mountpoint: m.mountpoint,
        foreground: m.foreground,
        threads: usize::from(m.threads),
        clone_fd: m.clone_fd,
        settings: Settings { own, kernel, cache_bytes: m.cache_mb.saturating_mul(1 << 20) },
        options,
    };
    let snapshot = m.snapshot;
    daemon::mount(plan, move || open_index(&snapshot, decode))
}

fn resolve(index: &Index, path: &str) -> Result<NodeId, Failure> {
    index
        .tree
        .resolve(path.trim_matches('/').as_bytes())
        .ok_or_else(|| Failure::usage(format!("{path}: no such file or directory")))
}

fn cat(out: &mut impl Write, index: &Index, id: NodeId) -> Result<(), Failure> {
    let data_err = |e: crate::index::ViewError| Failure {
        code: if e.snapshot_changed { EXIT_USAGE } else { EXIT_DATA },
        message: e.to_string(),
    };
    let io_err = |e: io::Error| Failure::usage(format!("stdout: {e}"));
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    if index.is_generated(id) || matches!(index.tree.node(id).view(), View::Checksums) {
        let bytes = index.render(id).map_err(data_err)?;
        return out.write_all(&bytes).map_err(io_err);
    }
    loop {
        let n = index.read(id, off, &mut buf).map_err(data_err)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n]).map_err(io_err)?;
        off += n as u64;
    }
}

fn list(out: &mut impl Write, index: &Index, id: NodeId, long: bool, json: bool) -> io::Result<()> {
    let tree = &index.tree;
    let ids: Vec<NodeId> = if tree.is_dir(id) { tree.children(id).collect() } else { vec![id] };
    if json {
        let entries: Vec<serde_json::Value> = ids
            .iter()
            .map(|&c| {
                let dir = tree.is_dir(c);
                serde_json::json!({
                    "name": String::from_utf8_lossy(tree.name(c)),
                    "type": if dir { "dir" } else { "file" },
                    "size": if dir { None } else { index.size(c).ok() },
                    "mode": format!("{:o}", if dir { crate::tree::meta::DIR_MODE } else { crate::tree::meta::file_mode(tree, c) }),
                    "mtime": crate::codec::hlctime::format_unix_ms_rfc3339((index.mtime_ts(c) >> 16) as i64),
                    "inode": u64::from(c) + 1,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &entries)?;
        return writeln!(out);
    }
    for &c in &ids {
        let name = String::from_utf8_lossy(tree.name(c));
        let dir = tree.is_dir(c);
        if long {
            let mode = if dir { crate::tree::meta::DIR_MODE } else { crate::tree::meta::file_mode(tree, c) };
            let size = if dir {
                "-".to_string()
            } else {
                index.size(c).map(|s| s.to_string()).unwrap_or_else(|_| "?".into())
            };
            let mtime = crate::codec::hlctime::format_unix_ms_rfc3339((index.mtime_ts(c) >> 16) as i64);
            writeln!(
                out,
                "{}{} {:>12} {} {}{}",
                if dir { 'd' } else { '-' },
                mode_string(mode),
                size,
                mtime,
                name,
                if dir { "/" } else { "" }
            )?;
        } else {
            writeln!(out, "{name}{}", if dir { "/" } else { "" })?;
        }
    }
    Ok(())
}

fn mode_string(mode: u32) -> String {
    let mut s = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_lists_follow_upstream() {
        assert_eq!(parse_adapters("").unwrap().len(), 4);
        assert_eq!(parse_adapters("all").unwrap().len(), 4);
        assert_eq!(parse_adapters(" s3 , ,dynamodb").unwrap(), vec![Adapter::DynamoDb, Adapter::S3]);
        assert!(parse_adapters("s3,ftp").is_err());
        assert!(parse_adapters(",").is_err());
        assert_eq!(mode_string(0o755), "rwxr-xr-x");
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("644"), Ok(0o644));
        assert_eq!(parse_mode("0755"), Ok(0o755));
        assert_eq!(parse_mode("0o600"), Ok(0o600));
        assert!(parse_mode("999").is_err());
        assert!(parse_mode("17777").is_err());
    }

    #[test]
    fn mount_command_line() {
        let cli = Cli::try_parse_from([
            "fsmfs",
            "mount",
            "s.fsm",
            "/mnt",
            "-f",
            "--threads",
            "4",
            "-o",
            "allow_other,fsname=x",
            "-o",
            "noatime",
            "--uid",
            "7",
            "--file-mode",
            "444",
            "--include-orphans",
        ])
        .unwrap();
        let Command::Mount(m) = cli.command else { panic!("not mount") };
        assert!(m.foreground);
        assert_eq!(m.threads, 4);
        assert_eq!(m.options, vec!["allow_other,fsname=x".to_string(), "noatime".to_string()]);
        assert_eq!((m.uid, m.gid, m.file_mode, m.dir_mode), (Some(7), None, Some(0o444), None));
        assert!(m.decode.include_orphans);
        assert_eq!(m.cache_mb, crate::fuse::DEFAULT_CACHE_MB);
        assert!(Cli::try_parse_from(["fsmfs", "mount", "s.fsm", "/mnt", "--threads", "0"]).is_err());
    }

    #[test]
    fn mount_fuse3_argv_means_mount() {
        let args = |v: &[&str]| mount_helper_args(v.iter().map(Into::into).collect());
        let got = args(&["fsmfs", "s.fsm", "/mnt", "-o", "ro,noauto"]);
        assert_eq!(got, args(&["fsmfs", "mount", "s.fsm", "/mnt", "-o", "ro,noauto"]));
        assert!(matches!(Cli::try_parse_from(got).unwrap().command, Command::Mount(_)));
        assert_eq!(args(&["fsmfs", "info", "s.fsm"]).len(), 3);
        assert_eq!(args(&["fsmfs", "--version"]).len(), 2);
    }
}
