//! Loading LDBC Graphalytics `.v`/`.e` files, streamed, with hand-rolled byte parsing.
//!
//! The vertex file has one id per line; the edge file `src dst` or `src dst weight` per line,
//! fields separated by spaces (tabs and `\r\n` line ends are accepted too, empty lines are
//! skipped). Files are read in 4 MiB blocks, never whole, and each line is parsed in place.
//! The edge file is read twice, once to check it and count degrees, once to place every arc
//! in its final slot, so loading needs no memory beyond the graph itself and a 4 MiB buffer.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::assemble::normalize;
use super::ids::IdIndex;
use super::order::{Relabel, VertexOrder};
use super::{Adjacency, Csr};
use crate::error::{Error, Result};
use crate::parallel;

/// How to read an LDBC graph: directedness, weights, threads. Used by [`Csr::load_ldbc`].
///
/// ```
/// use eddy_gelly::LoadOptions;
///
/// let options = LoadOptions::new(true).weighted(true).threads(2);
/// assert!(options.is_directed() && options.is_weighted());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    directed: bool,
    weighted: bool,
    threads: usize,
    order: VertexOrder,
}

impl LoadOptions {
    /// Options for a directed (`true`) or undirected graph, unweighted, one thread per core.
    pub fn new(directed: bool) -> Self {
        LoadOptions {
            directed,
            weighted: false,
            threads: 0,
            order: VertexOrder::Id,
        }
    }

    /// Whether to read the third field of each edge line as its weight. When `false`, a third
    /// field is accepted and ignored.
    pub fn weighted(mut self, weighted: bool) -> Self {
        self.weighted = weighted;
        self
    }

    /// Threads used to build the adjacency arrays (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets how dense indices are assigned (default: [`VertexOrder::Id`]). With
    /// [`VertexOrder::Degree`] the relabelling happens between the two passes over the edge
    /// file, at no extra memory beyond the 8-byte-per-vertex mapping.
    pub fn order(mut self, order: VertexOrder) -> Self {
        self.order = order;
        self
    }

    /// Whether the graph is directed.
    pub fn is_directed(&self) -> bool {
        self.directed
    }

    /// Whether edge weights are read.
    pub fn is_weighted(&self) -> bool {
        self.weighted
    }
}

