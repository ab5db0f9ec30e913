//! SQS decode side (`redis-sqs.md` §4–§5): queue metas, generation
//! counters and messages become `sqs/<queue>/_queue.json` and
//! `messages.jsonl` (plus `_internals/side_records.jsonl` on request).
//!
//! The scan reads, per message, only what orders and filters it (send
//! time, sequence number, generation, message id); finalize sorts each
//! queue's messages and keeps their offsets as a fragment file, whose
//! lines are rendered from the mapping when read.

pub(crate) mod dump;
pub(crate) mod keys;
pub(crate) mod message;
pub(crate) mod pack;
pub mod records;
pub(crate) mod render;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use super::{AdapterError, ErrorKind, RecordError, Sink};
use crate::adapters::frag::{FragFile, FragKind};
use crate::adapters::route::SqsFamily as F;
use crate::adapters::sqs::records::{MESSAGE_MAGIC, QUEUE_META_MAGIC};
use crate::container::{entry_at, Entry};
use crate::keys::segment::{b64url_nopad_decode, encode_segment_into};
use crate::tree::{DirId, TreeBuilder, TreeError, View, SIZE_UNKNOWN};
use render::Kind;

/// Decoder options that shape the SQS tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub(crate) preserve_visibility: bool,
    pub(crate) include_side_records: bool,
}

/// One queue as `fsmfs info` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCount {
    pub name: String,
    pub fifo: bool,
    pub partition_count: u32,
    pub messages: u64,
    /// Messages of an older generation, not shown.
    pub stale: u64,
    pub(crate) side_records: u64,
}

struct Queue {
    /// The base64url segment exactly as keys carry it: the queue's identity.
    enc: Box<[u8]>,
    name: Vec<u8>,
    meta: Option<u64>,
    active_gen: u64,
}

/// What the index keeps per message until finalize.
struct Msg {
    offset: u64,
    queue: u32,
    send_ts: i64,
    sequence: u64,
    generation: u64,
    /// `message_id`'s text inside the value.
    id: (u32, u32),
}

pub(crate) struct Collector {
    opts: Options,
    queues: Vec<Queue>,
    by_enc: HashMap<Box<[u8]>, u32>,
    last: Option<u32>,
    msgs: Vec<Msg>,
    /// (queue, entry offset) of side records, in stream order.
    sides: Vec<(u32, u64)>,
}

fn err(e: &Entry<'_>, kind: ErrorKind, detail: impl Into<String>) -> RecordError {
    RecordError::new(kind, e.offset, e.user_key, detail)
}

impl Collector {
    pub(crate) fn new(opts: Options) -> Self {
        Collector {
            opts,
            queues: Vec::new(),
            by_enc: HashMap::new(),
            last: None,
            msgs: Vec::new(),
            sides: Vec::new(),
        }
    }

    fn queue(&mut self, enc: &[u8]) -> u32 {
        if let Some(q) = self.last.filter(|&q| &*self.queues[q as usize].enc == enc) {
            return q;
        }
        let q = match self.by_enc.get(enc) {
            Some(&q) => q,
            None => {
                let q = self.queues.len() as u32;
                self.queues.push(Queue { enc: enc.into(), name: Vec::new(), meta: None, active_gen: 0 });
                self.by_enc.insert(enc.into(), q);
                q
            }
        };
        self.last = Some(q);
        q
    }

