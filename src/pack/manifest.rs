//! `MANIFEST.json` as `pack` reads it (`pack.md` §4.1–§4.5): upstream's
//! `ReadManifest` validation, then the fields `pack` uses.

use serde_json::Value;

use crate::adapters::route::Adapter;
use crate::codec::gostruct::GoObject;
use crate::codec::hlctime::parse_rfc3339;

/// Why a manifest was refused. Both are data errors (exit 2); they differ
/// only in wording, as upstream keeps two sentinels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ManifestError {
    #[error("invalid manifest: {0}")]
    Invalid(String),
    #[error("unsupported manifest format_version: {0}")]
    UnsupportedVersion(String),
}

/// The fields `pack` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(crate) last_commit_ts: u64,
    pub cluster_id: String,
    /// Adapters whose scope (`adapters.<name>`) is present and not `null`.
    pub(crate) scopes: Vec<Adapter>,
    pub include_incomplete_uploads: bool,
    pub include_orphans: bool,
    pub preserve_sqs_visibility: bool,
    pub include_sqs_side_records: bool,
    pub(crate) rename_s3_collisions: bool,
    pub(crate) dynamodb_jsonl: bool,
}

const EXCLUSION_FIELDS: [&str; 4] =
    ["include_incomplete_uploads", "include_orphans", "preserve_sqs_visibility", "include_sqs_side_records"];

fn invalid(d: impl Into<String>) -> ManifestError {
    ManifestError::Invalid(d.into())
}

/// Parses and validates a whole `MANIFEST.json`: the version first, then
/// every field's JSON type, then the values (the order decides which
/// error a manifest with several faults gets).
pub(super) fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let (top, m) = read_versioned(bytes)?;
    let typed = read_typed(&top, &m)?;
    let layout = check_values(&m, &typed)?;
    let [include_incomplete_uploads, include_orphans, preserve_sqs_visibility, include_sqs_side_records] =
        typed.flags;
    Ok(Manifest {
        last_commit_ts: typed.last_commit_ts,
        cluster_id: m.str("cluster_id").map_err(invalid)?,
        scopes: typed.scopes,
        include_incomplete_uploads,
        include_orphans,
        preserve_sqs_visibility,
        include_sqs_side_records,
        rename_s3_collisions: typed.rename_s3_collisions,
        dynamodb_jsonl: layout == "jsonl",
    })
}

/// The fields the value checks and [`Manifest`] need, read with their
/// JSON types checked.
struct Typed {
    last_commit_ts: u64,
    key_segment_max_bytes: u32,
    read_ts: u64,
    scopes: Vec<Adapter>,
    /// [`EXCLUSION_FIELDS`], in that order.
    flags: [bool; 4],
    rename_s3_collisions: bool,
}

/// The document as JSON and as Go's decoder sees it, once its
/// `format_version` is one this reader knows. The version is checked
/// before anything else, so a newer major is "unsupported" even when
/// other fields changed shape.
fn read_versioned(bytes: &[u8]) -> Result<(Value, GoObject), ManifestError> {
    // One JSON value and nothing after it (upstream tolerates a stray
    // closing bracket after the object; fsmfs does not).
    let top: Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let Value::Object(map) = &top else {
        return Err(invalid("not a JSON object"));
    };
    match map.get("format_version") {
        None => return Err(invalid("format_version missing")),
        Some(Value::Null) => return Err(invalid("format_version is null")),
        Some(_) => {}
    }
    let m = GoObject::parse(bytes).map_err(invalid)?;
    let version = m.u32("format_version").map_err(invalid)?;
    if version == 0 {
        return Err(ManifestError::UnsupportedVersion("format_version is zero".into()));
    }
    if version > 1 {
        return Err(ManifestError::UnsupportedVersion(format!(
            "format_version {version} > current 1 (newer producer)"
        )));
    }
    Ok((top, m))
}