impl Csr {
    /// Loads an LDBC Graphalytics graph from its vertex file and edge file.
    ///
    /// ```
    /// use eddy_gelly::{Csr, LoadOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("g.v"), "1\n2\n5\n")?;
    /// std::fs::write(dir.path().join("g.e"), "1 2\n2 5\n")?;
    /// let g = Csr::load_ldbc(dir.path().join("g.v"), dir.path().join("g.e"), &LoadOptions::new(true))?;
    /// assert_eq!((g.num_vertices(), g.num_edges()), (3, 2));
    ///
    /// std::fs::write(dir.path().join("bad.e"), "1 2\n2 7\n")?;
    /// let err = Csr::load_ldbc(dir.path().join("g.v"), dir.path().join("bad.e"), &LoadOptions::new(true))
    ///     .unwrap_err();
    /// assert!(err.to_string().ends_with("bad.e:2: edge names unknown vertex 7"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if a file cannot be read; [`Error::Malformed`], [`Error::DuplicateVertex`]
    /// and [`Error::UnknownVertex`] name the file and line at fault;
    /// [`Error::TooManyVertices`] past `u32` indices.
    pub fn load_ldbc(
        vertices: impl AsRef<Path>,
        edges: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<Csr> {
        let (vpath, epath) = (vertices.as_ref(), edges.as_ref());
        let started = std::time::Instant::now();
        let index = read_vertices(vpath)?;
        let directed = options.directed;
        let (out, inc, relabel) = read_edges(epath, &index, directed, options)?;
        tracing::debug!(
            vertices = index.len(),
            arcs = out.targets.len(),
            elapsed = ?started.elapsed(),
            "read LDBC files"
        );
        let csr = parallel::install(options.threads, move || {
            let out = normalize(out);
            let inc = if directed { normalize(inc) } else { inc };
            Csr::from_parts(directed, index, out, inc, relabel)
        })?;
        tracing::debug!(arcs = csr.num_arcs(), elapsed = ?started.elapsed(), "built CSR");
        Ok(csr)
    }
}

fn read_vertices(path: &Path) -> Result<IdIndex> {
    let mut ids: Vec<u64> = Vec::new();
    let mut sorted = true;
    for_each_line(path, |line, text| {
        let mut fields = Fields(text);
        let Some(field) = fields.next() else {
            return Ok(());
        };
        let id =
            parse_u64(field).ok_or_else(|| malformed(path, line, bad_id("vertex id", field)))?;
        if fields.next().is_some() {
            return Err(malformed(
                path,
                line,
                "expected one vertex id per line".into(),
            ));
        }
        if let Some(&last) = ids.last() {
            if id == last {
                return Err(Error::DuplicateVertex {
                    path: path.to_owned(),
                    line,
                    vertex: id,
                });
            }
            sorted &= id > last;
        }
        ids.push(id);
        Ok(())
    })?;
    if !sorted {
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            let vertex = w[0];
            // Find the line of the second occurrence for the message (rare, so read again).
            let mut seen = false;
            let mut at = 0;
            for_each_line(path, |line, text| {
                if Fields(text).next().and_then(parse_u64) == Some(vertex) {
                    if seen && at == 0 {
                        at = line;
                    }
                    seen = true;
                }
                Ok(())
            })?;
            return Err(Error::DuplicateVertex {
                path: path.to_owned(),
                line: at,
                vertex,
            });
        }
    }
    IdIndex::from_sorted(ids)
}

/// Edges parsed before they are applied to the degree counts or the adjacency arrays.
const BATCH: usize = 1 << 14;

/// Edges bucketed and placed together in the second pass (16 bytes each).
const PLACE_BATCH: usize = 1 << 19;

/// The second pass buckets each batch by the top this many bits of the receiving vertex.
const BUCKET_BITS: u32 = 10;

/// Counting sort of `batch` into `out` by `bucket(edge)`, which must be below
/// `2^BUCKET_BITS`; stable, so equal buckets keep the file order.
fn bucket_by(batch: &[EdgeLine], bucket: impl Fn(&EdgeLine) -> u32, out: &mut Vec<EdgeLine>) {
    let mut starts = [0usize; (1 << BUCKET_BITS) + 1];
    for e in batch {
        starts[bucket(e) as usize + 1] += 1;
    }
    for b in 0..1 << BUCKET_BITS {
        starts[b + 1] += starts[b];
    }
    out.clear();
    out.resize(
        batch.len(),
        EdgeLine {
            src: 0,
            dst: 0,
            weight: 0.0,
        },
    );
    for e in batch {
        let slot = &mut starts[bucket(e) as usize];
        out[*slot] = *e;
        *slot += 1;
    }
}

/// One parsed edge line: dense ends and weight (when weights are read).
#[derive(Debug, Clone, Copy)]
struct EdgeLine {
    src: u32,
    dst: u32,
    weight: f64,
}

