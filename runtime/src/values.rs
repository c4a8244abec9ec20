//! Values computed from flags: the arithmetic a `.lp` file writes over params, `replica` and
//! `replicas` (group sizes, arguments, indices, block settings), as `lpc` compiled it into a
//! program's `SITES`. Each is evaluated and range-checked once when the program is built, before
//! any node starts, so a bad flag value is a flag error naming the flag, the expression and its
//! place in the `.lp` file; factories evaluate them again, never panicking.
//!
//! The semantics are `lpc`'s constant folding's: integers in `i128` with every operation
//! checked, floats (for a float target) in `f64` with integers converted, division by zero an
//! error in both.

use std::fmt;

/// A number: an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(v) => v as f64,
            Num::Float(f) => f,
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(v) => write!(f, "{v}"),
            Num::Float(v) => write!(f, "{v}"),
        }
    }
}

macro_rules! num_from {
    (int: $($int:ty),*; float: $($float:ty),*) => {
        $(impl From<$int> for Num {
            fn from(v: $int) -> Num {
                Num::Int(v as i128)
            }
        })*
        $(impl From<$float> for Num {
            fn from(v: $float) -> Num {
                Num::Float(v as f64)
            }
        })*
    };
}

num_from!(int: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize; float: f32, f64);

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integers truncate toward zero)
    Div,
    /// `%`
    Rem,
}

/// An expression, as `lpc` compiled it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expr {
    /// An integer literal.
    Int(i128),
    /// A float literal.
    Float(f64),
    /// A numeric param, by its index among the program's params.
    Param(usize),
    /// The replica's index in its group.
    Replica,
    /// The group's size.
    Replicas,
    /// `-e`
    Neg(&'static Expr),
    /// `a op b`
    Binary(Op, &'static Expr, &'static Expr),
}

/// The type a site's value is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Target {
    U8,
    U16,
    U32,
    U64,
    Usize,
    I8,
    I16,
    I32,
    I64,
    Isize,
    F32,
    F64,
}

impl Target {
    fn is_float(self) -> bool {
        matches!(self, Target::F32 | Target::F64)
    }

    fn name(self) -> &'static str {
        match self {
            Target::U8 => "u8",
            Target::U16 => "u16",
            Target::U32 => "u32",
            Target::U64 => "u64",
            Target::Usize => "usize",
            Target::I8 => "i8",
            Target::I16 => "i16",
            Target::I32 => "i32",
            Target::I64 => "i64",
            Target::Isize => "isize",
            Target::F32 => "f32",
            Target::F64 => "f64",
        }
    }

    /// The inclusive range of an integer target (usize/isize as on 64-bit targets).
    fn range(self) -> (i128, i128) {
        match self {
            Target::U8 => (0, u8::MAX.into()),
            Target::U16 => (0, u16::MAX.into()),
            Target::U32 => (0, u32::MAX.into()),
            Target::U64 | Target::Usize => (0, u64::MAX.into()),
            Target::I8 => (i8::MIN.into(), i8::MAX.into()),
            Target::I16 => (i16::MIN.into(), i16::MAX.into()),
            Target::I32 => (i32::MIN.into(), i32::MAX.into()),
            Target::I64 | Target::Isize => (i64::MIN.into(), i64::MAX.into()),
            Target::F32 | Target::F64 => (i128::MIN, i128::MAX),
        }
    }
}

/// One value a program computes when it is built.
#[derive(Debug, PartialEq)]
pub struct Site {
    /// What it is for: "argument `seed` of `actor`", "the count of group `g`".
    pub what: &'static str,
    /// The expression as written.
    pub text: &'static str,
    /// Where: `file.lp:LINE:COL`.
    pub at: &'static str,
    /// The expression.
    pub expr: &'static Expr,
    /// What it converts to.
    pub target: Target,
    /// The least value allowed, beyond the target's range.
    pub min: Option<i128>,
    /// The greatest value allowed, beyond the target's range.
    pub max: Option<i128>,
    /// The group (by its index among the program's nodes) it is computed for, replica by
    /// replica.
    pub group: Option<usize>,
    /// For an index `g[i]`: the index of `g`, whose size bounds it.
    pub bound: Option<usize>,
    /// The params (name, index) it depends on: the flags a bad value is blamed on.
    pub flags: &'static [(&'static str, usize)],
}

/// Why a site has no good value.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// `x / 0` or `x % 0`.
    DivisionByZero,
    /// Beyond 128 bits, or not finite.
    Overflow,
    /// Computed, but outside what its target takes.
    OutOfRange {
        /// The value.
        value: String,
        /// What is allowed, in words.
        allowed: String,
    },
}

