//! Program flags: the params of a program, declared by generated code as [`Flag`]s, parsed by
//! a clap `Command` built at runtime, and read back typed through [`FlagValues`].

use std::collections::BTreeMap;
use std::time::Duration;

/// One param of a program, as a command-line flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The param's name (`num_producers`); accepted as `--num_producers` and `--num-producers`.
    pub name: &'static str,
    /// The param's type as written in `.lp` (`u32`, `Duration`, ...), checked at parse time.
    pub ty: &'static str,
    /// The param's doc comment: the flag's help text.
    pub help: &'static str,
    /// The default value as it would be typed on the command line; `None` makes the flag
    /// required.
    pub default: Option<&'static str>,
}

/// A flag value that does not parse, or a required flag that is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FlagError(pub String);

/// The parsed flag values, by param name.
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    /// The raw value of each param, after defaults.
    values: BTreeMap<String, String>,
}

impl FlagValues {
    /// Values from `(name, raw value)` pairs (for tests and other front ends).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        FlagValues {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Every param's raw value, by name (what cluster launchers pass on as flags).
    pub(crate) fn raw(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of param `name`, parsed as `T`.
    pub fn get<T: ParseFlag>(&self, name: &str) -> Result<T, FlagError> {
        let raw = self
            .values
            .get(name)
            .ok_or_else(|| FlagError(format!("missing value for `--{name}`")))?;
        T::parse_flag(raw)
            .map_err(|e| FlagError(format!("invalid value `{raw}` for `--{name}`: {e}")))
    }
}

/// A type a param can have: parsed from its command-line text.
pub trait ParseFlag: Sized {
    /// Parses the flag's text; the error says what was expected.
    fn parse_flag(raw: &str) -> Result<Self, ParseFlagError>;
}

/// Why a flag's text is not a value of the param's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseFlagError {
    /// It is not of the form the type takes.
    #[error("expected {0}")]
    Expected(&'static str),
    /// It is of the right form, and too large or too small for the type.
    #[error("out of range: expected {0}")]
    OutOfRange(&'static str),
    /// It is a duration too long for a `Duration` of milliseconds.
    #[error("the duration is too long")]
    TooLong,
}

macro_rules! parse_integers {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl ParseFlag for $t {
            fn parse_flag(raw: &str) -> Result<Self, ParseFlagError> {
                let text = raw.trim().replace('_', "");
                text.parse::<$t>().map_err(|_| match is_integer(&text) {
                    true => ParseFlagError::OutOfRange($what),
                    false => ParseFlagError::Expected($what),
                })
            }
        }
    )*};
}

macro_rules! parse_floats {
    ($($t:ty),* $(,)?) => {$(
        impl ParseFlag for $t {
            fn parse_flag(raw: &str) -> Result<Self, ParseFlagError> {
                match raw.trim().replace('_', "").parse::<$t>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    Ok(_) => Err(ParseFlagError::OutOfRange("a finite number")),
                    Err(_) => Err(ParseFlagError::Expected("a number")),
                }
            }
        }
    )*};
}

/// Whether `text` is an integer (a sign, then digits), whatever its size.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

parse_integers! {
    u8 => "an integer from 0 to 255",
    u16 => "an integer from 0 to 65535",
    u32 => "an integer from 0 to 4294967295",
    u64 => "an integer from 0 to 18446744073709551615",
    usize => "an integer from 0 to 18446744073709551615",
    i8 => "an integer from -128 to 127",
    i16 => "an integer from -32768 to 32767",
    i32 => "an integer from -2147483648 to 2147483647",
    i64 => "an integer from -9223372036854775808 to 9223372036854775807",
    isize => "an integer from -9223372036854775808 to 9223372036854775807",
}

parse_floats!(f32, f64);

impl ParseFlag for bool {
    fn parse_flag(raw: &str) -> Result<Self, ParseFlagError> {
        match raw.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ParseFlagError::Expected("`true` or `false`")),
        }
    }
}

impl ParseFlag for String {
    fn parse_flag(raw: &str) -> Result<Self, ParseFlagError> {
        Ok(raw.to_string())
    }
}

impl ParseFlag for Duration {
    fn parse_flag(raw: &str) -> Result<Self, ParseFlagError> {
        parse_duration(raw)
    }
}

/// Parses `250ms`, `2s`, `5m`, `1h` (an integer with a unit; `_` separators allowed).
pub(crate) fn parse_duration(raw: &str) -> Result<Duration, ParseFlagError> {
    let expected = || ParseFlagError::Expected("a duration like `250ms`, `2s`, `5m` or `1h`");
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .ok_or_else(expected)?;
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.replace('_', "").parse().map_err(|_| expected())?;
    let per_unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(expected()),
    };
    n.checked_mul(per_unit_ms)
        .map(Duration::from_millis)
        .ok_or(ParseFlagError::TooLong)
}

