//! The output folder: every file is written into a staging folder *inside* it and renamed into
//! place only when all outputs are complete, so a reader never sees a half-written file, an old
//! run is never mixed with a new one (`--force` removes the old run's files), and nothing is
//! ever written outside `--out`. The tool refuses to write inside an input folder.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why the output folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// `--out` is inside (or is) an input folder.
    #[error("refusing to write into an input folder: {0} (choose --out elsewhere)")]
    InsideInput(PathBuf),
    /// The folder exists and is not empty.
    #[error("{0} already exists and is not empty; use --force to replace it whole")]
    Exists(PathBuf),
    /// `--force` on a non-empty folder that is not a previous mailsleuth output.
    #[error(
        "{0} is not empty and holds no previous mailsleuth run; refusing to replace it even \
         with --force (choose a new folder)"
    )]
    NotOurs(PathBuf),
    /// An I/O error.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The output folder and its staging folder; [`OutputDir::commit`] moves the outputs in.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    created: bool,
    committed: bool,
}

fn absolute(p: &Path) -> PathBuf {
    fs::canonicalize(p).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

impl OutputDir {
    /// Checks `target` against the inputs and creates the staging folder beside it.
    pub fn prepare(target: &Path, inputs: &[PathBuf], force: bool) -> Result<Self, OutputError> {
        let abs_target = {
            // The target may not exist yet: resolve its parent.
            let parent = target.parent().filter(|p| !p.as_os_str().is_empty());
            let base = parent.map_or_else(|| absolute(Path::new(".")), absolute);
            base.join(target.file_name().unwrap_or_default())
        };
        for input in inputs {
            let abs_in = absolute(input);
            let input_dir = if abs_in.is_dir() {
                abs_in.clone()
            } else {
                abs_in
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or(abs_in.clone())
            };
            if abs_target.starts_with(&input_dir) || abs_in.starts_with(&abs_target) {
                return Err(OutputError::InsideInput(input.clone()));
            }
        }
        if target.exists() {
            let empty = fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty && !force {
                return Err(OutputError::Exists(target.to_path_buf()));
            }
            // --force replaces a previous run, never someone's folder that happens to be named.
            let ours = ["manifest.json", "findings.json"]
                .iter()
                .any(|f| target.join(f).is_file());
            if !empty && !ours {
                return Err(OutputError::NotOurs(target.to_path_buf()));
            }
        }
        let created = !target.exists();
        fs::create_dir_all(target).map_err(io_err(target))?;
        let staging = target.join(format!(".mailsleuth-partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
        }
        fs::create_dir(&staging).map_err(io_err(&staging))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            created,
            committed: false,
        })
    }

    /// Where the folder will be.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes one file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        let mut f = fs::File::create(&path).map_err(io_err(&path))?;
        f.write_all(bytes).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))
    }

    /// Opens a file in the staging folder for streaming writes; close it with
    /// [`OutputDir::finish`], which syncs it before [`OutputDir::commit`] renames it into place.
    pub fn create(&self, name: &str) -> Result<io::BufWriter<StagedFile>, OutputError> {
        let path = self.staging.join(name);
        let f = fs::File::create(&path).map_err(io_err(&path))?;
        Ok(io::BufWriter::new(StagedFile::new(f)))
    }

    /// Flushes a file opened with [`OutputDir::create`] and syncs it to disk, as
    /// [`OutputDir::write`] does for the outputs written whole.
    pub fn finish(&self, name: &str, w: io::BufWriter<StagedFile>) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        let f = w.into_inner().map_err(|e| io_err(&path)(e.into_error()))?;
        f.file.sync_all().map_err(io_err(&path))
    }

    /// Moves the outputs into place. The old run's files (only present with `--force`) are
    /// removed first, so the folder holds exactly this run's outputs. Every output was synced
    /// when it was written ([`OutputDir::write`], [`OutputDir::finish`]), so after a crash or
    /// power loss the folder holds complete files or none; the folder itself is synced last,
    /// so the renames are on disk when this returns.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let entries = fs::read_dir(&self.target).map_err(io_err(&self.target))?;
        for entry in entries {
            let path = entry.map_err(io_err(&self.target))?.path();
            if path == self.staging {
                continue;
            }
            if path.is_dir() {
                fs::remove_dir_all(&path).map_err(io_err(&path))?;
            } else {
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
        let staged = fs::read_dir(&self.staging).map_err(io_err(&self.staging))?;
        for entry in staged {
            let from = entry.map_err(io_err(&self.staging))?.path();
            let to = self.target.join(from.file_name().unwrap_or_default());
            fs::rename(&from, &to).map_err(io_err(&to))?;
        }
        fs::remove_dir(&self.staging).map_err(io_err(&self.staging))?;
        self.committed = true;
        sync_dir(&self.target)?;
        Ok(self.target.clone())
    }
}

