//! The address book of a cluster launch: where node `id` serves, as a `SocketAddr`.
//!
//! - Kubernetes ([`Book::dns`]): node `k` of the unit with rank `i` in job `j` serves on
//!   `<J>-<i>.<service>.<namespace>.svc`, where `J` is the Kubernetes Job's name for `j`
//!   ([`Names::job`]), port `LP_PORT + 1 + k` (each pod has its own IP, so the ports are the
//!   same in every pod). The coordinator is pod 0 of the Job for `lp-coordinator`, port
//!   `LP_PORT`. Names resolve by DNS, or through the `LP_HOSTS` override (tests: every pod a
//!   local process, in its own network namespace or on loopback with its own ports).
//! - Slurm ([`Book::table`]): every process listens on ports the kernel picks and tells the
//!   coordinator, which hands the full table to everyone when the last process has joined, and
//!   again whenever a restarted process (perhaps on another node) is ready.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, PoisonError, RwLock};

use futures::future::BoxFuture;

use super::k8s::Names;
use super::{vars, Plan, COORDINATOR, DEFAULT_PORT};
use crate::launch::env::EnvError;
use crate::transport::tcp::{Resolve, ResolveError};

/// Maps node ids (and the coordinator) to socket addresses.
pub(crate) enum Book {
    /// Kubernetes: DNS names of the pods.
    Dns(Dns),
    /// Slurm: the table from the coordinator, set when the rendezvous completes and again
    /// after a restart.
    Table {
        /// Addresses by node id (`None` for a node that serves nothing); `None` until set.
        table: RwLock<Option<Vec<Option<SocketAddr>>>>,
        /// The coordinator's `host:port` (`LP_RENDEZVOUS`).
        coordinator: String,
    },
}

/// Kubernetes addressing.
pub(crate) struct Dns {
    /// The host name of each node, by id.
    hosts: Vec<String>,
    /// The port offset of each node in its pod (`1 + k`).
    offsets: Vec<u16>,
    /// The coordinator's host name.
    coordinator: String,
    /// `LP_PORT`.
    port: u16,
    /// The `LP_HOSTS` override.
    overrides: Overrides,
}

/// A test override of DNS names (`LP_HOSTS`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides(HashMap<String, (IpAddr, Option<u16>)>);

impl Overrides {
    /// Parses `name=ip` / `name=ip:port` pairs, comma separated.
    pub(crate) fn parse(raw: &str) -> Result<Overrides, EnvError> {
        let mut map = HashMap::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || EnvError::Invalid {
                var: vars::HOSTS,
                value: Some(entry.to_string()),
                expected: "a list of `name=ip` or `name=ip:port`",
            };
            let (name, addr) = entry.split_once('=').ok_or_else(bad)?;
            let parsed = match addr.parse::<SocketAddr>() {
                Ok(sa) => (sa.ip(), Some(sa.port())),
                Err(_) => (addr.parse::<IpAddr>().map_err(|_| bad())?, None),
            };
            map.insert(name.trim().to_string(), parsed);
        }
        Ok(Overrides(map))
    }

    /// From the environment (empty when `LP_HOSTS` is unset).
    pub(crate) fn from_env() -> Result<Overrides, EnvError> {
        match std::env::var(vars::HOSTS) {
            Ok(raw) => Overrides::parse(&raw),
            Err(_) => Ok(Overrides::default()),
        }
    }

    fn get(&self, host: &str) -> Option<(IpAddr, Option<u16>)> {
        self.0.get(host).copied()
    }
}

/// The host name of the pod with `rank` in Kubernetes job `job`.
pub(crate) fn pod_host(job: &str, rank: usize, service: &str, namespace: &str) -> String {
    format!("{job}-{rank}.{service}.{namespace}.svc")
}

impl Book {
    /// Kubernetes addressing for `plan` in `service`/`namespace`.
    pub(crate) fn dns(
        plan: &Plan,
        service: &str,
        namespace: &str,
        port: u16,
        overrides: Overrides,
    ) -> Book {
        let names = Names::of_service(service);
        let mut hosts = vec![String::new(); plan.labels.len()];
        let mut offsets = vec![0u16; plan.labels.len()];
        for unit in &plan.units {
            let job = names.job(&plan.jobs[unit.job].name);
            for (k, &id) in unit.nodes.iter().enumerate() {
                if let Some(slot) = hosts.get_mut(id) {
                    *slot = pod_host(&job, unit.rank, service, namespace);
                }
                if let Some(slot) = offsets.get_mut(id) {
                    *slot = u16::try_from(k + 1).unwrap_or(u16::MAX);
                }
            }
        }
        Book::Dns(Dns {
            hosts,
            offsets,
            coordinator: pod_host(&names.job(COORDINATOR), 0, service, namespace),
            port,
            overrides,
        })
    }

    /// Slurm addressing: filled by [`set_table`](Self::set_table) at the rendezvous.
    pub(crate) fn table(coordinator: String) -> Book {
        Book::Table {
            table: RwLock::new(None),
            coordinator,
        }
    }