    pub(crate) fn handle(&mut self, family: F, prefix_len: usize, e: &Entry<'_>) -> Result<(), RecordError> {
        let rest = &e.user_key[prefix_len..];
        match family {
            F::QueueMeta => {
                let name = b64url_nopad_decode(rest)
                    .ok_or_else(|| err(e, ErrorKind::SqsMalformedKey, "queue segment is not base64url"))?;
                let mut scratch = Vec::new();
                render::queue_json(e.user_key, e.body, &mut scratch)
                    .map_err(|d| err(e, ErrorKind::SqsInvalidQueueMeta, d))?;
                let q = self.queue(rest) as usize;
                self.queues[q].name = name;
                self.queues[q].meta = Some(e.offset);
            }
            F::QueueGen => {
                let gen = std::str::from_utf8(e.body)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok().filter(|_| !s.trim().starts_with('+')))
                    .ok_or_else(|| {
                        err(e, ErrorKind::SqsMalformedKey, "generation value is not a decimal number")
                    })?;
                let q = self.queue(rest) as usize;
                self.queues[q].active_gen = gen;
            }
            F::MsgData => {
                let key = keys::parse_data_key(rest).map_err(|d| err(e, ErrorKind::SqsMalformedKey, d))?;
                let json = e
                    .body
                    .strip_prefix(MESSAGE_MAGIC)
                    .ok_or_else(|| err(e, ErrorKind::SqsInvalidMessage, "missing magic prefix"))?;
                let k = message::sort_key(json).map_err(|d| err(e, ErrorKind::SqsInvalidMessage, d))?;
                let queue = self.queue(key.queue);
                self.msgs.push(Msg {
                    offset: e.offset,
                    queue,
                    send_ts: k.send_ts,
                    sequence: k.sequence,
                    generation: k.generation,
                    id: (k.id.start as u32, k.id.end as u32),
                });
            }
            side => {
                if !self.opts.include_side_records {
                    return Ok(());
                }
                let q =
                    keys::parse_side_key(side, rest).map_err(|d| err(e, ErrorKind::SqsMalformedKey, d))?;
                let q = self.queue(q);
                self.sides.push((q, e.offset));
            }
        }
        Ok(())
    }

    /// Lays the queues out under `sqs/`; returns the deferred errors of
    /// messages that produce no line, and the per-queue counts.
    pub(crate) fn finalize(
        mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(Vec<RecordError>, Vec<QueueCount>), AdapterError> {
        // Side records exist only when asked for.
        debug_assert!(self.opts.include_side_records || self.sides.is_empty());
        let (msg_at, side_at) = self.group_by_queue();
        // Queues in encoded-name order: the order of their warnings and
        // of their counts.
        let n = self.queues.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| self.queues[a as usize].enc.cmp(&self.queues[b as usize].enc));

        let mut out = Layout::with_capacity(self.msgs.len(), self.sides.len());
        for q in order {
            let q = q as usize;
            let queue = &self.queues[q];
            let msgs = &self.msgs[msg_at[q]..msg_at[q + 1]];
            let sides = out.push_sides(&self.sides[side_at[q]..side_at[q + 1]]);
            let r = QueueRecords { queue, msgs, sides };
            match queue.meta {
                None => out.orphan_queue(data, sink, &r)?,
                Some(meta) => out.queue(data, sink, &r, meta)?,
            }
        }
        let kind = Kind::Messages { preserve_visibility: self.opts.preserve_visibility };
        Ok(out.emit_files(data, sink, kind)?)
    }

    /// Groups messages and side records by queue, keeping stream order
    /// inside each; returns where each queue's run starts in either list
    /// (queue `q` is `at[q]..at[q + 1]`).
    fn group_by_queue(&mut self) -> (Vec<usize>, Vec<usize>) {
        self.msgs.sort_by_key(|m| m.queue);
        self.sides.sort_by_key(|s| s.0);
        let starts = |n: usize, qs: &mut dyn Iterator<Item = u32>| {
            let mut s = vec![0usize; n + 1];
            for q in qs {
                s[q as usize + 1] += 1;
            }
            for i in 0..n {
                s[i + 1] += s[i];
            }
            s
        };
        let n = self.queues.len();
        let msg_at = starts(n, &mut self.msgs.iter().map(|m| m.queue));
        let side_at = starts(n, &mut self.sides.iter().map(|s| s.0));
        (msg_at, side_at)
    }
}

/// One queue's records, as finalize grouped them.
struct QueueRecords<'a> {
    queue: &'a Queue,
    msgs: &'a [Msg],
    /// The queue's side records, as a run of the side arena.
    sides: Range<usize>,
}

/// Finalize's running state: the arenas being filled, the files to add
/// once they are complete, and what finalize returns.
struct Layout {
    messages: Vec<u64>,
    sides: Vec<u64>,
    /// (directory, its messages, its side records) per queue; the files
    /// are added once the arenas are complete.
    files: Vec<(DirId, Range<usize>, Range<usize>)>,
    deferred: Vec<RecordError>,
    counts: Vec<QueueCount>,
    sqs_dir: Option<DirId>,
}

impl Layout {
    fn with_capacity(messages: usize, sides: usize) -> Self {
        Layout {
            messages: Vec::with_capacity(messages),
            sides: Vec::with_capacity(sides),
            files: Vec::new(),
            deferred: Vec::new(),
            counts: Vec::new(),
            sqs_dir: None,
        }
    }