/// An output file written as a stream, which asks the system to start writing each
/// [`StagedFile::STEP`] of it to disk as soon as it is written.
///
/// Every output is synced before it is renamed into place ([`OutputDir::finish`]); without
/// this the sync of the Parquet export (a gigabyte at 10 GB of input) waited for all of it at
/// the end, 0.5–1.5 s on the run's last thread with the other core idle. Now the disk writes
/// while the run computes and the sync waits for the last step only. On systems other than
/// Linux the sync at the end does it all, as before.
pub struct StagedFile {
    file: fs::File,
    /// Bytes between two starts of writeback ([`StagedFile::STEP`] but in tests).
    step: u64,
    /// Bytes written so far.
    written: u64,
    /// Bytes whose writing to disk was started.
    started: u64,
}

impl StagedFile {
    /// Bytes between two starts of writeback.
    const STEP: u64 = 32 << 20;

    fn new(file: fs::File) -> StagedFile {
        StagedFile {
            file,
            step: Self::STEP,
            written: 0,
            started: 0,
        }
    }

    /// Starts writing the bytes since the last start to disk, without waiting. A hint: an
    /// error here surfaces, if it is real, in the sync at the end.
    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (
            i64::try_from(self.started),
            i64::try_from(self.written - self.started),
        ) else {
            return;
        };
        // SAFETY: sync_file_range reads no memory of ours; it takes the descriptor of a file
        // this struct owns and keeps open, and a byte range of it.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {
        self.started = self.written;
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= self.step {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Syncs a folder's entries (the renames into it) to disk. Only Unix can open a folder as a
/// file to sync it; elsewhere the file system orders it.
fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    if cfg!(unix) {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            if self.created {
                let _ = fs::remove_dir(&self.target); // only when still empty
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_output_starts_writeback_each_step_and_keeps_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let mut f = StagedFile::new(fs::File::create(&path).unwrap());
        f.step = 16;
        let chunks: Vec<Vec<u8>> = (0u8..5).map(|i| vec![b'a' + i; 10]).collect();
        let mut starts = Vec::new();
        for c in &chunks {
            f.write_all(c).unwrap();
            starts.push(f.started);
        }
        // Started once 16 bytes were waiting: after 20 bytes, and again after 40.
        assert_eq!(starts, [0, 20, 20, 40, 40]);
        f.flush().unwrap();
        f.file.sync_all().unwrap();
        assert_eq!(fs::read(&path).unwrap(), chunks.concat());
    }

    #[test]
    fn refuses_input_folders_and_existing_output_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("case");
        fs::create_dir_all(&input).unwrap();
        assert!(matches!(
            OutputDir::prepare(&input.join("out"), std::slice::from_ref(&input), false),
            Err(OutputError::InsideInput(_))
        ));
        let out = dir.path().join("out");
        let o = OutputDir::prepare(&out, std::slice::from_ref(&input), false).unwrap();
        o.write("a.txt", b"1").unwrap();
        o.commit().unwrap();
        assert_eq!(fs::read(out.join("a.txt")).unwrap(), b"1");
        assert!(matches!(
            OutputDir::prepare(&out, std::slice::from_ref(&input), false),
            Err(OutputError::Exists(_))
        ));
        // A folder that is not a previous run is never replaced, even with --force.
        assert!(matches!(
            OutputDir::prepare(&out, std::slice::from_ref(&input), true),
            Err(OutputError::NotOurs(_))
        ));
        fs::write(out.join("manifest.json"), b"{}").unwrap();
        let o = OutputDir::prepare(&out, std::slice::from_ref(&input), true).unwrap();
        o.write("b.txt", b"2").unwrap();
        o.commit().unwrap();
        assert!(!out.join("a.txt").exists(), "replaced whole, not mixed");
        assert!(out.join("b.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no staging folders left behind");
    }

    #[test]
    fn abandoned_staging_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        {
            let o = OutputDir::prepare(&out, &[], false).unwrap();
            o.write("x", b"x").unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