/// Typed parse of every declared field: a wrong JSON type is invalid,
/// whether or not `pack` uses the field.
fn read_typed(top: &Value, m: &GoObject) -> Result<Typed, ManifestError> {
    for f in [
        "phase",
        "elastickv_version",
        "cluster_id",
        "wall_time_iso",
        "checksum_algorithm",
        "checksum_format",
        "encoded_filename_charset",
        "s3_meta_suffix",
        "s3_collision_strategy",
        "dynamodb_layout",
    ] {
        m.str(f).map_err(invalid)?;
    }
    m.u64("snapshot_index").map_err(invalid)?;
    let last_commit_ts = m.u64("last_commit_ts").map_err(invalid)?;
    let key_segment_max_bytes = m.u32("key_segment_max_bytes").map_err(invalid)?;
    let source = m.object("source").map_err(invalid)?;
    source.str("fsm_path").map_err(invalid)?;
    source.str("fsm_crc32c").map_err(invalid)?;
    let live = m.object("live").map_err(invalid)?;
    let read_ts = live.u64("read_ts").map_err(invalid)?;
    live.str("pin_token_sha256").map_err(invalid)?;
    let scopes = read_scopes(top, m)?;
    let (flags, rename_s3_collisions) = read_exclusions(top, m)?;
    Ok(Typed { last_commit_ts, key_segment_max_bytes, read_ts, scopes, flags, rename_s3_collisions })
}

/// `adapters`: each scope's lists typed, and the adapters whose scope is
/// present and not `null`.
fn read_scopes(top: &Value, m: &GoObject) -> Result<Vec<Adapter>, ManifestError> {
    let adapters = m.object("adapters").map_err(invalid)?;
    let mut scopes = Vec::new();
    for a in Adapter::ALL {
        let scope = adapters.object(a.name()).map_err(invalid)?;
        for list in ["tables", "buckets", "queues"] {
            scope.strings(list).map_err(invalid)?;
        }
        if let Some(Value::Array(dbs)) = scope_field(top, a.name(), "databases") {
            if dbs.iter().any(|v| !v.is_null() && v.as_u64().and_then(|n| u32::try_from(n).ok()).is_none()) {
                return Err(invalid("adapters.redis.databases: not a list of uint32"));
            }
        } else if let Some(v) = scope_field(top, a.name(), "databases") {
            if !v.is_null() {
                return Err(invalid("adapters.redis.databases: not a list"));
            }
        }
        if adapters.is_set(a.name()) {
            scopes.push(a);
        }
    }
    Ok(scopes)
}

/// `exclusions`: the four flags of [`EXCLUSION_FIELDS`] and
/// `rename_s3_collisions`.
fn read_exclusions(top: &Value, m: &GoObject) -> Result<([bool; 4], bool), ManifestError> {
    let exclusions = m.object("exclusions").map_err(invalid)?;
    let mut flags = [false; 4];
    for (flag, f) in flags.iter_mut().zip(EXCLUSION_FIELDS) {
        *flag = exclusions.bool(f).map_err(invalid)?;
    }
    let rename_s3_collisions = exclusions.bool("rename_s3_collisions").map_err(invalid)?;
    // The four exclusion flags must be spelled out (no producer default).
    if let Some(Value::Object(ex)) = top.get("exclusions") {
        for f in EXCLUSION_FIELDS {
            match ex.get(f) {
                None => {
                    return Err(invalid(format!(
                        "exclusions.{f} missing (cannot infer producer-side default)"
                    )))
                }
                Some(Value::Null) => return Err(invalid(format!("exclusions.{f} is null"))),
                Some(_) => {}
            }
        }
    }
    Ok((flags, rename_s3_collisions))
}

/// The values upstream's `ReadManifest` insists on, once every type is
/// right: a known phase, a parseable wall time, the required sections
/// and strings, a supported layout. Returns the layout.
fn check_values(m: &GoObject, typed: &Typed) -> Result<String, ManifestError> {
    let phase = m.str("phase").map_err(invalid)?;
    if phase != "phase0-snapshot-decode" && phase != "phase1-live-pinned" {
        return Err(invalid(format!("unknown phase {phase:?}")));
    }
    let wall = m.str("wall_time_iso").map_err(invalid)?;
    if wall.is_empty() {
        return Err(invalid("wall_time_iso missing"));
    }
    if parse_rfc3339(&wall).is_none() {
        return Err(invalid(format!("wall_time_iso unparseable: {wall:?}")));
    }
    if !m.is_set("adapters") {
        return Err(invalid("adapters section missing"));
    }
    if !m.is_set("exclusions") {
        return Err(invalid("exclusions section missing"));
    }
    for (f, what) in [
        ("checksum_algorithm", "checksum_algorithm missing"),
        ("checksum_format", "checksum_format missing"),
        ("encoded_filename_charset", "encoded_filename_charset missing"),
    ] {
        if m.str(f).map_err(invalid)?.is_empty() {
            return Err(invalid(what));
        }
    }
    if typed.key_segment_max_bytes == 0 {
        return Err(invalid("key_segment_max_bytes is zero"));
    }
    for f in ["s3_meta_suffix", "s3_collision_strategy"] {
        if m.str(f).map_err(invalid)?.is_empty() {
            return Err(invalid(format!("{f} missing")));
        }
    }
    let layout = m.str("dynamodb_layout").map_err(invalid)?;
    if layout != "per-item" && layout != "jsonl" {
        return Err(invalid(format!("dynamodb_layout {layout:?} unsupported")));
    }
    check_phase_sections(m, &phase, typed.read_ts)?;
    Ok(layout)
}