    /// Sets the table handed out by the coordinator (Slurm), in place of any earlier one;
    /// ignored for DNS addressing.
    pub(crate) fn set_table(&self, addrs: Vec<Option<SocketAddr>>) {
        if let Book::Table { table, .. } = self {
            *table.write().unwrap_or_else(PoisonError::into_inner) = Some(addrs);
        }
    }

    /// Where this process listens for node `id`: the port every other process will dial
    /// (Kubernetes), or any free port (Slurm: the coordinator learns it).
    pub(crate) fn listen_addr(&self, id: usize) -> SocketAddr {
        match self {
            Book::Dns(dns) => {
                let offset = dns.offsets.get(id).copied().unwrap_or(0);
                let host = dns.hosts.get(id).map_or("", String::as_str);
                match dns.overrides.get(host) {
                    Some((ip, port)) => {
                        SocketAddr::new(ip, port.unwrap_or(dns.port).saturating_add(offset))
                    }
                    None => {
                        SocketAddr::new(IpAddr::from([0, 0, 0, 0]), dns.port.saturating_add(offset))
                    }
                }
            }
            Book::Table { .. } => SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 0),
        }
    }

    /// Where the coordinator listens.
    pub(crate) async fn coordinator_listen_addr(&self) -> Result<SocketAddr, EnvError> {
        match self {
            Book::Dns(dns) => Ok(match dns.overrides.get(&dns.coordinator) {
                Some((ip, port)) => SocketAddr::new(ip, port.unwrap_or(dns.port)),
                None => SocketAddr::new(IpAddr::from([0, 0, 0, 0]), dns.port),
            }),
            Book::Table { coordinator, .. } => {
                let port = coordinator
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                    .ok_or_else(|| EnvError::Invalid {
                        var: vars::RENDEZVOUS,
                        value: Some(coordinator.clone()),
                        expected: "`host:port`",
                    })?;
                Ok(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port))
            }
        }
    }

    /// The coordinator's address, resolved now.
    pub(crate) async fn coordinator(&self) -> Result<SocketAddr, ResolveError> {
        match self {
            Book::Dns(dns) => dns.resolve(&dns.coordinator, 0).await,
            Book::Table { coordinator, .. } => lookup(coordinator).await,
        }
    }
}

impl Dns {
    async fn resolve(&self, host: &str, offset: u16) -> Result<SocketAddr, ResolveError> {
        if let Some((ip, port)) = self.overrides.get(host) {
            return Ok(SocketAddr::new(
                ip,
                port.unwrap_or(self.port).saturating_add(offset),
            ));
        }
        lookup(&format!("{host}:{}", self.port.saturating_add(offset))).await
    }
}

async fn lookup(host_port: &str) -> Result<SocketAddr, ResolveError> {
    match tokio::net::lookup_host(host_port).await {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| ResolveError::NoAddress(host_port.to_string())),
        Err(source) => Err(ResolveError::Lookup {
            host: host_port.to_string(),
            source,
        }),
    }
}

impl Resolve for Book {
    fn resolve(&self, node: usize) -> BoxFuture<'_, Result<SocketAddr, ResolveError>> {
        Box::pin(async move {
            match self {
                Book::Dns(dns) => {
                    let host = dns.hosts.get(node).ok_or(ResolveError::NoServer(node))?;
                    let offset = dns.offsets.get(node).copied().unwrap_or(0);
                    dns.resolve(host, offset).await
                }
                Book::Table { table, .. } => {
                    match &*table.read().unwrap_or_else(PoisonError::into_inner) {
                        None => Err(ResolveError::NotYet),
                        Some(table) => table
                            .get(node)
                            .copied()
                            .flatten()
                            .ok_or(ResolveError::NoServer(node)),
                    }
                }
            }
        })
    }
}

/// The coordinator as a [`Resolve`] target (its node id is ignored).
pub(crate) struct CoordinatorOf(pub(crate) Arc<Book>);

impl Resolve for CoordinatorOf {
    fn resolve(&self, _: usize) -> BoxFuture<'_, Result<SocketAddr, ResolveError>> {
        Box::pin(self.0.coordinator())
    }
}

/// `LP_PORT`, or the default.
pub(crate) fn port_from_env() -> Result<u16, EnvError> {
    match std::env::var(vars::PORT) {
        Ok(raw) => raw
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0 && *p < u16::MAX - 1024)
            .ok_or(EnvError::Invalid {
                var: vars::PORT,
                value: Some(raw),
                expected: "a port (1 to 64510)",
            }),
        Err(_) => Ok(DEFAULT_PORT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_and_reject() {
        let o = Overrides::parse("a.svc=10.0.0.2, b.svc=127.0.0.1:9000").unwrap();
        assert_eq!(o.get("a.svc"), Some(("10.0.0.2".parse().unwrap(), None)));
        assert_eq!(
            o.get("b.svc"),
            Some(("127.0.0.1".parse().unwrap(), Some(9000)))
        );
        let e = Overrides::parse("a.svc").unwrap_err().to_string();
        assert!(e.contains("name=ip"), "{e}");
        assert!(Overrides::parse("a=not-an-ip").is_err());
        assert!(Overrides::parse("").unwrap().0.is_empty());
    }
}
