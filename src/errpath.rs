//! Paths in error lines, cut to a readable length: a tree can hold paths
//! of thousands of bytes (an S3 key hundreds of levels deep), and an error
//! line must stay one line a user can read.

/// Longest path shown whole, in bytes.
pub(crate) const MAX_SHOWN: usize = 240;

/// `path` lossily as UTF-8; past [`MAX_SHOWN`] bytes its middle is replaced
/// by `…(N bytes)…`, keeping the start (where it is) and the end (the
/// name).
pub(crate) fn shown(path: &[u8]) -> String {
    let s = String::from_utf8_lossy(path);
    if s.len() <= MAX_SHOWN {
        return s.into_owned();
    }
    let keep = MAX_SHOWN / 2;
    let mut head = keep;
    while !s.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = s.len() - keep;
    while !s.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}…({} bytes)…{}", &s[..head], tail - head, &s[tail..])
}

/// [`shown`] for a `Path`.
pub(crate) fn shown_path(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    shown(path.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_are_cut_in_the_middle() {
        assert_eq!(shown(b"tree/s3/b/key"), "tree/s3/b/key");
        let long = format!("tree/{}/end.json", "é".repeat(3000));
        let s = shown(long.as_bytes());
        assert!(s.len() < MAX_SHOWN + 40, "{}", s.len());
        assert!(s.starts_with("tree/é") && s.ends_with("é/end.json"), "{s}");
        assert!(s.contains("bytes)…"), "{s}");
        let exact = "a".repeat(MAX_SHOWN);
        assert_eq!(shown(exact.as_bytes()), exact);
    }
}
