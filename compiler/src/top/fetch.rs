//! Reading a launch's dashboard API: where it is, and a GET of one of its JSON documents.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a launch's dashboard cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The argument is neither a dashboard URL nor a launch directory with one.
    #[error("`{0}` is not a dashboard URL (http://HOST:PORT/?token=…) nor a launch directory holding `{file}`", file = lp_dirs::DASHBOARD_URL_FILE)]
    NotALaunch(String),
    /// No running launch was found, or several were.
    #[error("{0}")]
    Which(String),
    /// The URL is not of the form the launcher prints.
    #[error("`{0}` is not a dashboard URL: expected http://HOST:PORT/?token=TOKEN")]
    BadUrl(String),
    /// The dashboard cannot be reached.
    #[error("cannot reach the dashboard at {addr}: the launch has ended, or the address is wrong")]
    Unreachable {
        /// Where it was looked for.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It answered something else than a document.
    #[error("the dashboard answered {status} to {path}")]
    Status {
        /// The request's path.
        path: String,
        /// The status line.
        status: String,
    },
    /// `--node` names no node of the launch.
    #[error("the launch has no node `{0}`")]
    NoNode(String),
    /// The document is not the JSON expected.
    #[error("the dashboard's {path} is not the JSON lpc expects")]
    Json {
        /// The request's path.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// A launch's dashboard: its address and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// `HOST:PORT`.
    pub addr: String,
    /// The launch's token.
    pub token: String,
}

impl Dashboard {
    /// Parses a URL as the launcher prints it.
    pub fn from_url(url: &str) -> Result<Dashboard, FetchError> {
        let bad = || FetchError::BadUrl(url.to_string());
        let rest = url.trim().strip_prefix("http://").ok_or_else(bad)?;
        let (addr, query) = rest.split_once('/').ok_or_else(bad)?;
        let token = query
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or_else(bad)?;
        Ok(Dashboard {
            addr: addr.to_string(),
            token: token.to_string(),
        })
    }

    /// Finds the dashboard `target` names: a URL, a launch directory, or (none) the only
    /// running `local_mp` launch of this user.
    pub fn find(target: Option<&str>) -> Result<Dashboard, FetchError> {
        match target {
            Some(url) if url.starts_with("http://") => Dashboard::from_url(url),
            Some(dir) => {
                read_url_file(Path::new(dir)).ok_or_else(|| FetchError::NotALaunch(dir.to_string()))
            }
            None => only_launch(),
        }
    }

    /// GETs `path` and parses its JSON.
    pub fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        let body = self.get_text(path)?;
        serde_json::from_str(&body).map_err(|source| FetchError::Json {
            path: path.to_string(),
            source,
        })
    }

    /// GETs `path`: its body.
    fn get_text(&self, path: &str) -> Result<String, FetchError> {
        let unreachable = |source| FetchError::Unreachable {
            addr: self.addr.clone(),
            source,
        };
        let addr: SocketAddr = self
            .addr
            .to_socket_addrs()
            .map_err(unreachable)?
            .next()
            .ok_or_else(|| FetchError::BadUrl(self.addr.clone()))?;
        let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .map_err(unreachable)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.addr, self.token
        );
        stream.write_all(request.as_bytes()).map_err(unreachable)?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).map_err(unreachable)?;
        if !status.starts_with("HTTP/1.1 200") {
            return Err(FetchError::Status {
                path: path.to_string(),
                status: status.trim().to_string(),
            });
        }
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).map_err(unreachable)?;
            if line.trim().is_empty() {
                break;
            }
        }
        let mut body = String::new();
        reader.read_to_string(&mut body).map_err(unreachable)?;
        Ok(body)
    }
}

/// The dashboard a launch directory names, if it holds one.
fn read_url_file(dir: &Path) -> Option<Dashboard> {
    let url = std::fs::read_to_string(dir.join(lp_dirs::DASHBOARD_URL_FILE)).ok()?;
    Dashboard::from_url(&url).ok()
}

/// The running launches of this user that serve a dashboard: their directories.
fn launches() -> Vec<PathBuf> {
    // Every place a launch may have made its directory, since it may have run with another
    // environment.
    let mut found: Vec<PathBuf> = lp_dirs::bases()
        .iter()
        .filter_map(|base| std::fs::read_dir(base).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.path())
        .filter(|path| {
            let pid = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(lp_dirs::launcher_pid);
            pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
                && path.join(lp_dirs::DASHBOARD_URL_FILE).is_file()
        })
        .collect();
    found.sort();
    found
}

/// The only running launch's dashboard; an error listing them when there are several.
fn only_launch() -> Result<Dashboard, FetchError> {
    let found = launches();
    match found.as_slice() {
        [one] => read_url_file(one).ok_or_else(|| FetchError::NotALaunch(one.display().to_string())),
        [] => Err(FetchError::Which(
            "no running `local_mp` launch with a dashboard was found: give the URL the launcher printed (`lpc top http://127.0.0.1:PORT/?token=…`)".into(),
        )),
        several => Err(FetchError::Which(format!(
            "{} launches are running; name one: {}",
            several.len(),
            several
                .iter()
                .map(|d| format!("`lpc top {}`", d.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_launcher_prints_them() {
        assert_eq!(
            Dashboard::from_url("http://127.0.0.1:4242/?token=abc123").unwrap(),
            Dashboard {
                addr: "127.0.0.1:4242".into(),
                token: "abc123".into()
            }
        );
        for bad in [
            "https://127.0.0.1:1/?token=a",
            "http://127.0.0.1:1",
            "http://127.0.0.1:1/?t=a",
            "http://127.0.0.1:1/?token=",
            "http://127.0.0.1:1/?token=a b\r\n",
        ] {
            assert!(Dashboard::from_url(bad).is_err(), "{bad}");
        }
    }
}
