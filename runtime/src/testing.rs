//! Helpers for tests of lp programs.

use std::path::Path;
use std::time::Duration;

/// How a program binary run by [`run_binary`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryOutput {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Everything it printed: its stdout, then its stderr.
    pub output: String,
}

/// Runs a program binary (e.g. `env!("CARGO_BIN_EXE_my_program")`) with `args` — a launch type,
/// params — and returns how it ended.
///
/// # Panics
///
/// When it cannot be started, or does not finish within `limit` (it is killed first), so that a
/// hung program fails its test instead of hanging it.
///
/// ```no_run
/// # async fn example() {
/// let run = lp::testing::run_binary(
///     "target/debug/consumer_producers",
///     &["--lp_launch_type", "local_mp", "--num_producers", "2"],
///     std::time::Duration::from_secs(60),
/// )
/// .await;
/// assert_eq!(run.code, Some(0), "{}", run.output);
/// # }
/// ```
pub async fn run_binary(binary: impl AsRef<Path>, args: &[&str], limit: Duration) -> BinaryOutput {
    let binary = binary.as_ref();
    let mut command = tokio::process::Command::new(binary);
    command.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} {args:?} did not finish within {limit:?}",
                binary.display()
            )
        })
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    BinaryOutput {
        code: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A TCP connection to a node of a cluster launch (at `addr`, e.g. a pod's), past the
/// handshake, made with the launch secret `secret_hex` (the Kubernetes Secret's value): what a
/// test needs to check how a node treats a peer that knows the secret and sends anything at
/// all. The stream is raw from here on: the caller writes the frames.
///
/// # Errors
///
/// When the connection fails or the node refuses the secret.
pub async fn authenticated_tcp(
    addr: std::net::SocketAddr,
    secret_hex: &str,
) -> std::io::Result<tokio::net::TcpStream> {
    use crate::transport::frame::{self, Secret, ToClient, ToServer};
    use tokio::io::AsyncWriteExt;
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let secret =
        Secret::from_hex(secret_hex.trim()).ok_or_else(|| invalid("not a launch secret"))?;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let nonce = match frame::decode::<ToClient>(&read_hello_frame(&mut stream).await?) {
        Ok(ToClient::Challenge { nonce, .. }) => nonce,
        _ => return Err(invalid("expected a challenge")),
    };
    let hello = frame::encode(&ToServer::Hello {
        protocol: frame::PROTOCOL,
        proof: secret.proof(&nonce),
    })
    .map_err(|_| invalid("cannot encode the hello"))?;
    stream
        .write_all(&(hello.len() as u32).to_be_bytes())
        .await?;
    stream.write_all(&hello).await?;
    match frame::decode::<ToClient>(&read_hello_frame(&mut stream).await?) {
        Ok(ToClient::Welcome) => Ok(stream),
        _ => Err(invalid("the node refused the secret")),
    }
}

/// One frame of a handshake (at most a hello's size).
async fn read_hello_frame(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let len = stream.read_u32().await? as usize;
    if len > crate::transport::frame::MAX_HELLO {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a handshake frame too large",
        ));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    Ok(body)
}
