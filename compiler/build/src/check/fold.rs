//! Constant folding: evaluating [`NumExpr`]s at check time with the semantics the runtime
//! evaluates them with when the program is built (`lp::codegen::Site`): integers in `i128`
//! with every operation checked, floats in `f64` with integers converted, division by zero an
//! error in both.

use super::model::{BinOp, NumExpr, NumType};

/// A number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    Int(i128),
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

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Int(v) => write!(f, "{v}"),
            Num::Float(v) => write!(f, "{v}"),
        }
    }
}

/// Why an expression has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// `x / 0` or `x % 0`.
    DivisionByZero,
    /// Beyond 128 bits (integers) or infinite (floats).
    Overflow,
}

impl Fault {
    /// What went wrong, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::DivisionByZero => "divides by zero",
            Fault::Overflow => "overflows",
        }
    }
}

/// What the replica index and group size are while folding, when known.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Known {
    pub replica: Option<i128>,
    pub replicas: Option<i128>,
}

/// The value of `expr` (in `f64` when `float`), `Ok(None)` when it depends on a param or on an
/// unknown replica index.
pub(super) fn eval(expr: &NumExpr, float: bool, known: Known) -> Result<Option<Num>, Fault> {
    let num = |v: i128| {
        if float {
            Num::Float(v as f64)
        } else {
            Num::Int(v)
        }
    };
    Ok(Some(match expr {
        NumExpr::Int(v) => num(*v),
        NumExpr::Float(f) => Num::Float(*f),
        NumExpr::Param(_) => return Ok(None),
        NumExpr::Replica => match known.replica {
            Some(r) => num(r),
            None => return Ok(None),
        },
        NumExpr::Replicas => match known.replicas {
            Some(r) => num(r),
            None => return Ok(None),
        },
        NumExpr::Neg(inner) => match eval(inner, float, known)? {
            None => return Ok(None),
            Some(Num::Int(v)) => Num::Int(v.checked_neg().ok_or(Fault::Overflow)?),
            Some(Num::Float(f)) => Num::Float(-f),
        },
        NumExpr::Binary(op, lhs, rhs) => {
            let lhs = eval(lhs, float, known)?;
            let rhs = eval(rhs, float, known)?;
            match (lhs, rhs) {
                (Some(l), Some(r)) => binary(*op, l, r)?,
                _ => return Ok(None),
            }
        }
    }))
}

fn binary(op: BinOp, l: Num, r: Num) -> Result<Num, Fault> {
    if let (Num::Int(l), Num::Int(r)) = (l, r) {
        let value = match op {
            BinOp::Add => l.checked_add(r),
            BinOp::Sub => l.checked_sub(r),
            BinOp::Mul => l.checked_mul(r),
            BinOp::Div | BinOp::Rem if r == 0 => return Err(Fault::DivisionByZero),
            BinOp::Div => l.checked_div(r),
            BinOp::Rem => l.checked_rem(r),
        };
        return value.map(Num::Int).ok_or(Fault::Overflow);
    }
    let (l, r) = (l.as_f64(), r.as_f64());
    let value = match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div | BinOp::Rem if r == 0.0 => return Err(Fault::DivisionByZero),
        BinOp::Div => l / r,
        BinOp::Rem => l % r,
    };
    if value.is_finite() {
        Ok(Num::Float(value))
    } else {
        Err(Fault::Overflow)
    }
}

/// Why a value does not fit its target.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Misfit {
    /// The allowed range, in words: "0 to 255", "at least 1".
    pub allowed: String,
}

/// Checks that `value` fits `target` (and is at least `min`).
pub(super) fn fits(value: Num, target: NumType, min: Option<i128>) -> Result<(), Misfit> {
    match (target, value) {
        (NumType::Int(int), Num::Int(v)) => {
            let (lo, hi) = int.range();
            let lo = min.map_or(lo, |m| m.max(lo));
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Misfit {
                    allowed: format!("{lo} to {hi}"),
                })
            }
        }
        (NumType::Float(name), value) => {
            let v = value.as_f64();
            let lo = min.map(|m| m as f64);
            let finite = if name == "f32" {
                v.is_finite() && v.abs() <= f64::from(f32::MAX)
            } else {
                v.is_finite()
            };
            if finite && lo.is_none_or(|lo| v >= lo) {
                Ok(())
            } else {
                Err(Misfit {
                    allowed: match lo {
                        Some(lo) => format!("a finite `{name}` of at least {lo}"),
                        None => format!("a finite `{name}`"),
                    },
                })
            }
        }
        // The checker never folds a float for an integer target.
        (NumType::Int(int), Num::Float(_)) => Err(Misfit {
            allowed: format!("an integer `{}`", int.name()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::IntType;

    fn bin(op: BinOp, l: NumExpr, r: NumExpr) -> NumExpr {
        NumExpr::Binary(op, Box::new(l), Box::new(r))
    }

    #[test]
    fn integers_are_checked() {
        let k = Known::default();
        let div0 = bin(BinOp::Div, NumExpr::Int(4), NumExpr::Int(0));
        assert_eq!(eval(&div0, false, k), Err(Fault::DivisionByZero));
        let rem0 = bin(BinOp::Rem, NumExpr::Int(4), NumExpr::Int(0));
        assert_eq!(eval(&rem0, false, k), Err(Fault::DivisionByZero));
        let big = bin(BinOp::Add, NumExpr::Int(i128::MAX), NumExpr::Int(1));
        assert_eq!(eval(&big, false, k), Err(Fault::Overflow));
        let trunc = bin(BinOp::Div, NumExpr::Int(-7), NumExpr::Int(2));
        assert_eq!(eval(&trunc, false, k), Ok(Some(Num::Int(-3))));
        let sum = bin(BinOp::Add, NumExpr::Int(200), NumExpr::Int(100));
        let v = eval(&sum, false, k).unwrap().unwrap();
        assert!(fits(v, NumType::Int(IntType::U8), None).is_err());
        assert!(fits(v, NumType::Int(IntType::U16), None).is_ok());
    }

    #[test]
    fn floats_divide_really() {
        let k = Known {
            replica: Some(1),
            replicas: Some(4),
        };
        let e = bin(
            BinOp::Div,
            NumExpr::Int(1),
            bin(BinOp::Add, NumExpr::Replica, NumExpr::Int(1)),
        );
        assert_eq!(eval(&e, true, k), Ok(Some(Num::Float(0.5))));
        assert_eq!(eval(&e, false, k), Ok(Some(Num::Int(0))));
        let unknown = bin(BinOp::Mul, NumExpr::Param(0), NumExpr::Int(2));
        assert_eq!(eval(&unknown, true, k), Ok(None));
        let inf = bin(BinOp::Mul, NumExpr::Float(1e300), NumExpr::Float(1e300));
        assert_eq!(eval(&inf, true, k), Err(Fault::Overflow));
        assert!(fits(Num::Float(1e39), NumType::Float("f32"), None).is_err());
        assert!(fits(Num::Float(-0.5), NumType::Float("f64"), Some(0)).is_err());
    }
}
