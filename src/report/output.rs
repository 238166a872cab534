//! The output folder: written whole into a staging folder next to it, then renamed into place,
//! so a reader never sees a half-written report and an old run is never mixed with a new one.
//! The tool refuses to write inside an input folder.

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

/// A staging folder that becomes the output folder on [`OutputDir::commit`].
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
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
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staging = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
        }
        fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            force,
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

    /// Opens a file in the staging folder for streaming writes.
    pub fn create(&self, name: &str) -> Result<io::BufWriter<fs::File>, OutputError> {
        let path = self.staging.join(name);
        let f = fs::File::create(&path).map_err(io_err(&path))?;
        Ok(io::BufWriter::new(f))
    }

    /// Moves the staging folder into place, replacing an old output folder whole.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        if self.target.exists() {
            let old = self
                .staging
                .with_file_name(format!(".old-{}", std::process::id()));
            if self.force {
                fs::rename(&self.target, &old).map_err(io_err(&self.target))?;
                fs::rename(&self.staging, &self.target).map_err(io_err(&self.target))?;
                fs::remove_dir_all(&old).map_err(io_err(&old))?;
            } else {
                // Empty folder: replace it.
                fs::remove_dir(&self.target).map_err(io_err(&self.target))?;
                fs::rename(&self.staging, &self.target).map_err(io_err(&self.target))?;
            }
        } else {
            fs::rename(&self.staging, &self.target).map_err(io_err(&self.target))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
