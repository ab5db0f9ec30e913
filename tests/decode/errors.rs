//! Every malformed input gives its typed error: exit code 2, one clear
//! line on stderr naming the offset (and key where known), and no output
//! directory or temporary left behind.

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use fsmfs::container::writer::{encode_key, encode_value, wrap_engine_v1, StreamWriter};

use crate::common::snap::*;

/// Runs `fsmfs extract` on `bytes` and checks the failure contract.
fn expect_failure(bytes: &[u8], extra: &[&str], want: &str) {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.fsm");
    std::fs::write(&snap, bytes).unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["extract", snap.to_str().unwrap(), out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = fsmfs(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "want exit 2 for {want:?}; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("fsmfs: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    assert!(lines[0].contains(want), "{want:?} not in {:?}", lines[0]);
    assert!(!out.exists(), "no output directory may be left");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("snap.fsm")], "no temporary may be left");
}

fn stream(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut w = StreamWriter::new(Vec::new(), T).unwrap();
    for (k, v) in entries {
        w.entry(k, &[v]).unwrap();
    }
    w.finish()
}

fn live(user_key: &[u8], body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (encode_key(user_key, T), encode_value(false, 0, body))
}

#[test]
fn container_errors() {
    let ok = stream(&[(&encode_key(b"!x", T), &encode_value(false, 0, b"v"))]);
    expect_failure(b"", &[], "empty file");
    expect_failure(b"EKVPB", &[], "too short");
    expect_failure(b"PK\x03\x04not a snapshot at all", &[], "not an elastickv snapshot");
    expect_failure(b"EKVSSTI1\0\0\0\0\0\0\0\0", &[], "EKVSSTI1");
    expect_failure(b"EKVTHLC3\0\0\0\0\0\0\0\0\0\0", &[], "unknown snapshot header");
    let mut v2 = b"EKVTHLC2".to_vec();
    v2.extend_from_slice(&2000u16.to_be_bytes());
    v2.extend_from_slice(&[0; 64]);
    expect_failure(&v2, &[], "outside 16..=1024");
    // Truncation at every point of the one entry (except 4 trailing
    // bytes, which read as a footer candidate and fail its CRC).
    for cut in (17..ok.len()).filter(|&c| c != 20) {
        expect_failure(&ok[..cut], &[], "offset 16");
    }
    expect_failure(&ok[..20], &[], "not a CRC32C footer");
    let mut huge = ok[..16].to_vec();
    huge.extend_from_slice(&u64::MAX.to_le_bytes());
    expect_failure(&huge, &[], "key length 18446744073709551615 > limit");
    let mut huge_val = ok[..16].to_vec();
    huge_val.extend_from_slice(&2u64.to_le_bytes());
    huge_val.extend_from_slice(b"!k");
    huge_val.extend_from_slice(&(1u64 << 40).to_le_bytes());
    expect_failure(&huge_val, &[], "value length 1099511627776 > limit");
    expect_failure(&stream(&[(b"short", &[0; 9])]), &[], "shorter than the 8-byte timestamp suffix");
    expect_failure(&stream(&[(&encode_key(b"!k", T), &[0; 8])]), &[], "shorter than the 9-byte value header");
    for (flags, want) in [(0x02u8, "encrypted"), (0x04, "reserved"), (0x08, "reserved"), (0x80, "reserved")] {
        let mut v = encode_value(false, 0, b"x");
        v[0] = flags;
        expect_failure(&stream(&[(&encode_key(b"!k", T), &v)]), &[], want);
    }
    let mut bad_crc = wrap_engine_v1(&ok, 1);
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xff;
    expect_failure(&bad_crc, &[], "CRC32C footer mismatch");
    let mut flipped = wrap_engine_v1(&ok, 1);
    flipped[40] ^= 0x01;
    expect_failure(&flipped, &[], "CRC32C footer mismatch");
}

fn with(rows: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    let mut rows = rows;
    rows.sort();
    let mut w = StreamWriter::new(Vec::new(), T).unwrap();
    for (k, v) in &rows {
        w.entry(k, &[v]).unwrap();
    }
    w.finish()
}

