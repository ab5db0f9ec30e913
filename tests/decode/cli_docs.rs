//! `fsmfs completions`, `fsmfs man` and `scripts/install`: the generated
//! documentation covers every subcommand `fsmfs --help` lists (so a new
//! subcommand is checked without touching this file), parses as shell or
//! roff, and the install script puts it all under a PREFIX and takes
//! exactly that away again.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_fsmfs");

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(out.status.success(), "{cmd:?}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    out
}

fn fsmfs(args: &[&str]) -> Vec<u8> {
    run(Command::new(BIN).args(args)).stdout
}

/// The subcommands as `fsmfs --help` lists them, without clap's `help`.
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(fsmfs(&["--help"])).unwrap();
    let list: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect();
    assert!(list.len() >= 6, "help lists too few subcommands: {help}");
    list
}

/// `word` occurs with no letter or digit right before or after it.
fn mentions(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + word.len()).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn completions_name_every_subcommand_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = String::from_utf8(fsmfs(&["completions", shell])).unwrap();
        for sub in subcommands() {
            assert!(mentions(&script, &sub), "{shell} completions do not mention `{sub}`");
        }
        // Syntax check with the shell itself where it is installed.
        if have(shell) {
            let file = dir.path().join(shell);
            std::fs::write(&file, &script).unwrap();
            run(Command::new(shell).arg("-n").arg(&file));
        }
    }
    assert!(!Command::new(BIN).args(["completions", "tcsh"]).output().unwrap().status.success());
}

#[test]
fn man_pages_cover_every_subcommand_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("new/man1");
    fsmfs(&["man", man1.to_str().unwrap()]);
    let subs = subcommands();
    let mut expected: BTreeSet<String> = subs.iter().map(|s| format!("fsmfs-{s}.1")).collect();
    expected.insert("fsmfs.1".into());
    let written: BTreeSet<String> =
        std::fs::read_dir(&man1).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(written, expected);

    // Without DIR the main page goes to stdout, the same as DIR/fsmfs.1.
    let main_page = std::fs::read_to_string(man1.join("fsmfs.1")).unwrap();
    assert_eq!(String::from_utf8(fsmfs(&["man"])).unwrap(), main_page);
    for sub in &subs {
        assert!(
            mentions(&main_page, &format!("fsmfs\\-{sub}(1)")),
            "fsmfs.1 does not refer to fsmfs-{sub}(1)"
        );
    }

    let man = have("man");
    for page in &expected {
        let name = page.trim_end_matches(".1");
        let roff = std::fs::read_to_string(man1.join(page)).unwrap();
        // Sanity of the roff: a title line naming the page, NAME and SYNOPSIS.
        assert!(roff.lines().any(|l| l.starts_with(&format!(".TH {name} 1 "))), "{page}: no .TH line");
        assert!(roff.contains("\n.SH NAME\n") && roff.contains("\n.SH SYNOPSIS\n"), "{page}: sections");
        if man {
            let out =
                run(Command::new("man").args(["-l", "-P", "cat"]).arg(man1.join(page)).env("MANWIDTH", "80"));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("NAME") && text.contains(name), "{page} renders as:\n{text}");
            let warnings = String::from_utf8_lossy(&out.stderr);
            assert!(warnings.trim().is_empty(), "{page}: man warns: {warnings}");
        }
    }
}

/// The section names of a 64-bit little-endian ELF file (the string
/// ".debug_info" alone also occurs in std's backtrace code, so the section
/// table is read rather than the bytes searched).
fn section_names(path: &Path) -> Vec<String> {
    let elf = std::fs::read(path).unwrap();
    assert_eq!(&elf[..6], b"\x7fELF\x02\x01", "{}: not a 64-bit little-endian ELF", path.display());
    let num =
        |at: usize, len: usize| elf[at..at + len].iter().rev().fold(0usize, |n, &b| n << 8 | b as usize);
    let (table, entry, count, names) = (num(0x28, 8), num(0x3a, 2), num(0x3c, 2), num(0x3e, 2));
    let header = |i: usize| table + i * entry;
    let strings = num(header(names) + 0x18, 8);
    (0..count)
        .map(|i| {
            let start = strings + num(header(i), 4);
            let end = start + elf[start..].iter().position(|&b| b == 0).unwrap();
            String::from_utf8_lossy(&elf[start..end]).into_owned()
        })
        .collect()
}

