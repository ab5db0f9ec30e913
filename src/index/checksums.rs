//! `CHECKSUMS` (`fsm-container.md` §14.3): `sha256sum` lines for every
//! regular file but itself, sorted by path. Its size is known from the
//! paths alone, before anything is hashed; the content is computed on the
//! first read, hashing files on all cores.

use sha2::{Digest, Sha256};

use crate::index::Index;
use crate::tree::{NodeId, Tree};

/// Paths of every file except `CHECKSUMS`, in Go string order.
fn listed(index: &Index) -> Vec<(Vec<u8>, NodeId)> {
    let mut files: Vec<(Vec<u8>, NodeId)> = index
        .tree
        .files()
        .filter(|&id| id != index.checksums_node)
        .map(|id| (index.tree.path(id), id))
        .collect();
    files.sort();
    files
}

/// The path as a line writes it: GNU escaping when it holds `\n`, `\r`
/// or `\`; upstream then walks runes, so invalid UTF-8 turns into U+FFFD.
fn escaped(path: &[u8]) -> (bool, Vec<u8>) {
    if !path.iter().any(|&b| b == b'\n' || b == b'\r' || b == b'\\') {
        return (false, path.to_vec());
    }
    let mut out = Vec::with_capacity(path.len() + 4);
    let mut rest = path;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, false),
            Err(e) => (std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""), true),
        };
        for c in valid.chars() {
            match c {
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\\' => out.extend_from_slice(b"\\\\"),
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        rest = &rest[valid.len()..];
        if bad {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            rest = &rest[1..];
        }
    }
    (true, out)
}

fn line_len(path: &[u8]) -> u64 {
    let (esc, p) = escaped(path);
    u64::from(esc) + 64 + 2 + p.len() as u64 + 1
}

/// Sum of the line lengths. Parents precede children in the node array,
/// so each path length is its parent's plus one name: no strings built.
/// Paths that need escaping (rare) are measured the slow way.
pub(crate) fn checksums_size(index: &Index) -> u64 {
    let tree = &index.tree;
    let special = |n: &[u8]| n.iter().any(|&b| b == b'\n' || b == b'\r' || b == b'\\');
    // For every node: path length, or u32::MAX when an ancestor's name
    // needs escaping.
    let mut len = vec![0u32; tree.len()];
    let mut total = 0u64;
    for id in 1..tree.len() as NodeId {
        let parent = tree.parent(id);
        let name = tree.name(id);
        let base = len[parent as usize];
        len[id as usize] = if base == u32::MAX || special(name) {
            u32::MAX
        } else if parent == Tree::ROOT {
            name.len() as u32
        } else {
            base + 1 + name.len() as u32
        };
        if tree.is_dir(id) || id == index.checksums_node {
            continue;
        }
        total += match len[id as usize] {
            u32::MAX => line_len(&tree.path(id)),
            l => 64 + 2 + u64::from(l) + 1,
        };
    }
    total
}

pub(crate) fn render_checksums(index: &Index) -> Result<Vec<u8>, String> {
    index.checksums.get_or_init(|| compute(index)).clone()
}

fn hash_file(index: &Index, id: NodeId) -> Result<[u8; 32], String> {
    let mut h = Sha256::new();
    if index.is_generated(id) || matches!(index.tree.node(id).view(), crate::tree::View::Static(_)) {
        h.update(index.render(id).map_err(|e| e.to_string())?);
    } else {
        let mut buf = vec![0u8; 1 << 20];
        let mut off = 0u64;
        loop {
            let n = index.read(id, off, &mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            off += n as u64;
        }
    }
    Ok(h.finalize().into())
}

fn compute(index: &Index) -> Result<Vec<u8>, String> {
    let files = listed(index);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let chunk = files.len().div_ceil(threads).max(1);
    let digests: Vec<Result<Vec<[u8; 32]>, String>> = std::thread::scope(|s| {
        let jobs: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|(_, id)| hash_file(index, *id)).collect()))
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap_or_else(|_| Err("hashing thread panicked".into()))).collect()
    });
    let mut lines = Vec::with_capacity(files.len());
    let mut paths = files.into_iter();
    for part in digests {
        for d in part? {
            let (path, _) = paths.next().expect("one digest per file");
            lines.push((path, d));
        }
    }
    Ok(checksum_lines(&lines))
}

/// Formats `sha256sum` lines for (path, digest) pairs already in order.
pub(crate) fn checksum_lines(files: &[(Vec<u8>, [u8; 32])]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(files.len() * 100);
    for (path, digest) in files {
        let (esc, p) = escaped(path);
        if esc {
            out.push(b'\\');
        }
        for b in digest {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
        out.extend_from_slice(b"  ");
        out.extend_from_slice(&p);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_gnu_sha256sum() {
        assert_eq!(escaped(b"a/b"), (false, b"a/b".to_vec()));
        assert_eq!(escaped(b"a\nb"), (true, b"a\\nb".to_vec()));
        assert_eq!(escaped(b"a\\b\r"), (true, b"a\\\\b\\r".to_vec()));
        assert_eq!(escaped(b"\xff\n"), (true, b"\xef\xbf\xbd\\n".to_vec()));
        assert_eq!(escaped(b"\xff"), (false, b"\xff".to_vec()));
        assert_eq!(line_len(b"a\nb"), 1 + 64 + 2 + 4 + 1);
    }
}