/// Checks a raw value against a param type name, for clap's error at parse time.
fn check(ty: &str, raw: &str) -> Result<(), ParseFlagError> {
    match ty {
        "bool" => bool::parse_flag(raw).map(drop),
        "u8" => u8::parse_flag(raw).map(drop),
        "u16" => u16::parse_flag(raw).map(drop),
        "u32" => u32::parse_flag(raw).map(drop),
        "u64" => u64::parse_flag(raw).map(drop),
        "usize" => usize::parse_flag(raw).map(drop),
        "i8" => i8::parse_flag(raw).map(drop),
        "i16" => i16::parse_flag(raw).map(drop),
        "i32" => i32::parse_flag(raw).map(drop),
        "i64" => i64::parse_flag(raw).map(drop),
        "isize" => isize::parse_flag(raw).map(drop),
        "f32" => f32::parse_flag(raw).map(drop),
        "f64" => f64::parse_flag(raw).map(drop),
        "Duration" => parse_duration(raw).map(drop),
        _ => Ok(()),
    }
}

/// The launcher's own flags.
pub(crate) mod launcher {
    /// `--lp_launch_type`.
    pub(crate) const LAUNCH_TYPE: &str = "lp_launch_type";
    /// `--lp_termination_notice_secs`.
    pub(crate) const TERMINATION_NOTICE: &str = "lp_termination_notice_secs";
    /// `--lp_terminal`.
    pub(crate) const TERMINAL: &str = "lp_terminal";
    /// `--lp_log_dir`.
    pub(crate) const LOG_DIR: &str = "lp_log_dir";
    /// `--lp_dashboard`.
    pub(crate) const DASHBOARD: &str = "lp_dashboard";
    /// `--lp_seed`.
    pub(crate) const SEED: &str = "lp_seed";
}

/// The launcher's aliases that no param takes (a param `launch_type` wins `--launch_type`):
/// params and the launcher's own `--lp_…` flags never clash.
fn free(aliases: &[&'static str], params: &[Flag]) -> Vec<&'static str> {
    aliases
        .iter()
        .copied()
        .filter(|alias| {
            !params
                .iter()
                .any(|f| f.name == *alias || f.name.replace('_', "-") == *alias)
        })
        .collect()
}

/// `--lp_termination_notice_secs`: a number of seconds a `Duration` can hold.
fn parse_notice(raw: &str) -> Result<Duration, String> {
    let secs: f64 = raw
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_string())?;
    if secs < 0.0 {
        return Err("out of range: expected 0 seconds (kill at once) or more".into());
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("out of range: expected at most {} seconds", u64::MAX))
}

/// The grace period `--lp_termination_notice_secs` gives (10 s by default).
pub(crate) fn termination_notice(matches: &clap::ArgMatches) -> Duration {
    matches
        .get_one::<Duration>(launcher::TERMINATION_NOTICE)
        .copied()
        .unwrap_or(Duration::from_secs(10))
}

/// Where `--lp_dashboard` serves the dashboard: `off`, or an address (`127.0.0.1:8080`;
/// port 0: a free port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DashboardAddr(pub(crate) Option<std::net::SocketAddr>);

/// `--lp_dashboard`: `off` or `HOST:PORT`.
fn parse_dashboard(raw: &str) -> Result<DashboardAddr, String> {
    match raw.trim() {
        "off" => Ok(DashboardAddr(None)),
        addr => addr.parse().map(|a| DashboardAddr(Some(a))).map_err(|_| {
            "expected `off` or an address and port like `127.0.0.1:8080` (port 0: any free port)"
                .to_string()
        }),
    }
}

/// The seed `--lp_seed` gives a `sim` launch (0 by default).
#[cfg(feature = "sim")]
pub(crate) fn seed(matches: &clap::ArgMatches) -> u64 {
    matches.get_one::<u64>(launcher::SEED).copied().unwrap_or(0)
}

/// Where `--lp_dashboard` serves the dashboard (`127.0.0.1:0` by default), if anywhere.
pub(crate) fn dashboard(matches: &clap::ArgMatches) -> Option<std::net::SocketAddr> {
    matches
        .get_one::<DashboardAddr>(launcher::DASHBOARD)
        .map_or(Some(DEFAULT_DASHBOARD), |d| d.0)
}

/// Where `--lp_dashboard` serves the dashboard if it was given: a cluster launch serves none
/// unless asked.
pub(crate) fn dashboard_asked(matches: &clap::ArgMatches) -> Option<std::net::SocketAddr> {
    let given = matches.value_source(launcher::DASHBOARD);
    match given {
        Some(clap::parser::ValueSource::CommandLine) => dashboard(matches),
        _ => None,
    }
}

/// Where the dashboard is served by default: loopback, a free port.
const DEFAULT_DASHBOARD: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
);

