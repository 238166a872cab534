//! Finding input files and turning each into a UTF-8 byte stream.
//!
//! Inputs are files and folders (walked recursively, in sorted order so every run sees the
//! same order). Each file is opened read-only; gzip is recognised by its magic bytes, not its
//! name, and decompressed on the fly. The text encoding is sniffed from the first bytes: a BOM
//! (UTF-8, UTF-16LE, UTF-16BE), else the NUL pattern of BOM-less UTF-16 (EAC historical-search
//! reports), else UTF-8 (which also covers PowerShell 5.1's ASCII). UTF-16 is transcoded to UTF-8
//! as it streams, so no file is ever read whole into memory.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

/// How many decoded bytes are kept from the start of a file for kind detection.
pub const HEAD_BYTES: usize = 64 * 1024;

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The path as found (joined from what the user gave).
    pub path: PathBuf,
    /// Size on disk in bytes.
    pub size: u64,
}

/// A path that could not be turned into input files (missing, unreadable folder, link loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// The path concerned.
    pub path: PathBuf,
    /// Why it was passed over.
    pub reason: String,
}

/// Expands the user's paths into files, sorted by path, each listed once.
///
/// Hidden folders and files (name starting with `.`) met while walking are passed over: they are
/// tool state (`.git`, `.DS_Store`, `.gitattributes`), not evidence. A path the user names directly is always read. Symbolic links
/// are followed, but a folder already visited (a link loop) is reported and not entered again.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<InputProblem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen_dirs = HashSet::new();
    let mut seen_files = HashSet::new();
    for path in paths {
        walk(
            path,
            true,
            &mut files,
            &mut problems,
            &mut seen_dirs,
            &mut seen_files,
        );
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, problems)
}

fn walk(
    path: &Path,
    explicit: bool,
    files: &mut Vec<InputFile>,
    problems: &mut Vec<InputProblem>,
    seen_dirs: &mut HashSet<PathBuf>,
    seen_files: &mut HashSet<PathBuf>,
) {
    let problem = |reason: String| InputProblem {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let reason = if fs::symlink_metadata(path).is_ok() {
                format!("broken or looping symbolic link: {e}")
            } else {
                io_reason(&e)
            };
            problems.push(problem(reason));
            return;
        }
    };
    if meta.is_dir() {
        if !explicit && is_hidden(path) {
            return;
        }
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !seen_dirs.insert(canonical) {
            problems.push(problem(
                "folder already visited (symbolic link loop); not read again".into(),
            ));
            return;
        }
        let entries = match fs::read_dir(path) {
            Ok(rd) => rd,
            Err(e) => {
                problems.push(problem(format!("cannot list folder: {}", io_reason(&e))));
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            walk(&child, false, files, problems, seen_dirs, seen_files);
        }
    } else if meta.is_file() {
        if !explicit && is_hidden(path) {
            return;
        }
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if seen_files.insert(canonical) {
            files.push(InputFile {
                path: path.to_path_buf(),
                size: meta.len(),
            });
        }
    } else if explicit {
        problems.push(problem("not a regular file or folder".into()));
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n != "." && n != "..")
}

/// A short reason for an I/O error, without the OS error number noise.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "not found".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The text encoding found at the start of a file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without BOM (also ASCII).
    Utf8,
    /// UTF-8 with BOM.
    Utf8Bom,
    /// UTF-16 little-endian with BOM.
    Utf16LeBom,
    /// UTF-16 little-endian without BOM (detected from NUL bytes).
    Utf16Le,
    /// UTF-16 big-endian with BOM.
    Utf16BeBom,
    /// UTF-16 big-endian without BOM.
    Utf16Be,
    /// Not text.
    Binary,
}

impl Encoding {
    /// The stable name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16LeBom => "utf-16le-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16BeBom => "utf-16be-bom",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Binary => "binary",
        }
    }
}

/// Counts raw bytes read from disk, for progress and throughput.
pub trait ByteCounter: Sync {
    /// `n` more bytes were read.
    fn add(&self, n: u64);

    /// The total number of bytes that will be read, once known.
    fn set_total(&self, _n: u64) {}
}

/// A counter that counts nothing.
pub struct NoCount;

impl ByteCounter for NoCount {
    fn add(&self, _n: u64) {}
}

struct Counted<'c, R> {
    inner: R,
    counter: &'c dyn ByteCounter,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.add(n as u64);
        Ok(n)
    }
}

/// SHA-256 of a file's raw bytes, computed as they are read for parsing (one pass), then
/// completed from disk for whatever the parse did not need (the tail of a non-export).
#[derive(Default)]
pub struct HashState {
    hasher: sha2::Sha256,
    bytes: u64,
}

/// A reader that feeds everything it reads into a shared [`HashState`].
pub struct Hashing<R> {
    inner: R,
    state: std::sync::Arc<std::sync::Mutex<HashState>>,
}

