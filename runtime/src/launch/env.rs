//! What a process started by a launcher or a cluster engine reads from its environment, and
//! why it may not make sense of it.

use std::str::FromStr;

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

    /// The launch secret in `var` (hex); its value is never shown.
    pub(crate) fn secret(
        &self,
        var: &'static str,
    ) -> Result<crate::transport::frame::Secret, EnvError> {
        crate::transport::frame::Secret::from_hex(self.get(var)?.trim()).ok_or(EnvError::Invalid {
            var,
            value: None,
            expected: "a launch secret",
        })
    }
}