    /// `sqs/`, created with the first queue that has a directory.
    fn sqs_dir(&mut self, sink: &mut Sink<'_>) -> Result<DirId, TreeError> {
        if let Some(d) = self.sqs_dir {
            return Ok(d);
        }
        let d = sink.tree.dir(TreeBuilder::ROOT, b"sqs")?;
        self.sqs_dir = Some(d);
        Ok(d)
    }

    /// Appends a queue's side records to the side arena; returns their run.
    fn push_sides(&mut self, queue_sides: &[(u32, u64)]) -> Range<usize> {
        let range = self.sides.len()..self.sides.len() + queue_sides.len();
        self.sides.extend(queue_sides.iter().map(|s| s.1));
        range
    }

    /// A queue without a meta row: live reads see no queue, so its
    /// messages get no file (only a warning and their decode errors);
    /// side records still go to `<encoded>.orphan/`.
    fn orphan_queue(
        &mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
        r: &QueueRecords<'_>,
    ) -> Result<(), TreeError> {
        sink.warn(
            "sqs_orphan_messages",
            vec![
                ("encoded_queue", String::from_utf8_lossy(&r.queue.enc).into_owned()),
                ("buffered_messages", r.msgs.len().to_string()),
                ("buffered_side_records", r.sides.len().to_string()),
                ("hint", "no !sqs|queue|meta row for this queue; its messages are not shown".into()),
            ],
        );
        self.deferred.extend(r.msgs.iter().filter_map(|m| check_message(data, m.offset)));
        if !r.sides.is_empty() {
            let mut name = r.queue.enc.to_vec();
            name.extend_from_slice(b".orphan");
            let parent = self.sqs_dir(sink)?;
            let dir = sink.tree.dir(parent, &name)?;
            self.files.push((dir, 0..0, r.sides.clone()));
        }
        Ok(())
    }

    /// A queue with its meta row: its directory and `_queue.json`, its
    /// live messages in upstream's order, and its counts.
    fn queue(
        &mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
        r: &QueueRecords<'_>,
        meta: u64,
    ) -> Result<(), AdapterError> {
        let name = String::from_utf8_lossy(&r.queue.name).into_owned();
        let seg = queue_segment(data, &r.queue.name, &name, meta)?;
        let parent = self.sqs_dir(sink)?;
        let dir = sink.tree.dir(parent, &seg)?;
        sink.tree.file(dir, b"_queue.json", View::SqsQueue(meta), SIZE_UNKNOWN, 0)?;

        let (kept, stale) = self.live_messages(data, sink, &name, r.queue.active_gen, r.msgs);
        let msg_range = self.messages.len()..self.messages.len() + kept.len();
        self.messages.extend(kept.iter().map(|m| m.offset));
        let meta_json = entry_at(data, meta).expect("offset from the scan");
        let m = crate::codec::gostruct::GoObject::parse(&meta_json.body[QUEUE_META_MAGIC.len()..])
            .expect("validated while indexing");
        self.counts.push(QueueCount {
            name,
            fifo: m.bool("is_fifo").unwrap_or(false),
            partition_count: m.u32("partition_count").unwrap_or(0),
            messages: kept.len() as u64,
            stale: stale as u64,
            side_records: r.sides.len() as u64,
        });
        self.files.push((dir, msg_range, r.sides.clone()));
        Ok(())
    }