/// A value computed from flags that is not good, with everything needed to say why.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    /// The value: what it is for, its expression, where it is written.
    pub site: &'static Site,
    /// For which replica of its group, if it is computed per replica.
    pub replica: Option<usize>,
    /// The flags it depends on, with their values (`--n 1`).
    pub flags: Vec<(&'static str, String)>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.flags.is_empty() {
            let flags: Vec<String> = self
                .flags
                .iter()
                .map(|(name, value)| format!("`--{name} {value}`"))
                .collect();
            write!(f, "with {}, ", flags.join(" and "))?;
        }
        write!(f, "`{}`", self.site.text)?;
        if let Some(replica) = self.replica {
            write!(f, " for replica {replica}")?;
        }
        match &self.problem {
            Problem::DivisionByZero => write!(f, " divides by zero")?,
            Problem::Overflow => write!(f, " overflows")?,
            Problem::OutOfRange { value, allowed } => {
                write!(f, " is {value}, but {} takes {allowed}", self.site.what)?
            }
        }
        if !matches!(self.problem, Problem::OutOfRange { .. }) {
            write!(f, " ({})", self.site.what)?;
        }
        write!(f, ", at {}", self.site.at)
    }
}

/// What a site is evaluated with: the params' numbers and the replica.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) numbers: &'a dyn Fn(usize) -> Num,
    pub(crate) replica: usize,
    pub(crate) replicas: usize,
}

impl Site {
    /// Evaluates and range-checks the site.
    pub(crate) fn eval(&'static self, scope: Scope) -> Result<Num, ValueError> {
        let value =
            eval(self.expr, self.target.is_float(), scope).map_err(|p| self.error(scope, p))?;
        self.fits(value).map_err(|p| self.error(scope, p))?;
        Ok(value)
    }

    /// The site's value as `T`.
    pub(crate) fn value<T: FromNum>(&'static self, scope: Scope) -> Result<T, ValueError> {
        let value = self.eval(scope)?;
        T::from_num(value).ok_or_else(|| {
            let problem = Problem::OutOfRange {
                value: value.to_string(),
                allowed: format!("a `{}`", std::any::type_name::<T>()),
            };
            self.error(scope, problem)
        })
    }

    /// The error `problem` of this site, evaluated in `scope`.
    pub(crate) fn error(&'static self, scope: Scope, problem: Problem) -> ValueError {
        ValueError {
            site: self,
            replica: self.group.map(|_| scope.replica),
            flags: self
                .flags
                .iter()
                .map(|&(name, i)| (name, (scope.numbers)(i).to_string()))
                .collect(),
            problem,
        }
    }

    fn fits(&self, value: Num) -> Result<(), Problem> {
        let (lo, hi) = self.target.range();
        let lo = self.min.map_or(lo, |m| m.max(lo));
        let hi = self.max.map_or(hi, |m| m.min(hi));
        let ok = match value {
            Num::Int(v) => (lo..=hi).contains(&v),
            Num::Float(v) => {
                let finite =
                    v.is_finite() && (self.target != Target::F32 || v.abs() <= f64::from(f32::MAX));
                finite && v >= lo as f64 && v <= hi as f64
            }
        };
        if ok {
            return Ok(());
        }
        let allowed = match (self.target.is_float(), self.min, self.max) {
            (true, Some(min), _) => format!("a finite `{}` of at least {min}", self.target.name()),
            (true, None, _) => format!("a finite `{}`", self.target.name()),
            (false, _, _) => format!("{lo} to {hi}"),
        };
        Err(Problem::OutOfRange {
            value: value.to_string(),
            allowed,
        })
    }
}

fn eval(expr: &Expr, float: bool, scope: Scope) -> Result<Num, Problem> {
    let num = |v: i128| {
        if float {
            Num::Float(v as f64)
        } else {
            Num::Int(v)
        }
    };
    Ok(match *expr {
        Expr::Int(v) => num(v),
        Expr::Float(f) => Num::Float(f),
        Expr::Param(i) => match (scope.numbers)(i) {
            Num::Int(v) => num(v),
            Num::Float(f) => Num::Float(f),
        },
        Expr::Replica => num(scope.replica as i128),
        Expr::Replicas => num(scope.replicas as i128),
        Expr::Neg(inner) => match eval(inner, float, scope)? {
            Num::Int(v) => Num::Int(v.checked_neg().ok_or(Problem::Overflow)?),
            Num::Float(f) => Num::Float(-f),
        },
        Expr::Binary(op, lhs, rhs) => {
            binary(op, eval(lhs, float, scope)?, eval(rhs, float, scope)?)?
        }
    })
}

