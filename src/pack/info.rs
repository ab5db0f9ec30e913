//! `OUT.encode_info.json` (`pack.md` §3.6): the provenance sidecar
//! upstream's `elastickv-snapshot-prepare-restore` checks before it accepts
//! a payload (SHA-256, key-format version, self-test outcome, cluster id).

use std::io::{self, Write};
use std::path::Path;

use crate::adapters::route::Adapter;
use crate::codec::gojson::JsonWriter;
use crate::codec::hlctime::format_unix_nanos_rfc3339;

/// What the sidecar records.
#[derive(Debug, Clone)]
pub(crate) struct EncodeInfo {
    pub(crate) encoder_version: String,
    /// Wall clock of the run: (Unix seconds, nanoseconds).
    pub(crate) wall_time: (i64, u32),
    /// `TREE` and `OUT` exactly as given on the command line.
    pub(crate) input_root: Vec<u8>,
    pub(crate) output_fsm_path: Vec<u8>,
    pub(crate) sha256: [u8; 32],
    pub(crate) last_commit_ts: u64,
    pub(crate) overridden: bool,
    pub(crate) manifest_last_commit_ts: u64,
    pub cluster_id: String,
    /// In canonical order.
    pub adapters: Vec<Adapter>,
    pub(crate) self_test_ran: bool,
    pub(crate) self_test_matched: bool,
}

/// The sidecar path: OUT with `.encode_info.json` appended.
pub fn sidecar_path(out: &Path) -> std::path::PathBuf {
    super::output::with_suffix(out, ".encode_info.json")
}

/// The bytes upstream's `json.Encoder` (two-space indent, HTML escaping,
/// trailing newline) writes for this record.
pub(super) fn render(info: &EncodeInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(640);
    let mut w = JsonWriter::pretty(&mut out, true);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    w.key(b"encoder_version");
    w.string(info.encoder_version.as_bytes());
    w.key(b"encoder_key_format_version");
    w.u64(1);
    w.key(b"wall_time_iso");
    w.string(format_unix_nanos_rfc3339(info.wall_time.0, info.wall_time.1).as_bytes());
    w.key(b"input_root");
    w.string(&info.input_root);
    w.key(b"output_fsm_path");
    w.string(&info.output_fsm_path);
    w.key(b"output_fsm_sha256");
    w.string(crate::codec::hex(&info.sha256).as_bytes());
    w.key(b"last_commit_ts");
    w.u64(info.last_commit_ts);
    w.key(b"last_commit_ts_overridden");
    w.bool(info.overridden);
    w.key(b"manifest_last_commit_ts");
    w.u64(info.manifest_last_commit_ts);
    if !info.cluster_id.is_empty() {
        w.key(b"manifest_cluster_id");
        w.string(info.cluster_id.as_bytes());
    }
    w.key(b"adapters_enabled");
    w.begin_array();
    for a in Adapter::ALL.iter().filter(|a| info.adapters.contains(a)) {
        w.string(a.name().as_bytes());
    }
    w.end_array();
    w.key(b"self_test");
    w.begin_object();
    w.key(b"ran");
    w.bool(info.self_test_ran);
    w.key(b"matched");
    w.bool(info.self_test_matched);
    w.end_object();
    w.end_object();
    w.end_line();
    out
}

/// Why writing the sidecar failed, and whether this run had already
/// opened (created or truncated) it — only then may a rollback remove it.
#[derive(Debug)]
pub(super) struct WriteError {
    pub(crate) opened: bool,
    pub(crate) error: io::Error,
}

/// Writes the sidecar next to `out`: sidecar-safe open, write, fsync,
/// directory fsync.
pub(super) fn write(out: &Path, info: &EncodeInfo) -> Result<(), WriteError> {
    let path = sidecar_path(out);
    let mut f = super::output::open_sidecar(&path).map_err(|error| WriteError { opened: false, error })?;
    let opened = |error| WriteError { opened: true, error };
    f.write_all(&render(info)).map_err(opened)?;
    f.sync_all().map_err(opened)?;
    drop(f);
    super::output::fsync_parent(&path).map_err(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_layout() {
        let mut sha = [0u8; 32];
        let want_sha = "36f312da6d6fd8f5f79437fbccdcc737e2f08656723c650382d84f4c321b4299";
        for (i, b) in sha.iter_mut().enumerate() {
            *b = u8::from_str_radix(&want_sha[2 * i..2 * i + 2], 16).unwrap();
        }
        let info = EncodeInfo {
            encoder_version: "dev".into(),
            wall_time: (1780301702, 500_000_000),
            input_root: b"/restore/dump-root".to_vec(),
            output_fsm_path: b"/restore/restore.fsm".to_vec(),
            sha256: sha,
            last_commit_ts: 112538419200000003,
            overridden: false,
            manifest_last_commit_ts: 112538419200000003,
            cluster_id: "prod-cluster".into(),
            adapters: vec![Adapter::Sqs, Adapter::S3, Adapter::DynamoDb, Adapter::Redis],
            self_test_ran: true,
            self_test_matched: true,
        };
        let want = r#"{
  "format_version": 1,
  "encoder_version": "dev",
  "encoder_key_format_version": 1,
  "wall_time_iso": "2026-06-01T08:15:02.5Z",
  "input_root": "/restore/dump-root",
  "output_fsm_path": "/restore/restore.fsm",
  "output_fsm_sha256": "36f312da6d6fd8f5f79437fbccdcc737e2f08656723c650382d84f4c321b4299",
  "last_commit_ts": 112538419200000003,
  "last_commit_ts_overridden": false,
  "manifest_last_commit_ts": 112538419200000003,
  "manifest_cluster_id": "prod-cluster",
  "adapters_enabled": [
    "redis",
    "dynamodb",
    "s3",
    "sqs"
  ],
  "self_test": {
    "ran": true,
    "matched": true
  }
}
"#;
        assert_eq!(String::from_utf8(render(&info)).unwrap(), want);
        let bare = EncodeInfo {
            cluster_id: String::new(),
            input_root: b"a<b&".to_vec(),
            adapters: vec![Adapter::S3],
            ..info
        };
        let text = String::from_utf8(render(&bare)).unwrap();
        assert!(!text.contains("manifest_cluster_id"));
        assert!(text.contains(r#""input_root": "a\u003cb\u0026","#));
        assert!(text.contains("\"adapters_enabled\": [\n    \"s3\"\n  ],"));
    }
}
