//! The bundled demo snapshot decodes cleanly and verifies.

use crate::common::snap::fsmfs;

#[test]
fn demo_snapshot_extracts_and_verifies() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = fsmfs(&["extract", demo, out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "no warnings expected: {}", String::from_utf8_lossy(&o.stderr));
    for p in [
        "dynamodb/customers/_schema.json",
        "dynamodb/orders/items/c-1000/1763007200.json",
        "dynamodb/devices/items/b64.3q0A_w.json",
        "s3/assets/img/logo.png",
        "s3/assets/docs.elastickv-leaf-data",
        "s3/backups/db/2026-11-19.dump",
        "redis/db_0/strings/session%3A7f3a.bin",
        "redis/db_0/strings_ttl.jsonl",
        "redis/db_0/hll/uniq%3Avisitors.bin",
        "redis/db_0/hashes/user%3Ac-1000.json",
        "redis/db_0/lists/queue%3Aemails.json",
        "redis/db_0/sets/tags%3Apost%3A42.json",
        "redis/db_0/zsets/leaderboard.json",
        "redis/db_0/streams/events%3Aorders.jsonl",
        "sqs/order-events/_queue.json",
        "sqs/payments.fifo/messages.jsonl",
    ] {
        assert!(out.join(p).is_file(), "{p}");
    }
    assert_eq!(std::fs::metadata(out.join("s3/backups/db/2026-11-19.dump")).unwrap().len(), 200_000);
    let ok = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "CHECKSUMS"])
        .current_dir(&out)
        .status()
        .unwrap();
    assert!(ok.success());
}