/// The binary's command: the launcher flags, then one flag per param.
pub(crate) fn command(program: &'static str, about: &'static str, flags: &[Flag]) -> clap::Command {
    use clap::{Arg, ArgAction};
    let mut cmd = clap::Command::new(program)
        .about(about)
        .arg(
            Arg::new(launcher::LAUNCH_TYPE)
                .long(launcher::LAUNCH_TYPE)
                .aliases(free(&["launch-type", "launch_type", "lp-launch-type"], flags))
                .value_name("TYPE")
                .value_parser(["local_mt", "local_mp", "test_mt", "test_mp", "k8s", "slurm", "sim"])
                .default_value("local_mt")
                .action(ArgAction::Set)
                .help("How to launch the program: every node as threads of one process (local_mt), as its own process (local_mp), on a cluster (k8s, slurm: writes the engine's job description), or on simulated hosts under a simulated network and clock (sim, see --lp_seed)"),
        )
        .arg(
            Arg::new(launcher::SEED)
                .long(launcher::SEED)
                .aliases(free(&["lp-seed"], flags))
                .value_name("N")
                .value_parser(clap::value_parser!(u64))
                .default_value("0")
                .action(ArgAction::Set)
                .help("The seed of a sim launch: the same seed runs the same schedule, with the same output"),
        )
        .arg(
            Arg::new(launcher::TERMINATION_NOTICE)
                .long(launcher::TERMINATION_NOTICE)
                .aliases(free(&["lp-termination-notice-secs"], flags))
                .value_name("SECS")
                .value_parser(parse_notice)
                .allow_negative_numbers(true)
                .default_value("10")
                .action(ArgAction::Set)
                .help("Seconds nodes get to stop after a stop request before they are killed"),
        )
        .arg(
            Arg::new(launcher::TERMINAL)
                .long(launcher::TERMINAL)
                .aliases(free(&["lp-terminal"], flags))
                .value_name("WHERE")
                .value_parser(["current_terminal", "output_to_files", "tmux"])
                .default_value("current_terminal")
                .action(ArgAction::Set)
                .help("Where local_mp nodes' output goes: this terminal, prefixed with each node's label; one file per node under --lp_log_dir; or those files shown in one tmux window per node"),
        )
        .arg(
            Arg::new(launcher::LOG_DIR)
                .long(launcher::LOG_DIR)
                .aliases(free(&["lp-log-dir"], flags))
                .value_name("DIR")
                .default_value("lp_logs")
                .action(ArgAction::Set)
                .help("The directory of the per-node log files of --lp_terminal output_to_files and tmux"),
        )
        .arg(
            Arg::new(launcher::DASHBOARD)
                .long(launcher::DASHBOARD)
                .aliases(free(&["lp-dashboard"], flags))
                .value_name("ADDR")
                .value_parser(parse_dashboard)
                .default_value("127.0.0.1:0")
                .action(ArgAction::Set)
                .help("Where local_mt and local_mp serve the live dashboard (a web page, a JSON API, /metrics): HOST:PORT (port 0: a free port), or off; k8s and slurm: where the coordinator serves it, only when given"),
        );
    cmd = crate::launch::cluster::args(cmd, flags);
    for flag in flags {
        let ty = flag.ty;
        let mut arg = Arg::new(flag.name)
            .long(flag.name)
            .value_name(flag.ty.to_uppercase())
            .help(flag.help)
            .action(ArgAction::Set)
            .allow_negative_numbers(true)
            .value_parser(move |raw: &str| check(ty, raw).map(|()| raw.to_string()));
        let kebab = flag.name.replace('_', "-");
        if kebab != flag.name {
            arg = arg.alias(kebab);
        }
        arg = match flag.default {
            Some(default) => arg.default_value(default),
            None => arg.required(true),
        };
        cmd = cmd.arg(arg);
    }
    cmd
}