/// Parses one edge line; `Ok(None)` for an empty line.
#[inline]
fn parse_edge(
    path: &Path,
    index: &IdIndex,
    weighted: bool,
    line: u64,
    text: &[u8],
) -> Result<Option<EdgeLine>> {
    // Fast path for the common `src dst` line; anything else takes the general path below,
    // which also words the errors.
    if !weighted {
        if let Some((s, d)) = fast_pair(text) {
            if let (Some(src), Some(dst)) = (index.get(s), index.get(d)) {
                return Ok(Some(EdgeLine {
                    src,
                    dst,
                    weight: 0.0,
                }));
            }
        }
    }
    let mut fields = Fields(text);
    let Some(src) = fields.next() else {
        return Ok(None);
    };
    let dst = fields.next();
    let weight = fields.next();
    if fields.next().is_some() {
        return Err(malformed(
            path,
            line,
            "expected `src dst` or `src dst weight`".into(),
        ));
    }
    let Some(dst) = dst else {
        return Err(malformed(
            path,
            line,
            "expected `src dst`, found one field".into(),
        ));
    };
    let lookup = |field: &[u8], what: &str| -> Result<u32> {
        let id = parse_u64(field).ok_or_else(|| malformed(path, line, bad_id(what, field)))?;
        index.get(id).ok_or_else(|| Error::UnknownVertex {
            path: path.to_owned(),
            line,
            vertex: id,
        })
    };
    let (src, dst) = (lookup(src, "source")?, lookup(dst, "target")?);
    let weight = match (weighted, weight) {
        (false, _) => 0.0,
        (true, None) => return Err(malformed(path, line, "missing weight".into())),
        (true, Some(field)) => {
            let w = std::str::from_utf8(field)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| malformed(path, line, bad_id("weight", field)))?;
            if w.is_nan() || w < 0.0 {
                return Err(malformed(
                    path,
                    line,
                    format!("weight {w} is negative or not a number"),
                ));
            }
            w
        }
    };
    Ok(Some(EdgeLine { src, dst, weight }))
}