impl<R: Read> Hashing<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, state: std::sync::Arc<std::sync::Mutex<HashState>>) -> Self {
        Hashing { inner, state }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        if let Ok(mut st) = self.state.lock() {
            st.hasher.update(&buf[..n]);
            st.bytes += n as u64;
        }
        Ok(n)
    }
}

/// Finishes the hash of `path`: reads from disk whatever was not read yet. `None` when the file
/// changed size or cannot be read.
pub fn finish_hash(path: &Path, state: &std::sync::Mutex<HashState>) -> Option<String> {
    use sha2::Digest;
    use std::io::{Seek, SeekFrom};
    let mut st = state.lock().ok()?;
    let mut f = File::open(path).ok()?;
    f.seek(SeekFrom::Start(st.bytes)).ok()?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        st.hasher.update(&buf[..n]);
        st.bytes += n as u64;
    }
    let digest = std::mem::take(&mut st.hasher).finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// An opened input: its encoding, whether it was gzip, a recognised non-export signature, the
/// first decoded bytes (for detection) and a reader that yields the **whole** decoded stream
/// from byte 0 (the head is replayed).
pub struct Opened<'c> {
    /// Text encoding (of the decompressed content).
    pub encoding: Encoding,
    /// True when the file was gzip-compressed.
    pub gzip: bool,
    /// A known binary format (PNG, ZIP, EVTX …) when recognised.
    pub signature: Option<&'static str>,
    /// Up to [`HEAD_BYTES`] of decoded UTF-8 (BOM removed).
    pub head: Vec<u8>,
    /// The decoded stream from its start (head included).
    pub reader: Box<dyn Read + Send + 'c>,
}

/// Opens `path` read-only and prepares its decoded stream.
pub fn open<'c>(path: &Path, counter: &'c dyn ByteCounter) -> io::Result<Opened<'c>> {
    let file = File::open(path)?;
    open_reader(Box::new(file), counter)
}

/// Like [`open`] on any reader (tests, stdin).
pub fn open_reader<'c>(
    raw: Box<dyn Read + Send + 'c>,
    counter: &'c dyn ByteCounter,
) -> io::Result<Opened<'c>> {
    let mut raw: Box<dyn Read + Send + 'c> = Box::new(Counted {
        inner: raw,
        counter,
    });
    let mut magic = Vec::with_capacity(4);
    (&mut raw).take(2).read_to_end(&mut magic)?;
    let gzip = magic == [0x1f, 0x8b];
    let replay: Box<dyn Read + Send + 'c> = Box::new(Cursor::new(magic).chain(raw));
    let mut stream: Box<dyn Read + Send + 'c> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(replay))
    } else {
        replay
    };

    let mut raw_head = Vec::with_capacity(HEAD_BYTES);
    (&mut stream)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut raw_head)?;
    let signature = binary_signature(&raw_head);
    let encoding = if signature.is_some() {
        Encoding::Binary
    } else {
        sniff_encoding(&raw_head)
    };
    let bom_len = match encoding {
        Encoding::Utf8Bom => 3,
        Encoding::Utf16LeBom | Encoding::Utf16BeBom => 2,
        _ => 0,
    };
    let replayed: Box<dyn Read + Send + 'c> = Box::new(Cursor::new(raw_head).chain(stream));
    let decoded: Box<dyn Read + Send + 'c> = match encoding {
        Encoding::Utf16Le | Encoding::Utf16LeBom => {
            Box::new(transcoder(replayed, encoding_rs::UTF_16LE, bom_len))
        }
        Encoding::Utf16Be | Encoding::Utf16BeBom => {
            Box::new(transcoder(replayed, encoding_rs::UTF_16BE, bom_len))
        }
        _ => {
            let mut r = replayed;
            if bom_len > 0 {
                io::copy(&mut (&mut r).take(bom_len as u64), &mut io::sink())?;
            }
            r
        }
    };
    // Read the decoded head again (cheap: it is in memory or one more block) and replay it.
    let mut decoded = decoded;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut decoded)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    let reader: Box<dyn Read + Send + 'c> = Box::new(Cursor::new(head.clone()).chain(decoded));
    Ok(Opened {
        encoding,
        gzip,
        signature,
        head,
        reader,
    })
}

fn transcoder<'c>(
    mut inner: Box<dyn Read + Send + 'c>,
    enc: &'static encoding_rs::Encoding,
    bom_len: usize,
) -> impl Read + Send + 'c {
    if bom_len > 0 {
        // The BOM is dropped here so the decoder never sees it; errors surface on first read.
        let _ = io::copy(&mut (&mut inner).take(bom_len as u64), &mut io::sink());
    }
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .bom_override(false)
        .build(inner)
}

