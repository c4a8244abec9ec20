//! What a process started by a launcher or a cluster engine reads from its environment, and
//! why it may not make sense of it.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use crate::transport::frame::Secret;
use crate::transport::keys::Keyring;

/// Why a process cannot make sense of the environment it was started with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvError {
    /// A variable its starter sets is missing.
    #[error("{by} did not set `{var}`")]
    Missing {
        /// The variable.
        var: &'static str,
        /// Who should have set it, e.g. "the launcher".
        by: &'static str,
    },
    /// A variable does not hold what it should.
    #[error("`{var}` is not {expected}{}", shown(.value))]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Its value, unless it is secret.
        value: Option<String>,
        /// What it should be, e.g. "a port".
        expected: &'static str,
    },
    /// The params passed do not decode as this program's.
    #[error("cannot read the params from {by}")]
    Params {
        /// Who passed them.
        by: &'static str,
        /// Why they do not decode.
        #[source]
        source: serde_json::Error,
    },
    /// The variables are fine but describe another launch (another program, params or layout).
    #[error("{0}")]
    Mismatch(String),
    /// The file a variable names cannot give the process's keys.
    #[error(
        "cannot read the launch's keys from `{}`, the file `{var}` names (the manifests mount the job's Secret there: run the pod as they say, or point `{var}` at a file holding the keys)",
        path.display()
    )]
    SecretFile {
        /// The variable naming the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        problem: SecretFileProblem,
    },
}

/// Why the file that should hold the process's keys does not give them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretFileProblem {
    /// It cannot be opened or read (missing, not readable by this user, a directory…).
    #[error("it cannot be read")]
    Read(#[source] std::io::Error),
    /// It holds something else than a launch secret (64 hex digits) or a keyring (surrounding
    /// white space is ignored), or more than [`MAX_KEYS_FILE`] bytes.
    #[error("it does not hold a launch secret (64 hex digits) or the keys the manifests give")]
    NotKeys,
}

fn shown(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(String::new, |v| format!(": `{v}`"))
}

/// The environment as set by one starter.
#[derive(Clone, Copy)]
pub(crate) struct Vars {
    /// Who sets these variables, for messages.
    pub(crate) by: &'static str,
}

impl Vars {
    /// A variable's value.
    pub(crate) fn get(&self, var: &'static str) -> Result<String, EnvError> {
        std::env::var(var).map_err(|_| EnvError::Missing { var, by: self.by })
    }

    /// A variable's value, parsed (surrounding spaces ignored).
    pub(crate) fn parse<T: FromStr>(
        &self,
        var: &'static str,
        expected: &'static str,
    ) -> Result<T, EnvError> {
        let raw = self.get(var)?;
        raw.trim().parse().map_err(|_| EnvError::Invalid {
            var,
            value: Some(raw),
            expected,
        })
    }

    /// A variable's value, parsed, or `default` when it is unset.
    pub(crate) fn parse_or<T: FromStr>(
        &self,
        var: &'static str,
        expected: &'static str,
        default: T,
    ) -> Result<T, EnvError> {
        match std::env::var_os(var) {
            None => Ok(default),
            Some(_) => self.parse(var, expected),
        }
    }

    /// The node ids in `var`, comma separated.
    pub(crate) fn ids(&self, var: &'static str) -> Result<Vec<usize>, EnvError> {
        let raw = self.get(var)?;
        raw.split(',')
            .map(|id| id.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|_| EnvError::Invalid {
                var,
                value: Some(raw.clone()),
                expected: "a list of node ids, comma separated",
            })
    }

    /// The launch secret in `var` (hex); its value is never shown.
    pub(crate) fn launch_secret(&self, var: &'static str) -> Result<Secret, EnvError> {
        Secret::from_hex(self.get(var)?.trim()).ok_or(EnvError::Invalid {
            var,
            value: None,
            expected: "a launch secret",
        })
    }

    /// The launch secret in `var` (hex): every key; its value is never shown.
    pub(crate) fn secret(&self, var: &'static str) -> Result<Keyring, EnvError> {
        Ok(Keyring::secret(&self.launch_secret(var)?))
    }

    /// The keys in `var`: a keyring's text, or a launch secret (hex); never shown.
    pub(crate) fn keys(&self, var: &'static str) -> Result<Keyring, EnvError> {
        Keyring::parse(&self.get(var)?).ok_or(EnvError::Invalid {
            var,
            value: None,
            expected: "a launch secret or the keys the batch script gives",
        })
    }

    /// The keys in the file `var` names (a launch secret, or a keyring's text; surrounding
    /// white space ignored); they are never shown. At most [`MAX_KEYS_FILE`] bytes are read.
    pub(crate) fn keys_file(&self, var: &'static str) -> Result<Keyring, EnvError> {
        let path =
            PathBuf::from(std::env::var_os(var).ok_or(EnvError::Missing { var, by: self.by })?);
        read_keys_file(&path).map_err(|problem| EnvError::SecretFile { var, path, problem })
    }
}

/// The most a keys file may hold: a Kubernetes Secret's limit.
pub(crate) const MAX_KEYS_FILE: u64 = 1 << 20;

/// The keys in the file at `path`.
fn read_keys_file(path: &std::path::Path) -> Result<Keyring, SecretFileProblem> {
    let file = std::fs::File::open(path).map_err(SecretFileProblem::Read)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEYS_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(SecretFileProblem::Read)?;
    if bytes.len() as u64 > MAX_KEYS_FILE {
        return Err(SecretFileProblem::NotKeys);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| SecretFileProblem::NotKeys)?;
    Keyring::parse(text).ok_or(SecretFileProblem::NotKeys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(contents: Option<&[u8]>) -> Result<Keyring, SecretFileProblem> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret");
        if let Some(contents) = contents {
            std::fs::write(&path, contents).expect("write");
        }
        read_keys_file(&path)
    }

    #[test]
    fn a_keys_file_holds_a_secret_or_a_keyring() {
        let secret = Secret::from_hex(&"ab".repeat(32)).unwrap();
        let all = Keyring::launch(&secret, 8);
        let read = problem(Some(format!("{}\n", secret.to_hex()).as_bytes())).expect("a secret");
        assert_eq!(read.node(7), all.node(7));
        let some = all.narrowed([2]);
        let read = problem(Some(some.to_text().as_bytes())).expect("a keyring");
        assert_eq!((read.node(2), read.node(7)), (all.node(2), None));
        assert!(matches!(problem(None), Err(SecretFileProblem::Read(_))));
        let huge = vec![b'a'; MAX_KEYS_FILE as usize + 1];
        for bad in [&b"xyz"[..], b"", &[0xff; 64], &huge] {
            assert!(
                matches!(problem(Some(bad)), Err(SecretFileProblem::NotKeys)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_secret_file_error_names_the_file_and_what_to_do() {
        let error = EnvError::SecretFile {
            var: "LP_SECRET_FILE",
            path: PathBuf::from("/nowhere/secret"),
            problem: SecretFileProblem::NotKeys,
        };
        let text = crate::error::chain(&error);
        assert!(text.contains("`/nowhere/secret`"), "{text}");
        assert!(text.contains("`LP_SECRET_FILE`"), "{text}");
        assert!(text.contains("mount the job's Secret"), "{text}");
        assert!(
            text.ends_with(
                "does not hold a launch secret (64 hex digits) or the keys the manifests give"
            ),
            "{text}"
        );
    }
}