/// Reads the edge file twice: the first pass checks every line and counts degrees, the second
/// places each arc straight into its final slot. No edge list is ever held, so memory peaks at
/// the adjacency arrays themselves.
fn read_edges(
    path: &Path,
    index: &IdIndex,
    directed: bool,
    options: &LoadOptions,
) -> Result<(Adjacency, Adjacency, Option<Relabel>)> {
    let weighted = options.weighted;
    let n = index.len();
    let mut out_offsets = vec![0usize; n + 1];
    let mut in_offsets = if directed {
        vec![0usize; n + 1]
    } else {
        Vec::new()
    };
    // Lines are parsed into a batch and the batch is applied in a tight loop: parsing is all
    // branches, and interleaving it with the random writes would leave the writes' cache
    // misses to wait one at a time (measured: 3x slower).
    let mut batch: Vec<EdgeLine> = Vec::with_capacity(BATCH);
    let mut edges = 0usize;
    let mut count = |batch: &mut Vec<EdgeLine>| {
        for e in batch.iter() {
            out_offsets[e.src as usize + 1] += 1;
            if directed {
                in_offsets[e.dst as usize + 1] += 1;
            } else {
                out_offsets[e.dst as usize + 1] += 1;
            }
        }
        edges += batch.len();
        batch.clear();
    };
    for_each_line(path, |line, text| {
        if let Some(e) = parse_edge(path, index, weighted, line, text)? {
            batch.push(e);
            if batch.len() == BATCH {
                count(&mut batch);
            }
        }
        Ok(())
    })?;
    count(&mut batch);
    tracing::debug!(edges, "edge file checked, degrees counted");
    // Counts sit at offsets[rank + 1]; relabelling moves them to offsets[dense + 1].
    let relabel = match options.order {
        VertexOrder::Id => None,
        VertexOrder::Degree => {
            let relabel = Relabel::by_degree(|r| out_offsets[r + 1], n);
            let move_counts = |offsets: &mut Vec<usize>| {
                if !offsets.is_empty() {
                    let mut moved = vec![0usize; n + 1];
                    for (r, &v) in relabel.dense.iter().enumerate() {
                        moved[v as usize + 1] = offsets[r + 1];
                    }
                    *offsets = moved;
                }
            };
            move_counts(&mut out_offsets);
            move_counts(&mut in_offsets);
            Some(relabel)
        }
    };
    let dense = |r: u32| relabel.as_ref().map_or(r, |x| x.dense[r as usize]);
    prefix_sum(&mut out_offsets);
    prefix_sum(&mut in_offsets);
    let mut out_targets = vec![0u32; out_offsets[n]];
    let mut out_weights = weighted.then(|| vec![0f64; out_offsets[n]]);
    let mut in_targets = vec![0u32; in_offsets.last().copied().unwrap_or(0)];
    // Cursors: offsets[v] advances while v's arcs are placed, ending at the old offsets[v + 1].
    // The first pass checked every line, so a failure now means the file changed under us.
    let changed = || Error::Internal(format!("{} changed while it was read", path.display()));
    let mut seen = 0usize;
    // Each batch is bucketed by the vertex whose list receives the arc (a counting sort on the
    // index's top bits) before it is placed, so the random writes of a bucket fall in a window
    // of a few hundred KiB instead of the whole array: far fewer cache and TLB misses.
    let shift = (u32::BITS - (n as u32).leading_zeros()).saturating_sub(BUCKET_BITS);
    let mut bucketed: Vec<EdgeLine> = Vec::with_capacity(PLACE_BATCH);
    let mut place = |batch: &mut Vec<EdgeLine>| -> Result<()> {
        let mut put =
            |offsets: &mut [usize], targets: &mut [u32], s: u32, d: u32, w: Option<f64>| {
                let slot = offsets.get_mut(s as usize).ok_or_else(changed)?;
                *targets.get_mut(*slot).ok_or_else(changed)? = d;
                if let (Some(w), Some(ws)) = (w, out_weights.as_mut()) {
                    ws[*slot] = w;
                }
                *slot += 1;
                Ok::<(), Error>(())
            };
        bucket_by(batch, |e| e.src >> shift, &mut bucketed);
        for e in &bucketed {
            put(
                &mut out_offsets,
                &mut out_targets,
                e.src,
                e.dst,
                Some(e.weight),
            )?;
        }
        bucket_by(batch, |e| e.dst >> shift, &mut bucketed);
        for e in &bucketed {
            if directed {
                put(&mut in_offsets, &mut in_targets, e.dst, e.src, None)?;
            } else {
                put(
                    &mut out_offsets,
                    &mut out_targets,
                    e.dst,
                    e.src,
                    Some(e.weight),
                )?;
            }
        }
        seen += batch.len();
        batch.clear();
        Ok(())
    };
    batch.reserve(PLACE_BATCH.saturating_sub(batch.capacity()));
    for_each_line(path, |line, text| {
        match parse_edge(path, index, weighted, line, text) {
            Ok(Some(e)) => batch.push(EdgeLine {
                src: dense(e.src),
                dst: dense(e.dst),
                ..e
            }),
            Ok(None) => {}
            Err(_) => return Err(changed()),
        }
        if batch.len() == PLACE_BATCH {
            place(&mut batch)?;
        }
        Ok(())
    })?;
    place(&mut batch)?;
    if seen != edges {
        return Err(changed());
    }
    unshift(&mut out_offsets);
    unshift(&mut in_offsets);
    let out = Adjacency {
        offsets: out_offsets,
        targets: out_targets,
        weights: out_weights,
    };
    let inc = Adjacency {
        offsets: in_offsets,
        targets: in_targets,
        weights: None,
    };
    Ok((out, inc, relabel))
}

/// Turns per-vertex counts stored at `offsets[v + 1]` into offsets.
fn prefix_sum(offsets: &mut [usize]) {
    for v in 1..offsets.len() {
        offsets[v] += offsets[v - 1];
    }
}

/// Undoes the cursors' advance: `offsets[v]` holds the old `offsets[v + 1]`.
fn unshift(offsets: &mut [usize]) {
    if let Some(last) = offsets.len().checked_sub(1) {
        offsets.copy_within(0..last, 1);
        offsets[0] = 0;
    }
}

fn malformed(path: &Path, line: u64, problem: String) -> Error {
    Error::Malformed {
        path: path.to_owned(),
        line,
        problem,
    }
}

fn bad_id(what: &str, field: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(field).chars().take(40).collect();
    format!("{what} `{shown}` is not a valid number")
}