    /// The messages of the queue's active generation, sorted as upstream
    /// writes them, and how many older ones were dropped (with a warning
    /// and their decode errors deferred, as upstream still decodes them).
    fn live_messages<'m>(
        &mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
        name: &str,
        active: u64,
        msgs: &'m [Msg],
    ) -> (Vec<&'m Msg>, usize) {
        let (kept, stale): (Vec<&Msg>, Vec<&Msg>) =
            msgs.iter().partition(|m| active == 0 || m.generation == active);
        if !stale.is_empty() {
            sink.warn(
                "sqs_stale_generation_messages_dropped",
                vec![
                    ("queue", name.to_owned()),
                    ("active_gen", active.to_string()),
                    ("dropped", stale.len().to_string()),
                    ("hint", "messages of an earlier queue generation are not shown".into()),
                ],
            );
            self.deferred.extend(stale.iter().filter_map(|m| check_message(data, m.offset)));
        }
        let mut kept = kept;
        // Stable: stream order breaks the remaining ties, as upstream.
        kept.sort_by(|a, b| {
            (a.send_ts, a.sequence).cmp(&(b.send_ts, b.sequence)).then_with(|| cmp_ids(data, a, b))
        });
        (kept, stale.len())
    }

    /// Adds the `messages.jsonl` and side-record files, now that both
    /// arenas are complete; returns the deferred errors and the counts.
    fn emit_files(
        self,
        data: &[u8],
        sink: &mut Sink<'_>,
        kind: Kind,
    ) -> Result<(Vec<RecordError>, Vec<QueueCount>), TreeError> {
        let msg_arena = sink.side.frags.add_arena(self.messages);
        let side_arena = sink.side.frags.add_arena(self.sides);
        for (dir, msgs, side) in self.files {
            if !msgs.is_empty() {
                let f = frag_file(
                    &sink.side.frags.arenas[msg_arena as usize][msgs.clone()],
                    data,
                    kind,
                    msg_arena,
                    msgs,
                );
                let n = sink.side.frags.add(f);
                sink.tree.file(dir, b"messages.jsonl", View::Frag(n), SIZE_UNKNOWN, 0)?;
            }
            if !side.is_empty() {
                let f = frag_file(
                    &sink.side.frags.arenas[side_arena as usize][side.clone()],
                    data,
                    Kind::SideRecords,
                    side_arena,
                    side,
                );
                let n = sink.side.frags.add(f);
                let d = sink.tree.dir(dir, b"_internals")?;
                sink.tree.file(d, b"side_records.jsonl", View::Frag(n), SIZE_UNKNOWN, 0)?;
            }
        }
        Ok((self.deferred, self.counts))
    }
}

/// The queue's directory name; a name that encodes to nothing, `.` or
/// `..` cannot be one, and the meta row is reported as malformed.
fn queue_segment(data: &[u8], queue_name: &[u8], name: &str, meta: u64) -> Result<Vec<u8>, RecordError> {
    let mut seg = Vec::new();
    encode_segment_into(queue_name, &mut seg);
    if seg.is_empty() || seg == b"." || seg == b".." {
        return Err(RecordError::new(
            ErrorKind::SqsMalformedKey,
            meta,
            entry_at(data, meta).map_or(&[][..], |e| e.user_key),
            format!("queue name {name:?} cannot be a directory name"),
        ));
    }
    Ok(seg)
}

fn frag_file(items: &[u64], data: &[u8], kind: Kind, arena: u32, r: Range<usize>) -> FragFile {
    let mut f = FragFile::new(FragKind::Sqs(kind), arena, r.start, r.len());
    f.commit_ts = items.iter().map(|&o| crate::container::commit_ts_at(data, o)).max().unwrap_or(0);
    f
}

/// Message ids compared as Go compares the decoded strings.
fn cmp_ids(data: &[u8], a: &Msg, b: &Msg) -> Ordering {
    let id = |m: &Msg| {
        let body = entry_at(data, m.offset).expect("offset from the scan").body;
        &body[MESSAGE_MAGIC.len() + m.id.0 as usize..MESSAGE_MAGIC.len() + m.id.1 as usize]
    };
    message::unquote(id(a)).cmp(&message::unquote(id(b)))
}

/// Fully decodes a message that will not be shown, to surface the error
/// upstream would have raised.
fn check_message(data: &[u8], offset: u64) -> Option<RecordError> {
    let e = entry_at(data, offset)?;
    render::message_line(e.body, None, true, &mut Vec::new())
        .err()
        .map(|d| RecordError::new(ErrorKind::SqsInvalidMessage, offset, e.user_key, d))
}
impl super::Collect for Collector {
    fn handle(
        &mut self,
        family: crate::adapters::route::Family,
        prefix_len: usize,
        e: &Entry<'_>,
    ) -> Result<(), RecordError> {
        match family {
            crate::adapters::route::Family::Sqs(f) => Collector::handle(self, f, prefix_len, e),
            _ => unreachable!("the registry routes only SQS families here"),
        }
    }

    fn finalize(
        self: Box<Self>,
        data: &[u8],
        sink: &mut Sink<'_>,
        counts: &mut super::Counts,
    ) -> Result<Vec<RecordError>, AdapterError> {
        let (deferred, queues) = Collector::finalize(*self, data, sink)?;
        counts.queues = queues;
        Ok(deferred)
    }
}