/// Recognises common non-export files by their magic bytes.
pub fn binary_signature(head: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"ElfFile\0", "Windows event log (EVTX)"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "legacy Office document (.xls/.doc/.msg)",
        ),
        (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
        (b"Rar!\x1a\x07", "RAR archive"),
        (b"\x7fELF", "executable (ELF)"),
        (b"MZ", "Windows executable"),
        (b"SQLite format 3\0", "SQLite database"),
        (b"PAR1", "Parquet file"),
    ];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let xlsx = memchr::memmem::find(head, b"xl/").is_some()
            || memchr::memmem::find(head, b"[Content_Types].xml").is_some();
        return Some(if xlsx {
            "Excel workbook (.xlsx): save it as CSV to read it"
        } else {
            "ZIP archive: extract it and pass the folder"
        });
    }
    SIGS.iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, name)| *name)
}

/// BOM first, then the NUL pattern of UTF-16 without BOM, then NULs meaning binary.
pub fn sniff_encoding(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        return Encoding::Utf8Bom;
    }
    if head.starts_with(&[0xff, 0xfe]) {
        return Encoding::Utf16LeBom;
    }
    if head.starts_with(&[0xfe, 0xff]) {
        return Encoding::Utf16BeBom;
    }
    let sample = &head[..head.len().min(4096)];
    if sample.len() < 2 {
        return Encoding::Utf8;
    }
    let pairs = sample.len() / 2;
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 6 && even_nul * 10 < pairs {
        return Encoding::Utf16Le;
    }
    if even_nul * 10 >= pairs * 6 && odd_nul * 10 < pairs {
        return Encoding::Utf16Be;
    }
    let control = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)))
        .count();
    if control * 100 > sample.len() {
        return Encoding::Binary;
    }
    Encoding::Utf8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> (Encoding, bool, String) {
        let o = open_reader(Box::new(Cursor::new(bytes.to_vec())), &NoCount).unwrap();
        let mut all = Vec::new();
        let mut r = o.reader;
        r.read_to_end(&mut all).unwrap();
        assert!(all.starts_with(&o.head[..o.head.len().min(all.len())]));
        (o.encoding, o.gzip, String::from_utf8(all).unwrap())
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xff, 0xfe] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn encodings_are_sniffed_and_decoded() {
        let text = "origin_timestamp_utc,sender_address\r\n2026-03-09T08:12:00Z,a@b.example\r\n";
        assert_eq!(
            decoded(text.as_bytes()),
            (Encoding::Utf8, false, text.into())
        );
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decoded(&bom), (Encoding::Utf8Bom, false, text.into()));
        assert_eq!(
            decoded(&utf16le(text, true)),
            (Encoding::Utf16LeBom, false, text.into())
        );
        assert_eq!(
            decoded(&utf16le(text, false)),
            (Encoding::Utf16Le, false, text.into())
        );
        let mut be = vec![0xfe, 0xff];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decoded(&be), (Encoding::Utf16BeBom, false, text.into()));
    }

    #[test]
    fn hashing_covers_the_whole_file_even_when_parsing_stops_early() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &data).unwrap();
        let state = std::sync::Arc::new(std::sync::Mutex::new(HashState::default()));
        let mut r = Hashing::new(File::open(&path).unwrap(), state.clone());
        let mut head = [0u8; 1000];
        r.read_exact(&mut head).unwrap();
        let got = finish_hash(&path, &state).unwrap();
        use sha2::Digest;
        let want: String = sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn gzip_is_found_by_content() {
        use std::io::Write;
        let text = "{\"Id\":\"1\"}\n".repeat(20_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&utf16le(&text, true)).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(decoded(&bytes), (Encoding::Utf16LeBom, true, text));
    }

    #[test]
    fn binary_files_are_recognised() {
        assert_eq!(
            binary_signature(b"\x89PNG\r\n\x1a\n...."),
            Some("PNG image")
        );
        assert_eq!(
            binary_signature(b"ElfFile\0\0\0"),
            Some("Windows event log (EVTX)")
        );
        assert!(binary_signature(b"PK\x03\x04....xl/workbook.xml")
            .unwrap()
            .starts_with("Excel"));
        assert_eq!(
            sniff_encoding(&[0u8, 1, 2, 3, 0, 0, 7, 0, 0, 9]),
            Encoding::Binary
        );
        assert_eq!(binary_signature(b"CreationDate,UserIds"), None);
    }

    #[test]
    fn walking_is_sorted_recursive_and_survives_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/sub")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join("b/sub/z.csv"), "x").unwrap();
        fs::write(root.join("a.json"), "{}").unwrap();
        fs::write(root.join(".git/config"), "x").unwrap();
        fs::write(root.join(".DS_Store"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("b/loop")).unwrap();
        let (files, problems) = collect_inputs(&[root.to_path_buf()]);
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.json", "b/sub/z.csv"]);
        #[cfg(unix)]
        assert!(problems.iter().any(|p| p.reason.contains("loop")));
        let (_, problems) = collect_inputs(&[root.join("missing.csv")]);
        assert_eq!(problems[0].reason, "not found");
    }
}
