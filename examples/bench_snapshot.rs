//! Writes a large synthetic snapshot for the benchmarks: DynamoDB items
//! across a few tables plus S3 objects of mixed sizes (one over 1 GiB),
//! streamed in sorted key order so nothing large is held in memory.
//! Deterministic for a given seed.
//!
//! `cargo run --release --example bench_snapshot -- OUT [ITEMS] [S3_MIB] [TABLES] [VARIANT]`
//!
//! VARIANT 1 writes the same snapshot with every 100th item of each table
//! holding another `name` (1% changed: the second side of `bench-diff`).

#[path = "support/rng.rs"]
mod rng;
#[path = "support/sorted.rs"]
mod sorted;

use std::io::{BufWriter, Write};

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use rng::Rng;
use sorted::Sorted;

const TS: u64 = 1_795_161_600_000 << 16;
const CHUNK: usize = 1 << 20;

fn table(name: &str, range: bool) -> TableDef {
    TableDef {
        name: name.into(),
        attribute_definitions: vec![("pk".into(), "S".into()), ("sk".into(), "S".into())],
        hash_key: "pk".into(),
        range_key: if range { "sk".into() } else { String::new() },
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: bench_snapshot OUT [ITEMS] [S3_MIB]");
    let items: u64 = args.next().map_or(1_000_000, |v| v.parse().expect("ITEMS"));
    let s3_mib: u64 = args.next().map_or(2300, |v| v.parse().expect("S3_MIB"));
    let n_tables: usize = args.next().map_or(4, |v| v.parse().expect("TABLES"));
    let variant: u64 = args.next().map_or(0, |v| v.parse().expect("VARIANT"));
    let file = std::fs::File::create(&out).expect("create output");
    let mut w = Sorted::new(BufWriter::with_capacity(8 << 20, file), TS);
    let mut rng = Rng(0x00fb_e11c_4a5e);

    // DynamoDB: four tables by default, the fourth composite; sorted by
    // base64url name. One table gives a single million-entry directory.
    let mut tables: Vec<TableDef> = (0..n_tables).map(|i| table(&format!("bench_{i}"), i == 3)).collect();
    tables.sort_by_key(|t| fsmfs::keys::segment::b64url_nopad(t.name.as_bytes()));
    let per_table = items / tables.len() as u64;
    for t in &tables {
        for i in 0..per_table {
            let mut item = vec![
                (
                    "pk".to_string(),
                    AttrValue::S(if t.range_key.is_empty() {
                        format!("item-{i:09}")
                    } else {
                        format!("user-{:07}", i / 10)
                    }),
                ),
                (
                    "name".to_string(),
                    AttrValue::S(if variant == 1 && i % 100 == 7 {
                        format!("Customer renamed {i}")
                    } else {
                        format!("Customer number {i}")
                    }),
                ),
                (
                    "balance".to_string(),
                    AttrValue::N(format!("{}.{:02}", rng.next() % 100_000, rng.next() % 100)),
                ),
                ("active".to_string(), AttrValue::Bool(i % 2 == 0)),
                ("tags".to_string(), AttrValue::Ss(vec!["a".into(), format!("t{}", i % 7)])),
            ];
            if !t.range_key.is_empty() {
                item.push(("sk".to_string(), AttrValue::S(format!("order-{:03}", i % 10))));
            }
            for r in ddb_item_records(t, &item, 1).expect("valid item") {
                w.put(&r.key, &r.value);
            }
        }
    }
    for t in &tables {
        let r = ddb_schema_records(t);
        let gen = r.iter().find(|r| r.key.starts_with(b"!ddb|meta|gen|")).expect("gen row");
        w.put(&gen.key, &gen.value);
    }
    for t in &tables {
        let r = ddb_schema_records(t);
        let meta = r.iter().find(|r| r.key.starts_with(b"!ddb|meta|table|")).expect("meta row");
        w.put(&meta.key, &meta.value);
    }

    // S3: one bucket; sizes: one object over 1 GiB, a few of 128 MiB,
    // more of 4 MiB, and many small ones, up to the requested total.
    let mut sizes: Vec<u64> = Vec::new();
    let mut total = 0u64;
    let budget = s3_mib << 20;
    let push = |sz: u64, sizes: &mut Vec<u64>, total: &mut u64| {
        sizes.push(sz);
        *total += sz;
    };
    if budget >= (1 << 30) + (200 << 20) {
        push((1 << 30) + (100 << 20), &mut sizes, &mut total);
    }
    while total + (128 << 20) <= budget * 8 / 10 {
        push(128 << 20, &mut sizes, &mut total);
    }
    for _ in 0..64 {
        if total + (4 << 20) > budget * 95 / 100 {
            break;
        }
        push(4 << 20, &mut sizes, &mut total);
    }
    while total < budget {
        let sz = 1 + rng.next() % (64 << 10);
        push(sz, &mut sizes, &mut total);
    }
    let name = |i: usize| format!("data/obj-{i:06}.bin");
    let mut buf = vec![0u8; CHUNK];
    for (i, &sz) in sizes.iter().enumerate() {
        let key = name(i);
        let mut left = sz;
        let mut chunk = 0u64;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            rng.fill(&mut buf[..n]);
            w.put(&s3_blob_key(b"bench", 1, key.as_bytes(), b"up", 1, chunk, None), &buf[..n]);
            left -= n as u64;
            chunk += 1;
        }
    }
    for r in s3_bucket_records(&BucketDef { name: b"bench".to_vec(), generation: 1, ..Default::default() }) {
        if r.key.starts_with(b"!s3|bucket|gen|") {
            w.put(&r.key, &r.value);
        }
    }
    for r in s3_bucket_records(&BucketDef { name: b"bench".to_vec(), generation: 1, ..Default::default() }) {
        if r.key.starts_with(b"!s3|bucket|meta|") {
            w.put(&r.key, &r.value);
        }
    }
    for (i, &sz) in sizes.iter().enumerate() {
        let count = sz.div_ceil(CHUNK as u64);
        let chunk_sizes: Vec<String> =
            (0..count).map(|c| (sz - c * CHUNK as u64).min(CHUNK as u64).to_string()).collect();
        let manifest = format!(
            "{{\"upload_id\":\"up\",\"etag\":\"{:032x}\",\"size_bytes\":{sz},\"last_modified_hlc\":{TS},\"content_type\":\"application/octet-stream\",\"parts\":[{{\"part_no\":1,\"etag\":\"e\",\"size_bytes\":{sz},\"chunk_count\":{count},\"chunk_sizes\":[{}]}}]}}",
            i,
            chunk_sizes.join(",")
        );
        w.put(&s3_manifest_key(b"bench", 1, name(i).as_bytes()), manifest.as_bytes());
    }
    let rows = w.rows;
    let mut inner = w.w.finish();
    inner.flush().expect("flush");
    eprintln!("wrote {out}: {rows} records, {} S3 objects, {} S3 bytes", sizes.len(), total);
}
