//! `fsmfs info`: what a snapshot is and what is in it.

use std::io::{self, Write};

use crate::codec::hlctime::format_unix_ms_rfc3339;
use crate::container::{EngineHeader, Shape};
use crate::index::Index;

fn header_fields(shape: &Shape) -> (Option<u64>, Option<u64>) {
    match shape {
        Shape::Engine { header: EngineHeader::V1 { ceiling_ms }, .. } => (Some(*ceiling_ms), None),
        Shape::Engine { header: EngineHeader::V2 { ceiling_ms, cutover, .. }, .. } => {
            (Some(*ceiling_ms), Some(*cutover))
        }
        _ => (None, None),
    }
}

/// Said of files without a CRC32C footer (raw streams, physical exports).
pub const NO_INTEGRITY: &str =
    "integrity check:    none (no CRC32C footer: a file cut at a record boundary cannot be detected)";

/// Said of a payload that holds no store stream at all.
pub const NO_STORE_STREAM: &str =
    "store stream:       none (an empty snapshot: the node restores it as an empty store)";

pub(crate) fn write(out: &mut impl Write, index: &Index, json: bool) -> io::Result<()> {
    let l = &index.layout;
    let s = &index.scan;
    let c = &index.counts;
    let (ceiling, cutover) = header_fields(&l.shape);
    let files = index.tree.files().count();
    let dirs = index.tree.len() - files;
    let ts_iso = format_unix_ms_rfc3339((l.last_commit_ts >> 16) as i64);
    let heap = index.heap_bytes();
    if json {
        let v = serde_json::json!({
            "shape": l.shape.name(),
            "file_size": index.data().len(),
            "crc32c": l.crc.map(|c| format!("{c:08x}")),
            "integrity_check": if l.shape.has_footer() { "crc32c" } else { "none" },
            "store_stream": l.has_store_stream,
            "ceiling_ms": ceiling,
            "cutover": cutover,
            "last_commit_ts": l.last_commit_ts,
            "last_commit_time": ts_iso,
            "snapshot_index": index.snapshot_index(),
            "entries": s.entries,
            "live_records": s.live,
            "store_rows_skipped": s.store_rows,
            "older_versions_hidden": s.older_versions,
            "deleted_hidden": s.deleted,
            "expired_hidden": s.expired,
            "future_versions": s.future_versions,
            "applied_index": s.applied_index,
            "records": {
                "dynamodb": c.dynamodb, "s3": c.s3, "redis": c.redis, "sqs": c.sqs,
                "internal": c.internal, "unknown": c.unknown,
            },
            "dynamodb_tables": c.tables,
            "s3_buckets": c.buckets,
            "redis_keys": {
                "strings": c.redis_types.strings, "hll": c.redis_types.hll, "hashes": c.redis_types.hashes,
                "lists": c.redis_types.lists, "sets": c.redis_types.sets, "zsets": c.redis_types.zsets,
                "streams": c.redis_types.streams,
            },
            "sqs_queues": c.queues.iter().map(|q| serde_json::json!({
                "name": q.name, "fifo": q.fifo, "partition_count": q.partition_count,
                "messages": q.messages, "stale_messages": q.stale, "side_records": q.side_records,
            })).collect::<Vec<_>>(),
            "files": files,
            "directories": dirs,
            "index_heap_bytes": heap,
            "heap_bytes_per_record": if s.live > 0 { heap as f64 / s.live as f64 } else { 0.0 },
            "warnings": index.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "deferred_errors": index.deferred.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        return writeln!(out);
    }
    writeln!(out, "shape:              {}", l.shape.name())?;
    writeln!(out, "file size:          {} bytes", index.data().len())?;
    if let Some(crc) = l.crc {
        writeln!(out, "crc32c footer:      {crc:08x} (verified)")?;
    }
    if !l.shape.has_footer() {
        writeln!(out, "{NO_INTEGRITY}")?;
    }
    if !l.has_store_stream {
        writeln!(out, "{NO_STORE_STREAM}")?;
    }
    if let Some(c) = ceiling {
        writeln!(out, "hlc ceiling:        {c} ms ({})", format_unix_ms_rfc3339(c as i64))?;
    }
    if let Some(c) = cutover {
        writeln!(out, "raft cutover:       {c}")?;
    }
    writeln!(out, "last commit ts:     {} ({ts_iso})", l.last_commit_ts)?;
    let idx = index.snapshot_index();
    if idx != 0 {
        writeln!(out, "snapshot index:     {idx}")?;
    }
    if let Some(a) = s.applied_index {
        writeln!(out, "applied index:      {a}")?;
    }
    writeln!(out, "entries:            {}", s.entries)?;
    writeln!(out, "  live records:     {}", s.live)?;
    writeln!(out, "  store rows:       {} (skipped)", s.store_rows)?;
    writeln!(out, "  older versions:   {} (hidden)", s.older_versions)?;
    writeln!(out, "  deleted keys:     {} (hidden)", s.deleted)?;
    writeln!(
        out,
        "  expired keys:     {} ({})",
        s.expired,
        if index.options.include_expired { "shown" } else { "hidden" }
    )?;
    if s.future_versions > 0 {
        writeln!(out, "  newer than ts:    {} (anomaly)", s.future_versions)?;
    }
    writeln!(
        out,
        "records:            dynamodb {}  s3 {}  redis {}  sqs {}  internal {}  unknown {}",
        c.dynamodb, c.s3, c.redis, c.sqs, c.internal, c.unknown
    )?;
    writeln!(out, "dynamodb tables:    {}", c.tables)?;
    writeln!(out, "s3 buckets:         {}", c.buckets)?;
    let r = &c.redis_types;
    if c.redis > 0 {
        writeln!(
            out,
            "redis keys:         strings {}  hll {}  hashes {}  lists {}  sets {}  zsets {}  streams {}",
            r.strings, r.hll, r.hashes, r.lists, r.sets, r.zsets, r.streams
        )?;
    }
    if !c.queues.is_empty() {
        writeln!(out, "sqs queues:         {}", c.queues.len())?;
    }
    for q in &c.queues {
        let kind = match (q.fifo, q.partition_count) {
            (false, _) => "standard".to_string(),
            (true, 0 | 1) => "fifo".to_string(),
            (true, n) => format!("fifo, {n} partitions"),
        };
        write!(out, "  {} ({kind}): {} messages", q.name, q.messages)?;
        if q.stale > 0 {
            write!(out, ", {} stale (hidden)", q.stale)?;
        }
        if q.side_records > 0 {
            write!(out, ", {} side records", q.side_records)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "tree:               {files} files, {dirs} directories")?;
    writeln!(
        out,
        "index memory:       {heap} bytes ({:.1} per live record)",
        if s.live > 0 { heap as f64 / s.live as f64 } else { 0.0 }
    )?;
    for w in &index.warnings {
        writeln!(out, "warning:            {w}")?;
    }
    for e in &index.deferred {
        writeln!(out, "malformed (hidden): {e}")?;
    }
    Ok(())
}