/// Calls `f(line_number, line)` for every line of `path` (1-based, without the line end),
/// reading 4 MiB at a time.
pub(crate) fn for_each_line(
    path: &Path,
    mut f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let io = |source: std::io::Error| Error::Io {
        path: PathBuf::from(path),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut buf = vec![0u8; 4 << 20];
    let mut filled = 0;
    let mut line = 0u64;
    loop {
        let read = match file.read(&mut buf[filled..]) {
            Ok(read) => read,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        filled += read;
        let mut start = 0;
        while let Some(len) = find_newline(&buf[start..filled]) {
            line += 1;
            f(line, trim_cr(&buf[start..start + len]))?;
            start += len + 1;
        }
        if read == 0 {
            if start < filled {
                line += 1;
                f(line, trim_cr(&buf[start..filled]))?;
            }
            return Ok(());
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // a line longer than the buffer
        }
    }
}

/// The position of the first `\n`, eight bytes at a time.
#[inline]
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
        let x = word ^ NL;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Fields of a line, separated by runs of spaces or tabs.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.0.iter().position(|&b| b != b' ' && b != b'\t')?;
        let rest = &self.0[start..];
        let len = rest
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(rest.len());
        self.0 = &rest[len..];
        Some(&rest[..len])
    }
}

/// Parses a line that is exactly `digits SP digits` or `digits SP digits SP field`
/// (at most 19 digits each, so no overflow check is needed).
#[inline]
fn fast_pair(text: &[u8]) -> Option<(u64, u64)> {
    #[inline]
    fn number(text: &[u8], mut i: usize) -> Option<(u64, usize)> {
        let start = i;
        let mut value = 0u64;
        while let Some(&b) = text.get(i) {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            value = value * 10 + u64::from(digit);
            i += 1;
        }
        (i > start && i - start <= 19).then_some((value, i))
    }
    let (s, i) = number(text, 0)?;
    if text.get(i) != Some(&b' ') {
        return None;
    }
    let (d, j) = number(text, i + 1)?;
    match text.get(j) {
        None => Some((s, d)),
        // A third field (an ignored weight) must be the last one.
        Some(b' ')
            if text.get(j + 1).is_some_and(|b| *b != b' ')
                && !text[j + 1..].iter().any(|&b| b == b' ' || b == b'\t') =>
        {
            Some((s, d))
        }
        _ => None,
    }
}

/// Parses an unsigned decimal integer, rejecting signs, other characters and overflow.
#[inline]
fn parse_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 {
        return None;
    }
    let mut value: u64 = 0;
    for &b in field {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_strictly() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1x"), None);
        assert_eq!(parse_u64(b""), None);
    }

    #[test]
    fn finds_newlines_in_every_position() {
        for len in 0..20 {
            for at in 0..len {
                let mut bytes = vec![b'7'; len];
                bytes[at] = b'\n';
                assert_eq!(find_newline(&bytes), Some(at));
            }
            assert_eq!(find_newline(&vec![b'7'; len]), None);
        }
    }

    #[test]
    fn fast_pair_takes_only_plain_lines() {
        assert_eq!(fast_pair(b"1 2"), Some((1, 2)));
        assert_eq!(fast_pair(b"10 20 0.5"), Some((10, 20)));
        assert_eq!(fast_pair(b"1  2"), None);
        assert_eq!(fast_pair(b"1 2 "), None);
        assert_eq!(fast_pair(b"1 2  3"), None);
        assert_eq!(fast_pair(b"1 2 3 4"), None);
        assert_eq!(fast_pair(b" 1 2"), None);
        assert_eq!(fast_pair(b"1\t2"), None);
        assert_eq!(fast_pair(b"1 x"), None);
        assert_eq!(fast_pair(b"12345678901234567890 1"), None);
    }

    #[test]
    fn splits_fields_on_spaces_and_tabs() {
        let fields: Vec<&[u8]> = Fields(b"  1 \t 22  3.5 ").collect();
        assert_eq!(fields, vec![&b"1"[..], b"22", b"3.5"]);
        assert_eq!(Fields(b"   ").next(), None);
    }
}