/// The param values from parsed matches.
pub(crate) fn values(matches: &clap::ArgMatches, flags: &[Flag]) -> FlagValues {
    FlagValues {
        values: flags
            .iter()
            .filter_map(|f| {
                matches
                    .get_one::<String>(f.name)
                    .map(|v| (f.name.to_string(), v.clone()))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag {
            name: "num_producers",
            ty: "u32",
            help: "The number of concurrent producers.",
            default: Some("2"),
        },
        Flag {
            name: "timeout",
            ty: "Duration",
            help: "How long.",
            default: None,
        },
    ];

    fn parse(args: &[&str]) -> Result<FlagValues, clap::Error> {
        let m = command("p", "about", FLAGS).try_get_matches_from(args)?;
        Ok(values(&m, FLAGS))
    }

    #[test]
    fn accepts_every_spelling() {
        for args in [
            &["p", "--num_producers=4", "--timeout=2s"][..],
            &["p", "--num_producers", "4", "--timeout", "2s"],
            &["p", "--num-producers", "4", "--timeout", "2s"],
        ] {
            let v = parse(args).unwrap();
            assert_eq!(v.get::<u32>("num_producers").unwrap(), 4);
            assert_eq!(
                v.get::<Duration>("timeout").unwrap(),
                Duration::from_secs(2)
            );
        }
    }

    #[test]
    fn defaults_and_required() {
        let v = parse(&["p", "--timeout", "250ms"]).unwrap();
        assert_eq!(v.get::<u32>("num_producers").unwrap(), 2);
        let e = parse(&["p"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn bad_values_are_clap_errors() {
        let e = parse(&["p", "--timeout", "2s", "--num_producers=-1"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert_eq!(e.exit_code(), 2);
        let e = parse(&["p", "--timeout", "2 parsecs"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1_000ms").unwrap(), Duration::from_secs(1));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn numbers_out_of_range_say_the_range() {
        assert_eq!(
            u32::parse_flag("-1"),
            Err(ParseFlagError::OutOfRange(
                "an integer from 0 to 4294967295"
            ))
        );
        assert_eq!(
            u8::parse_flag("256"),
            Err(ParseFlagError::OutOfRange("an integer from 0 to 255"))
        );
        assert_eq!(
            i64::parse_flag("99999999999999999999"),
            Err(ParseFlagError::OutOfRange(
                "an integer from -9223372036854775808 to 9223372036854775807"
            ))
        );
        assert_eq!(i8::parse_flag("-128"), Ok(-128));
        assert_eq!(u64::parse_flag("1_000"), Ok(1000));
        assert_eq!(
            u16::parse_flag("12x"),
            Err(ParseFlagError::Expected("an integer from 0 to 65535"))
        );
        assert_eq!(
            f32::parse_flag("1e300"),
            Err(ParseFlagError::OutOfRange("a finite number"))
        );
        assert_eq!(
            f64::parse_flag("nan"),
            Err(ParseFlagError::OutOfRange("a finite number"))
        );
        assert_eq!(f64::parse_flag("-2.5"), Ok(-2.5));
    }

    #[test]
    fn the_dashboard_is_on_loopback_by_default_an_address_or_off() {
        let flags = |args: &[&str]| {
            command("p", "about", FLAGS)
                .try_get_matches_from(args)
                .map(|m| dashboard(&m))
        };
        let on = flags(&["p", "--timeout", "1s"]).unwrap();
        assert_eq!(on, Some(DEFAULT_DASHBOARD));
        let off = flags(&["p", "--timeout", "1s", "--lp_dashboard", "off"]).unwrap();
        assert_eq!(off, None);
        let at = flags(&["p", "--timeout", "1s", "--lp-dashboard=127.0.0.1:8080"]).unwrap();
        assert_eq!(at, Some("127.0.0.1:8080".parse().unwrap()));
        let e = flags(&["p", "--timeout", "1s", "--lp_dashboard", "8080"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--lp_dashboard"), "{e}");
    }

    #[test]
    fn a_cluster_dashboard_is_served_only_when_asked() {
        let asked = |args: &[&str]| {
            let matches = command("p", "about", FLAGS).try_get_matches_from(args);
            dashboard_asked(&matches.unwrap())
        };
        assert_eq!(asked(&["p", "--timeout", "1s"]), None);
        let at = asked(&["p", "--timeout", "1s", "--lp_dashboard=127.0.0.1:8080"]);
        assert_eq!(at, Some("127.0.0.1:8080".parse().unwrap()));
        let off = asked(&["p", "--timeout", "1s", "--lp_dashboard", "off"]);
        assert_eq!(off, None);
    }

    #[test]
    fn the_notice_is_a_duration_or_an_error_naming_the_flag() {
        assert_eq!(parse_notice("0"), Ok(Duration::ZERO));
        assert_eq!(parse_notice("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_notice("-1").unwrap_err().contains("0 seconds"));
        assert!(parse_notice("1e300").unwrap_err().contains("at most"));
        assert!(parse_notice("soon").unwrap_err().contains("seconds"));
        let e = parse(&["p", "--timeout", "1s", "--lp_termination_notice_secs", "-1"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("--lp_termination_notice_secs"),
            "{e}"
        );
        let e = parse(&["p", "--timeout", "1s", "--num_producers", "-1"]).unwrap_err();
        assert!(e.to_string().contains("--num_producers"), "{e}");
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
