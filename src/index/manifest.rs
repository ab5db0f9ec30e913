//! `MANIFEST.json` (`fsm-container.md` §14.2), made deterministic: the wall
//! time is the snapshot's last commit time and `source.fsm_path` is the
//! snapshot's file name, so every mount of one file shows the same bytes
//! however the file was reached (`design.md` §4, §5).

use std::path::Path;

use super::DecodeOptions;
use crate::adapters::Adapter;
use crate::codec::gojson::JsonWriter;
use crate::codec::hlctime::format_unix_ms_rfc3339;

/// Upstream's build stamp for a default build.
pub(crate) const ELASTICKV_VERSION: &str = "dev";

/// Raft index from a snapshot file name: `%016x.fsm` engine names are hex;
/// anything else is parsed as decimal like upstream; 0 when neither.
pub(crate) fn snapshot_index_from_path(path: &str) -> u64 {
    let Some(stem) =
        Path::new(path).file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".fsm"))
    else {
        return 0;
    };
    if stem.len() == 16 && stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        return u64::from_str_radix(stem, 16).unwrap_or(0);
    }
    if !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()) {
        return stem.parse().unwrap_or(0);
    }
    // Go's ParseUint also takes a leading '+'.
    stem.strip_prefix('+')
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// What `source.fsm_path` records: the snapshot's file name. Upstream
/// writes `--input` as given, which differs between a relative and an
/// absolute path, another working directory or a symlink, while rsync
/// sees the same size and mtime. The name is what identifies the snapshot
/// (the engine names files by raft index, `snapshot_index` is read from
/// it); callers resolve symlinks first so a link reaches the real name.
pub(crate) fn recorded_fsm_path(source_path: &str) -> &str {
    let name = source_path.rsplit('/').find(|c| !c.is_empty() && *c != ".");
    name.unwrap_or(source_path)
}

pub(crate) fn render(opts: &DecodeOptions, last_commit_ts: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut w = JsonWriter::pretty(&mut out, false);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    w.key(b"phase");
    w.string(b"phase0-snapshot-decode");
    w.key(b"elastickv_version");
    w.string(ELASTICKV_VERSION.as_bytes());
    if !opts.cluster_id.is_empty() {
        w.key(b"cluster_id");
        w.string(opts.cluster_id.as_bytes());
    }
    let index = snapshot_index_from_path(&opts.source_path);
    if index != 0 {
        w.key(b"snapshot_index");
        w.u64(index);
    }
    if last_commit_ts != 0 {
        w.key(b"last_commit_ts");
        w.u64(last_commit_ts);
    }
    w.key(b"wall_time_iso");
    w.string(format_unix_ms_rfc3339((last_commit_ts >> 16) as i64).as_bytes());
    w.key(b"source");
    w.begin_object();
    w.key(b"fsm_path");
    w.string(recorded_fsm_path(&opts.source_path).as_bytes());
    w.end_object();
    w.key(b"adapters");
    w.begin_object();
    for a in [Adapter::DynamoDb, Adapter::S3, Adapter::Redis, Adapter::Sqs] {
        if opts.enabled(a) {
            w.key(a.name().as_bytes());
            w.begin_object();
            w.end_object();
        }
    }
    w.end_object();
    w.key(b"exclusions");
    w.begin_object();
    for (k, v) in [
        ("include_incomplete_uploads", opts.include_incomplete_uploads),
        ("include_orphans", opts.include_orphans),
        ("preserve_sqs_visibility", opts.preserve_sqs_visibility),
        ("include_sqs_side_records", opts.include_sqs_side_records),
    ] {
        w.key(k.as_bytes());
        w.bool(v);
    }
    if opts.rename_collisions {
        w.key(b"rename_s3_collisions");
        w.bool(true);
    }
    w.end_object();
    for (k, v) in [
        ("checksum_algorithm", "sha256"),
        ("checksum_format", "sha256sum"),
        ("encoded_filename_charset", "rfc3986-unreserved-plus-percent"),
    ] {
        w.key(k.as_bytes());
        w.string(v.as_bytes());
    }
    w.key(b"key_segment_max_bytes");
    w.u64(240);
    w.key(b"s3_meta_suffix");
    w.string(b".elastickv-meta.json");
    w.key(b"s3_collision_strategy");
    w.string(b"leaf-data-suffix");
    w.key(b"dynamodb_layout");
    w.string(if opts.dynamodb_bundle_jsonl { b"jsonl" } else { b"per-item" });
    w.end_object();
    w.end_line();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_manifest() {
        let opts = DecodeOptions {
            cluster_id: "ek-prod".into(),
            source_path: "/backups/0000000000000064.fsm".into(),
            ..Default::default()
        };
        let got = String::from_utf8(render(&opts, 112354918400000000)).unwrap();
        // The spec's example, with our deterministic wall time, the
        // engine name read as hex (0x64 = 100) and the file name only.
        let want = r#"{
  "format_version": 1,
  "phase": "phase0-snapshot-decode",
  "elastickv_version": "dev",
  "cluster_id": "ek-prod",
  "snapshot_index": 100,
  "last_commit_ts": 112354918400000000,
  "wall_time_iso": "2024-04-29T14:13:20Z",
  "source": {
    "fsm_path": "0000000000000064.fsm"
  },
  "adapters": {
    "dynamodb": {},
    "s3": {},
    "redis": {},
    "sqs": {}
  },
  "exclusions": {
    "include_incomplete_uploads": false,
    "include_orphans": false,
    "preserve_sqs_visibility": false,
    "include_sqs_side_records": false
  },
  "checksum_algorithm": "sha256",
  "checksum_format": "sha256sum",
  "encoded_filename_charset": "rfc3986-unreserved-plus-percent",
  "key_segment_max_bytes": 240,
  "s3_meta_suffix": ".elastickv-meta.json",
  "s3_collision_strategy": "leaf-data-suffix",
  "dynamodb_layout": "per-item"
}
"#;
        assert_eq!(got, want);
    }

    #[test]
    fn fsm_path_is_the_file_name_however_it_was_given() {
        for given in [
            "/backups/demo.fsm",
            "demo.fsm",
            "./demo.fsm",
            "../data//demo.fsm",
            "x/demo.fsm/",
            "x/demo.fsm/.",
        ] {
            assert_eq!(recorded_fsm_path(given), "demo.fsm", "{given}");
        }
        assert_eq!(recorded_fsm_path(""), "");
        let at = |p: &str| {
            let opts = DecodeOptions { source_path: p.into(), ..Default::default() };
            render(&opts, 112354918400000000)
        };
        assert_eq!(at("/a/0000000000000064.fsm"), at("0000000000000064.fsm"));
    }

    #[test]
    fn snapshot_index_rules() {
        assert_eq!(snapshot_index_from_path("/x/0000000000000064.fsm"), 100);
        assert_eq!(snapshot_index_from_path("/x/00000000000000ff.fsm"), 255);
        assert_eq!(snapshot_index_from_path("64.fsm"), 64);
        assert_eq!(snapshot_index_from_path("snap.fsm"), 0);
        assert_eq!(snapshot_index_from_path("64.bin"), 0);
    }
}
