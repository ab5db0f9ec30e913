//! Writes a Redis/SQS benchmark snapshot: 10k hashes of 100 fields (1M
//! field rows), one stream of 1M entries and one standard queue of 1M
//! messages, in sorted key order and deterministic for a given seed.
//!
//! `cargo run --release --example bench_redis_sqs -- OUT [SCALE]` where
//! SCALE (default 1) multiplies every count.

#[path = "support/rng.rs"]
mod rng;
#[path = "support/sorted.rs"]
mod sorted;

use std::io::{BufWriter, Write};

use fsmfs::adapters::redis::records::*;
use fsmfs::adapters::sqs::records::*;
use rng::Rng;
use sorted::Sorted;

const TS: u64 = 1_795_161_600_000 << 16;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: bench_redis_sqs OUT [SCALE]");
    let scale: u64 = args.next().map_or(1, |v| v.parse().expect("SCALE"));
    let (hashes, fields, entries, messages) = (10_000 * scale, 100u64, 1_000_000 * scale, 1_000_000 * scale);
    let file = std::fs::File::create(&out).expect("create output");
    let mut w = Sorted::new(BufWriter::with_capacity(8 << 20, file), TS);
    let mut rng = Rng(0x5eed_4ed1_5005);

    // Hashes: `!hs|fld|` rows of every hash, then their metas.
    let hash_key = |h: u64| format!("user:{h:08}");
    for h in 0..hashes {
        for f in 0..fields {
            let value = format!("value-{:016x}", rng.next());
            w.put(
                &hash_field_key(hash_key(h).as_bytes(), format!("field-{f:04}").as_bytes()),
                value.as_bytes(),
            );
        }
    }
    for h in 0..hashes {
        w.put(&hash_meta_key(hash_key(h).as_bytes()), &count_meta_value(fields, None));
    }

    // One standard queue: data rows (sorted by encoded key), gen, meta.
    let queue = QueueDef {
        name: "bench-queue".into(),
        generation: 1,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 345_600,
        maximum_message_size: 262_144,
        ..Default::default()
    };
    let mut rows: Vec<(Vec<u8>, u64)> = (0..messages)
        .map(|i| (msg_data_key(&queue.name, None, 1, &format!("{:032x}", i * 0x9e37_79b9 + 1)), i))
        .collect();
    rows.sort_unstable();
    for (key, i) in &rows {
        let m = MessageDef {
            message_id: format!("{:032x}", i * 0x9e37_79b9 + 1),
            body: format!(
                "{{\"order\":{i},\"items\":[\"sku-{}\",\"sku-{}\"],\"note\":\"<fragile>\"}}",
                i % 97,
                i % 89
            )
            .into_bytes(),
            md5_of_body: format!("{:032x}", rng.next()),
            send_timestamp_millis: 1_714_400_000_000 + (*i as i64) / 3,
            available_at_millis: 1_714_400_000_000 + (*i as i64) / 3,
            visible_at_millis: 1_714_400_000_000 + (*i as i64) / 3,
            queue_generation: 1,
            ..Default::default()
        };
        w.put(key, &message_value(&m));
    }
    drop(rows);
    w.put(&queue_gen_key(&queue.name), b"1");
    w.put(&queue_meta_key(&queue.name), &queue_meta_value(&queue));

    // One stream: entries in ID order, then its meta.
    let stream = b"events";
    for i in 0..entries {
        let (ms, seq) = (1_714_400_000_000 + i / 4, i % 4);
        let user = format!("user:{:08}", i % hashes.max(1));
        let fields: [&[u8]; 6] = [b"event", b"click", b"user", user.as_bytes(), b"path", b"/checkout?step=2"];
        w.put(&stream_entry_key(stream, ms, seq), &stream_entry_value(&format!("{ms}-{seq}"), &fields));
    }
    let last = entries - 1;
    w.put(
        &stream_meta_key(stream),
        &stream_meta_value(entries, 1_714_400_000_000 + last / 4, last % 4, None, None),
    );

    let n = w.rows;
    let mut inner = w.w.finish();
    inner.flush().expect("flush");
    eprintln!("wrote {out}: {n} records");
}