fn recs(rs: Vec<Record>) -> Vec<(Vec<u8>, Vec<u8>)> {
    rs.into_iter().map(|r| live(&r.key, &r.value)).collect()
}

fn table() -> TableDef {
    TableDef {
        name: "t".into(),
        attribute_definitions: vec![("id".into(), "S".into())],
        hash_key: "id".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    }
}

#[test]
fn dynamodb_errors() {
    let schema = recs(ddb_schema_records(&table()));
    let item_key = ddb_item_key(b"t", 1, b"x\0\x01");
    let case = |extra: Vec<(Vec<u8>, Vec<u8>)>, want: &str| {
        let mut rows = schema.clone();
        rows.extend(extra);
        expect_failure(&with(rows), &[], want);
    };
    case(vec![live(b"!ddb|meta|table|", b"\0DS\x01")], "empty table segment");
    case(vec![live(b"!ddb|meta|table|dB", b"nope")], "invalid !ddb|meta|table value");
    case(vec![live(b"!ddb|meta|table|dB", b"\0DS\x01\x0a\x05ab")], "protobuf truncated");
    case(vec![live(b"!ddb|item|dA|x|k", &ddb_item_value(&[]))], "generation is not a decimal number");
    case(vec![live(b"!ddb|item|dA|1|", &ddb_item_value(&[]))], "missing primary-key payload");
    case(vec![live(&item_key, b"junk")], "missing magic prefix");
    case(vec![live(&item_key, &ddb_item_value(&attrs(&[("other", s("v"))])))], "missing hash-key attribute");
    case(
        vec![live(&item_key, &ddb_item_value(&attrs(&[("id", AttrValue::Bool(true))])))],
        "unsupported attribute kind BOOL",
    );
    case(vec![live(&item_key, &ddb_item_value(&attrs(&[("id", s(".."))])))], "dot path");
    // A malformed non-key attribute fails when the file is rendered,
    // naming the file, the record offset and its key.
    let mut bad = b"\0DI\x01".to_vec();
    // map entry {key "id" -> S "x"}, then {key "n" -> S <invalid UTF-8>}
    bad.extend_from_slice(&[0x0a, 0x09, 0x0a, 0x02, b'i', b'd', 0x12, 0x03, 0x0a, 0x01, b'x']);
    bad.extend_from_slice(&[0x0a, 0x08, 0x0a, 0x01, b'n', 0x12, 0x03, 0x0a, 0x01, 0xff]);
    case(vec![live(&item_key, &bad)], "dynamodb/t/items/x.json: cannot render record at offset");
    // A malformed item in a stale generation is never shown, but upstream
    // fails on it; so does extract.
    case(vec![live(&ddb_item_key(b"t", 7, b"x\0\x01"), &bad)], "invalid !ddb|item value");
}

fn bucket_rows(name: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    recs(s3_bucket_records(&BucketDef { name: name.to_vec(), generation: 1, ..Default::default() }))
}

fn object_rows(key: &[u8], body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let o = ObjectDef {
        key: key.to_vec(),
        generation: 1,
        upload_id: b"u".to_vec(),
        size_bytes: body.len() as i64,
        parts: vec![PartDef {
            part_no: 1,
            size_bytes: body.len() as i64,
            chunks: vec![body.to_vec()],
            ..Default::default()
        }],
        ..Default::default()
    };
    recs(s3_object_records(b"b", &o))
}

