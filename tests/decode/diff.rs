//! `fsmfs diff OLD NEW`: pairs of crafted snapshots compared through the
//! library (`fsmfs::diff::compare`) and the binary (output shapes, exit
//! codes 0 same / 3 different).

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::redis::records::{set_records, string_key, string_value};
use fsmfs::adapters::s3::records::*;
use fsmfs::diff::{compare, Change, Kind};
use fsmfs::index::Index;

use crate::common::snap::*;

fn table(name: &str) -> TableDef {
    TableDef {
        name: name.into(),
        attribute_definitions: vec![("pk".into(), "S".into())],
        hash_key: "pk".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    }
}

fn item(snap: &mut Snap, t: &TableDef, pk: &str, v: &str) {
    let a = attrs(&[("pk", s(pk)), ("v", s(v))]);
    snap.records(ddb_item_records(t, &a, 1).unwrap());
}

fn s3_object(snap: &mut Snap, key: &str, body: &[u8]) {
    let o = ObjectDef {
        key: key.as_bytes().to_vec(),
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
    snap.records(s3_object_records(b"b", &o));
}

/// A snapshot with one table (items a, b), one S3 object and one Redis set.
fn base() -> Snap {
    base_with(&[b"x", b"y"])
}

fn base_with(members: &[&[u8]]) -> Snap {
    let mut snap = Snap::new();
    let t = table("t");
    snap.records(ddb_schema_records(&t));
    item(&mut snap, &t, "a", "1");
    item(&mut snap, &t, "b", "2");
    snap.records(s3_bucket_records(&BucketDef { name: b"b".to_vec(), generation: 1, ..Default::default() }));
    s3_object(&mut snap, "obj", b"hello world");
    snap.records(set_records(b"s", members, None));
    snap
}

fn diff(old: &Snap, new: &Snap) -> Vec<Change> {
    let old = Index::from_bytes(old.build(), opts("old")).unwrap();
    let new = Index::from_bytes(new.build(), opts("new")).unwrap();
    compare(&old, &new, &|_| {}).unwrap()
}

fn lines(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| format!("{} {}", c.kind.letter(), c.path)).collect()
}

fn find<'a>(changes: &'a [Change], kind: Kind, needle: &str) -> Option<&'a Change> {
    changes.iter().find(|c| c.kind == kind && c.path.contains(needle))
}

#[test]
fn identical_snapshots_have_no_differences() {
    assert_eq!(diff(&base(), &base()), vec![]);
}

#[test]
fn added_and_removed_dynamodb_items() {
    let mut new = Snap::new();
    let t = table("t");
    new.records(ddb_schema_records(&t));
    item(&mut new, &t, "b", "2");
    item(&mut new, &t, "c", "3");
    new.records(s3_bucket_records(&BucketDef { name: b"b".to_vec(), generation: 1, ..Default::default() }));
    s3_object(&mut new, "obj", b"hello world");
    new.records(set_records(b"s", &[b"x", b"y"], None));
    let changes = diff(&base(), &new);
    let l = lines(&changes);
    assert_eq!(changes.len(), 2, "{l:?}");
    assert!(find(&changes, Kind::Removed, "dynamodb/t/items/a").is_some(), "{l:?}");
    assert!(find(&changes, Kind::Added, "dynamodb/t/items/c").is_some(), "{l:?}");
}

#[test]
fn changed_item_value_is_modified() {
    let mut new = base();
    let t = table("t");
    // A later version of item b with another value.
    let recs = ddb_item_records(&t, &attrs(&[("pk", s("b")), ("v", s("9"))]), 1).unwrap();
    for r in recs {
        new.version(&r.key, T + (1 << 16), false, 0, &r.value);
    }
    new.last_commit_ts = T + (1 << 16);
    let changes = diff(&base(), &new);
    assert!(find(&changes, Kind::Modified, "dynamodb/t/items/b").is_some(), "{:?}", lines(&changes));
}

#[test]
fn a_path_moving_across_adapters_is_removed_and_added() {
    let mut old = base();
    old.put(&string_key(b"moved"), &string_value(b"v", None));
    let mut new = base();
    s3_object(&mut new, "moved", b"v");
    let changes = diff(&old, &new);
    let l = lines(&changes);
    assert!(find(&changes, Kind::Removed, "redis/db_0/strings/moved").is_some(), "{l:?}");
    assert!(find(&changes, Kind::Added, "s3/b/moved").is_some(), "{l:?}");
    assert!(changes.iter().all(|c| c.kind != Kind::Modified || c.path.contains("KEYMAP")), "{l:?}");
}

#[test]
fn s3_body_changed_at_same_size_and_commit_time_is_modified() {
    let mut new = Snap::new();
    let t = table("t");
    new.records(ddb_schema_records(&t));
    item(&mut new, &t, "a", "1");
    item(&mut new, &t, "b", "2");
    new.records(s3_bucket_records(&BucketDef { name: b"b".to_vec(), generation: 1, ..Default::default() }));
    s3_object(&mut new, "obj", b"HELLO WORLD");
    new.records(set_records(b"s", &[b"x", b"y"], None));
    let changes = diff(&base(), &new);
    assert_eq!(lines(&changes), vec!["M s3/b/obj".to_string()]);
}

#[test]
fn redis_set_gaining_a_member_is_modified() {
    let new = base_with(&[b"x", b"y", b"z"]);
    let changes = diff(&base(), &new);
    let l = lines(&changes);
    assert!(find(&changes, Kind::Modified, "redis/db_0/sets/s.json").is_some(), "{l:?}");
    assert!(changes.iter().all(|c| c.kind == Kind::Modified), "{l:?}");
}

fn write(dir: &std::path::Path, name: &str, snap: &Snap) -> String {
    let p = dir.join(name);
    std::fs::write(&p, snap.build()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn binary_output_shapes_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.fsm", &base());
    let same = write(dir.path(), "same.fsm", &base());
    let mut changed = base();
    let t = table("t");
    item(&mut changed, &t, "c", "3");
    let new = write(dir.path(), "new.fsm", &changed);

    let out = fsmfs(&["diff", &old, &same]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    let out = fsmfs(&["diff", &old, &new]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("A\tdynamodb/t/items/c")), "{text}");

    let out = fsmfs(&["diff", "--stat", &old, &new]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("dynamodb/t ") && l.ends_with("+1 -0 ~0")), "{text}");
    assert!(text.contains("groups changed: 1 added, 0 removed, 0 modified"), "{text}");

    let out = fsmfs(&["diff", "--json", &old, &new]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["different"], true);
    assert_eq!(v["stat"][0]["group"], "dynamodb/t");
    assert_eq!(v["stat"][0]["added"], 1);
    assert_eq!(v["changes"][0]["status"], "A");
    assert!(v["changes"][0]["path"].as_str().unwrap().starts_with("dynamodb/t/items/c"));

    let out = fsmfs(&["diff", &old, &dir.path().join("missing.fsm").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
}