fn binary(op: Op, l: Num, r: Num) -> Result<Num, Problem> {
    if let (Num::Int(l), Num::Int(r)) = (l, r) {
        let value = match op {
            Op::Add => l.checked_add(r),
            Op::Sub => l.checked_sub(r),
            Op::Mul => l.checked_mul(r),
            Op::Div | Op::Rem if r == 0 => return Err(Problem::DivisionByZero),
            Op::Div => l.checked_div(r),
            Op::Rem => l.checked_rem(r),
        };
        return value.map(Num::Int).ok_or(Problem::Overflow);
    }
    let (l, r) = (l.as_f64(), r.as_f64());
    let value = match op {
        Op::Add => l + r,
        Op::Sub => l - r,
        Op::Mul => l * r,
        Op::Div | Op::Rem if r == 0.0 => return Err(Problem::DivisionByZero),
        Op::Div => l / r,
        Op::Rem => l % r,
    };
    if value.is_finite() {
        Ok(Num::Float(value))
    } else {
        Err(Problem::Overflow)
    }
}

/// A numeric type a site converts to.
pub trait FromNum: Sized {
    /// The value, when it fits (sites are range-checked first, so this never fails after).
    fn from_num(n: Num) -> Option<Self>;
}

macro_rules! from_num {
    (int: $($int:ty),*; float: $($float:ty),*) => {
        $(impl FromNum for $int {
            fn from_num(n: Num) -> Option<Self> {
                match n {
                    Num::Int(v) => <$int>::try_from(v).ok(),
                    Num::Float(_) => None,
                }
            }
        })*
        $(impl FromNum for $float {
            fn from_num(n: Num) -> Option<Self> {
                Some(n.as_f64() as $float)
            }
        })*
    };
}

from_num!(int: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize; float: f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    static N_MINUS_1: Expr = Expr::Binary(Op::Sub, &Expr::Param(0), &Expr::Int(1));
    static FOUR_OVER: Expr = Expr::Binary(Op::Div, &Expr::Int(4), &N_MINUS_1);
    static COUNT: Site = Site {
        what: "the count of group `g`",
        text: "4 / (n - 1)",
        at: "main.lp:5:13",
        expr: &FOUR_OVER,
        target: Target::Usize,
        min: None,
        max: Some(1 << 20),
        group: None,
        bound: None,
        flags: &[("n", 0)],
    };
    static SEED: Site = Site {
        what: "argument `seed` of `actor`",
        text: "seed + replica * 7919",
        at: "main.lp:7:18",
        expr: &Expr::Binary(
            Op::Add,
            &Expr::Param(0),
            &Expr::Binary(Op::Mul, &Expr::Replica, &Expr::Int(7919)),
        ),
        target: Target::U64,
        min: None,
        max: None,
        group: Some(1),
        bound: None,
        flags: &[("seed", 0)],
    };

    fn scope(numbers: &dyn Fn(usize) -> Num, replica: usize) -> Scope<'_> {
        Scope {
            numbers,
            replica,
            replicas: 4,
        }
    }

    #[test]
    fn flag_values_are_blamed() {
        let n1 = |_| Num::Int(1);
        let error = COUNT.eval(scope(&n1, 0)).unwrap_err();
        assert_eq!(error.problem, Problem::DivisionByZero);
        assert_eq!(
            error.to_string(),
            "with `--n 1`, `4 / (n - 1)` divides by zero (the count of group `g`), at main.lp:5:13"
        );
        let n3 = |_| Num::Int(3);
        assert_eq!(COUNT.eval(scope(&n3, 0)), Ok(Num::Int(2)));
    }

    #[test]
    fn out_of_range_names_the_replica() {
        let max = |_| Num::Int(u64::MAX.into());
        assert_eq!(SEED.eval(scope(&max, 0)), Ok(Num::Int(u64::MAX.into())));
        let error = SEED.eval(scope(&max, 1)).unwrap_err();
        assert_eq!(error.replica, Some(1));
        assert!(
            error
                .to_string()
                .contains("for replica 1 is 18446744073709559534"),
            "{error}"
        );
    }

    #[test]
    fn floats_divide_for_float_targets() {
        static HALF: Expr = Expr::Binary(
            Op::Div,
            &Expr::Int(1),
            &Expr::Binary(Op::Add, &Expr::Replica, &Expr::Int(1)),
        );
        let none = |_| Num::Int(0);
        assert_eq!(eval(&HALF, true, scope(&none, 1)), Ok(Num::Float(0.5)));
        assert_eq!(eval(&HALF, false, scope(&none, 1)), Ok(Num::Int(0)));
        assert_eq!(f32::from_num(Num::Float(0.5)), Some(0.5));
        assert_eq!(u8::from_num(Num::Int(256)), None);
    }
}