/// A phase-0 manifest describes a snapshot file (`source`), a phase-1
/// one a pinned live read (`live`, with its read timestamp); never both.
fn check_phase_sections(m: &GoObject, phase: &str, read_ts: u64) -> Result<(), ManifestError> {
    if phase == "phase0-snapshot-decode" && m.is_set("live") {
        return Err(invalid("phase0 must not set live"));
    }
    if phase == "phase1-live-pinned" {
        if m.is_set("source") {
            return Err(invalid("phase1 must not set source"));
        }
        if !m.is_set("live") {
            return Err(invalid("phase1 must set live"));
        }
        if read_ts == 0 {
            return Err(invalid("phase1 live.read_ts must be non-zero"));
        }
    }
    Ok(())
}

/// `top.adapters.<adapter>.<field>` (exact names; only used for the one
/// field `GoObject` has no typed reader for).
fn scope_field<'a>(top: &'a Value, adapter: &str, field: &str) -> Option<&'a Value> {
    top.get("adapters")?.get(adapter)?.get(field)
}

impl Manifest {
    /// §4.5: producer modes `pack` cannot reproduce, for the selected
    /// adapters. `Err` names the first one.
    pub(super) fn unsupported_mode(&self, selected: &[Adapter]) -> Result<(), String> {
        let on = |a| selected.contains(&a);
        if self.dynamodb_jsonl && on(Adapter::DynamoDb) {
            return Err(
                "MANIFEST.json has dynamodb_layout \"jsonl\"; pack reads only the per-item layout".into()
            );
        }
        let guards = [
            (
                self.include_incomplete_uploads,
                Adapter::S3,
                "include_incomplete_uploads",
                "S3 _incomplete_uploads/ cannot be rebuilt",
            ),
            (self.include_orphans, Adapter::S3, "include_orphans", "S3 _orphans/ cannot be rebuilt"),
            (
                self.preserve_sqs_visibility,
                Adapter::Sqs,
                "preserve_sqs_visibility",
                "pack always resets SQS visibility state",
            ),
            (
                self.include_sqs_side_records,
                Adapter::Sqs,
                "include_sqs_side_records",
                "SQS side records are not replayed",
            ),
        ];
        for (set, adapter, flag, why) in guards {
            if set && on(adapter) {
                return Err(format!("MANIFEST.json exclusions.{flag} is true: {why} (re-decode without it, or leave {} out of --adapter)", adapter.name()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "format_version": 1,
  "phase": "phase0-snapshot-decode",
  "elastickv_version": "dev",
  "cluster_id": "c1",
  "last_commit_ts": 112354918400000000,
  "wall_time_iso": "2024-04-29T14:13:20Z",
  "source": {"fsm_path": "x.fsm"},
  "adapters": {"dynamodb": {}, "s3": {}},
  "exclusions": {"include_incomplete_uploads": false, "include_orphans": false,
                 "preserve_sqs_visibility": false, "include_sqs_side_records": false},
  "checksum_algorithm": "sha256",
  "checksum_format": "sha256sum",
  "encoded_filename_charset": "rfc3986-unreserved-plus-percent",
  "key_segment_max_bytes": 240,
  "s3_meta_suffix": ".elastickv-meta.json",
  "s3_collision_strategy": "leaf-data-suffix",
  "dynamodb_layout": "per-item"
}"#;

    fn with(from: &str, to: &str) -> Result<Manifest, ManifestError> {
        assert!(GOOD.contains(from), "{from}");
        parse(GOOD.replace(from, to).as_bytes())
    }

    #[test]
    fn good_manifest() {
        let m = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(m.last_commit_ts, 112354918400000000);
        assert_eq!(m.cluster_id, "c1");
        assert_eq!(m.scopes, vec![Adapter::DynamoDb, Adapter::S3]);
        assert!(!m.rename_s3_collisions && !m.dynamodb_jsonl);
        assert!(m.unsupported_mode(&Adapter::ALL).is_ok());
    }

    #[test]
    fn version_rules() {
        assert!(matches!(
            with("\"format_version\": 1", "\"format_version\": 2"),
            Err(ManifestError::UnsupportedVersion(_))
        ));
        assert!(matches!(
            with("\"format_version\": 1", "\"format_version\": 0"),
            Err(ManifestError::UnsupportedVersion(_))
        ));
        assert!(matches!(with("\"format_version\": 1,", ""), Err(ManifestError::Invalid(_))));
        assert!(matches!(
            with("\"format_version\": 1", "\"format_version\": null"),
            Err(ManifestError::Invalid(_))
        ));
        // A newer major is unsupported even if other fields changed type.
        assert!(matches!(
            parse(
                GOOD.replace("\"format_version\": 1", "\"format_version\": 3")
                    .replace("\"phase\": \"phase0-snapshot-decode\"", "\"phase\": 7")
                    .as_bytes()
            ),
            Err(ManifestError::UnsupportedVersion(_))
        ));
    }

    #[test]
    fn refusals() {
        for (from, to) in [
            ("\"phase\": \"phase0-snapshot-decode\"", "\"phase\": \"phase9\""),
            ("\"wall_time_iso\": \"2024-04-29T14:13:20Z\"", "\"wall_time_iso\": \"yesterday\""),
            ("\"wall_time_iso\": \"2024-04-29T14:13:20Z\"", "\"wall_time_iso\": \"\""),
            ("\"adapters\": {\"dynamodb\": {}, \"s3\": {}}", "\"adapters\": null"),
            ("\"include_orphans\": false,", ""),
            ("\"include_orphans\": false", "\"include_orphans\": null"),
            ("\"checksum_format\": \"sha256sum\"", "\"checksum_format\": \"\""),
            ("\"key_segment_max_bytes\": 240", "\"key_segment_max_bytes\": 0"),
            ("\"s3_meta_suffix\": \".elastickv-meta.json\"", "\"s3_meta_suffix\": \"\""),
            ("\"dynamodb_layout\": \"per-item\"", "\"dynamodb_layout\": \"csv\""),
            ("\"source\": {\"fsm_path\": \"x.fsm\"}", "\"live\": {\"read_ts\": 5}"),
            ("\"last_commit_ts\": 112354918400000000", "\"last_commit_ts\": \"7\""),
            ("\"last_commit_ts\": 112354918400000000", "\"last_commit_ts\": -1"),
            ("\"adapters\": {\"dynamodb\": {}, \"s3\": {}}", "\"adapters\": {\"s3\": 5}"),
            (
                "\"adapters\": {\"dynamodb\": {}, \"s3\": {}}",
                "\"adapters\": {\"redis\": {\"databases\": [-1]}}",
            ),
        ] {
            assert!(matches!(with(from, to), Err(ManifestError::Invalid(_))), "{from} -> {to}");
        }
        assert!(parse(b"[]").is_err());
        assert!(parse(format!("{GOOD} {{}}").as_bytes()).is_err());
        assert!(parse(format!("{GOOD} }}").as_bytes()).is_err());
        let e = parse(b"{\n  \"format_version\": 1,\n  oops\n}").unwrap_err();
        assert!(e.to_string().contains("line 3 column 3"), "{e}");
    }

    #[test]
    fn phase1_and_modes() {
        let p1 = GOOD
            .replace("\"phase\": \"phase0-snapshot-decode\"", "\"phase\": \"phase1-live-pinned\"")
            .replace("\"source\": {\"fsm_path\": \"x.fsm\"}", "\"live\": {\"read_ts\": 5}");
        assert!(parse(p1.as_bytes()).is_ok());
        assert!(parse(p1.replace("\"read_ts\": 5", "\"read_ts\": 0").as_bytes()).is_err());
        let m = with("\"dynamodb_layout\": \"per-item\"", "\"dynamodb_layout\": \"jsonl\"").unwrap();
        assert!(m.unsupported_mode(&[Adapter::DynamoDb]).is_err());
        assert!(m.unsupported_mode(&[Adapter::S3]).is_ok());
        let m = with("\"include_orphans\": false", "\"include_orphans\": true").unwrap();
        assert!(m.unsupported_mode(&[Adapter::S3]).unwrap_err().contains("include_orphans"));
        assert!(m.unsupported_mode(&[Adapter::DynamoDb, Adapter::Sqs]).is_ok());
        let m = with(
            "\"include_sqs_side_records\": false",
            "\"include_sqs_side_records\": true, \"rename_s3_collisions\": true",
        )
        .unwrap();
        assert!(m.rename_s3_collisions);
        assert!(m.unsupported_mode(&[Adapter::Sqs]).is_err());
    }
}