#[test]
fn s3_errors() {
    let case = |extra: Vec<(Vec<u8>, Vec<u8>)>, flags: &[&str], want: &str| {
        let mut rows = bucket_rows(b"b");
        rows.extend(extra);
        expect_failure(&with(rows), flags, want);
    };
    case(vec![live(&s3_bucket_meta_key(b"c"), b"{not json")], &[], "invalid S3 bucket metadata");
    case(vec![live(&s3_manifest_key(b"b", 1, b"k"), b"[]")], &[], "invalid S3 object manifest");
    case(
        vec![live(&s3_manifest_key(b"b", 1, b"k"), br#"{"size_bytes":"1"}"#)],
        &[],
        "invalid S3 object manifest",
    );
    case(vec![live(b"!s3|blob|b\0\x01short", b"x")], &[], "malformed S3 key");
    case(
        vec![live(b"!s3|obj|head|b\0\x01\0\0\0\0\0\0\0\x01k\0\x01trailing", b"{}")],
        &[],
        "malformed S3 key",
    );
    for key in [&b"a//b"[..], b"../x", b"/a", b"a/", b"a\\b", b"a\0b", b"x/./y"] {
        case(object_rows(key, b"v"), &[], "malformed S3 key");
    }
    case(object_rows(b"k.elastickv-meta.json", b"v"), &[], "collides with the metadata sidecar suffix");
    let mut leaf = object_rows(b"a", b"1");
    leaf.extend(object_rows(b"a/b", b"2"));
    leaf.extend(object_rows(b"a.elastickv-leaf-data", b"3"));
    case(leaf, &[], "leaf-data rename target");
    // A manifest that declares two chunks when only one exists.
    let mut missing = object_rows(b"k", b"v");
    for r in missing.iter_mut() {
        if r.0.starts_with(b"!s3|obj|head|") {
            let v = String::from_utf8(r.1[9..].to_vec())
                .unwrap()
                .replace("\"chunk_count\":1", "\"chunk_count\":2");
            r.1 = encode_value(false, 0, v.as_bytes());
        }
    }
    case(missing, &[], "missing chunks");
    // Offloaded chunk whose blob payload does not hash to its digest.
    let digest = [0x11u8; 32];
    let o = ObjectDef {
        key: b"off".to_vec(),
        generation: 1,
        upload_id: b"u".to_vec(),
        size_bytes: 5,
        parts: vec![PartDef {
            part_no: 1,
            offloaded: true,
            chunks: vec![b"hello".to_vec()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut off: Vec<(Vec<u8>, Vec<u8>)> = recs(s3_object_records(b"b", &o))
        .into_iter()
        .filter(|r| !r.0.starts_with(b"!s3|chunkref|") && !r.0.starts_with(b"!s3|chunkblob|"))
        .collect();
    off.push(live(
        &s3_chunkref_key(b"b", 1, b"off", b"u", 1, 0, Some(0)),
        &s3_chunkref_value(&digest, 5, b"", &[]).unwrap(),
    ));
    off.push(live(&s3_chunkblob_key(&digest), b"hello"));
    case(off, &[], "does not match its SHA-256 digest");
    // An unreferenced chunkblob with a bad digest still fails extract.
    case(vec![live(&s3_chunkblob_key(&[0x22; 32]), b"junk")], &[], "does not match its digest");
    case(vec![live(&s3_chunkblob_key(&[0x22; 32])[..40], b"junk")], &[], "malformed S3 key");
    case(bucket_rows(b".."), &[], "empty or a dot segment");
    case(object_rows(&[b'n'; 256], b"v"), &[], "exceeds NAME_MAX");
}

#[test]
fn usage_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.fsm");
    let o = fsmfs(&["info", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.fsm"));
    let snap = dir.path().join("s.fsm");
    std::fs::write(&snap, stream(&[])).unwrap();
    let o = fsmfs(&["info", snap.to_str().unwrap(), "--adapter", "ftp"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown adapter name: ftp"));
    // A non-empty target is refused and left alone.
    let target = dir.path().join("busy");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let o = fsmfs(&["extract", snap.to_str().unwrap(), target.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"x");
    // An empty existing directory is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = fsmfs(&["extract", snap.to_str().unwrap(), empty.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(empty.join("MANIFEST.json").is_file());
    let o = fsmfs(&[
        "extract",
        "--dynamodb-bundle-mode",
        "jsonl",
        snap.to_str().unwrap(),
        dir.path().join("j").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
}