#[test]
fn install_script_installs_stripped_and_uninstalls_only_its_files() {
    let prefix = tempfile::tempdir().unwrap();
    let prefix = prefix.path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install");
    // Someone else's page in the same directory must survive the uninstall.
    let foreign = prefix.join("share/man/man1/other.1");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, ".TH other 1\n").unwrap();

    run(Command::new(&script).arg(prefix).env("FSMFS_BIN", BIN));
    let mut files = vec![
        "bin/fsmfs".to_string(),
        "share/bash-completion/completions/fsmfs".into(),
        "share/zsh/site-functions/_fsmfs".into(),
        "share/fish/vendor_completions.d/fsmfs.fish".into(),
        "share/man/man1/fsmfs.1".into(),
    ];
    files.extend(subcommands().iter().map(|s| format!("share/man/man1/fsmfs-{s}.1")));
    for f in &files {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    // Stripped: the debug build has DWARF and a symbol table, the installed copy neither.
    let unstripped = |p: &Path| section_names(p).iter().any(|n| n == ".debug_info" || n == ".symtab");
    assert!(unstripped(Path::new(BIN)));
    assert!(!unstripped(&prefix.join("bin/fsmfs")), "installed binary is not stripped");
    let version = run(Command::new(prefix.join("bin/fsmfs")).arg("--version")).stdout;
    assert!(String::from_utf8(version).unwrap().starts_with("fsmfs "));

    run(Command::new(&script).arg("--uninstall").arg(prefix));
    for f in &files {
        assert!(!prefix.join(f).exists(), "{f} left after uninstall");
    }
    assert!(!prefix.join("share/fsmfs").exists());
    assert!(foreign.is_file(), "uninstall removed a file it did not install");
    // Nothing installed any more: a second uninstall says so and fails.
    let again = Command::new(&script).arg("--uninstall").arg(prefix).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not found"));
}

/// `scripts/test` against stand-ins for cargo and rustup (a real run takes
/// minutes): it names each phase, adds missing rustfmt/clippy through
/// rustup, and when the demo generator fails shows its output and says so.
#[test]
fn test_script_reports_phases_and_a_failing_demo_generator() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let added = dir.path().join("components-added");
    let stub = |name: &str, body: &str| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    // fmt and clippy are missing until `rustup component add` ran.
    stub(
        "cargo",
        r#"case "$1 $2" in
  "fmt --version"|"clippy --version") [ -f "$ADDED" ] ;;
  run*) echo "demo generator: exploded at record 7" >&2; exit 101 ;;
  *) exit 0 ;;
esac"#,
    );
    stub("rustup", r#"echo "rustup $*" >&2; [ "$*" = "component add rustfmt clippy" ] && touch "$ADDED""#);
    // Present, so that no package gets installed.
    for tool in ["rsync", "fusermount3", "mountpoint"] {
        stub(tool, "exit 0");
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test"))
        .env("PATH", path)
        .env("ADDED", &added)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = [
        "== adding toolchain components: rustfmt clippy (rustup)",
        "rustup component add rustfmt clippy",
        "== checking formatting",
        "== building and running the demo snapshot generator",
        "demo generator: exploded at record 7",
        "scripts/test: the demo snapshot generator failed (output above)",
    ];
    let mut rest = &*stderr;
    for line in expected {
        let at = rest.find(line).unwrap_or_else(|| panic!("missing or out of order: {line}\n{stderr}"));
        rest = &rest[at + line.len()..];
    }
    assert!(!stderr.contains("== linting"), "went on after the failure:\n{stderr}");
}
