//! Restrictions (reference §10.6): a checked tree, evaluated against one row with MAPI's
//! semantics. Whoever cannot evaluate a restriction in its own language (SQL) evaluates it here.
//!
//! Choices where the reference is silent or undefined (also in docs/BAD_INPUT.md):
//! * A missing property, or one whose value is PT_ERROR, makes RES_PROPERTY, RES_CONTENT,
//!   RES_COMPAREPROPS, RES_BITMASK and RES_SIZE false (MAPI: "undefined"; clients AND them with
//!   RES_EXIST), and NOT of that true.
//! * Strings compare case-insensitively (Unicode lower-case folding), as Exchange sorts and
//!   compares them; PT_STRING8 and PT_UNICODE values of one property compare with each other.
//! * A multi-valued row value matches when any of its values does (the restriction carries the
//!   single-valued type).
//! * RES_COMMENT is never read or evaluated (reference §10.6: it has no effect on the rows): it
//!   is taken out of the tree, so AND and OR ignore it and a restriction of comments only
//!   restricts nothing.

use super::Cell;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::proputil::{self, Scalar};
use crate::core::value::{prop_id, prop_type, PropValue};
use std::cmp::Ordering;

/// Deeper restrictions are refused (MAPI_E_TOO_COMPLEX), so neither conversion nor evaluation
/// can exhaust a stack.
pub(crate) const MAX_DEPTH: usize = 128;
/// More nodes than this are refused (MAPI_E_TOO_COMPLEX): a C restriction whose sub-arrays are
/// shared would otherwise expand exponentially.
pub(crate) const MAX_NODES: usize = 1 << 16;

/// A relational operator (RELOP_RE is not supported: MAPI_E_TOO_COMPLEX where it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relop {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Relop {
    /// RELOP_LT … RELOP_NE; RELOP_RE is MAPI_E_TOO_COMPLEX, anything else invalid.
    pub fn from_mapi(relop: u32) -> MapiResult<Relop> {
        Ok(match relop {
            RELOP_LT => Relop::Lt,
            RELOP_LE => Relop::Le,
            RELOP_GT => Relop::Gt,
            RELOP_GE => Relop::Ge,
            RELOP_EQ => Relop::Eq,
            RELOP_NE => Relop::Ne,
            RELOP_RE => {
                return Err(MapiError::new(
                    MAPI_E_TOO_COMPLEX,
                    "RELOP_RE (regular expressions) is not supported",
                ))
            }
            other => return Err(MapiError::invalid(format!("unknown relop {other}"))),
        })
    }

    pub fn holds(self, o: Ordering) -> bool {
        match self {
            Relop::Lt => o.is_lt(),
            Relop::Le => o.is_le(),
            Relop::Gt => o.is_gt(),
            Relop::Ge => o.is_ge(),
            Relop::Eq => o.is_eq(),
            Relop::Ne => o.is_ne(),
        }
    }
}

/// One restriction node (`SRestriction`), owned.
#[derive(Debug, Clone, PartialEq)]
pub enum Restriction {
    And(Vec<Restriction>),
    Or(Vec<Restriction>),
    Not(Box<Restriction>),
    /// `fuzzy` is `ulFuzzyLevel`; `value` has the type of `tag` (without MV_FLAG).
    Content {
        fuzzy: u32,
        tag: u32,
        value: PropValue,
    },
    Property {
        relop: Relop,
        tag: u32,
        value: PropValue,
    },
    CompareProps {
        relop: Relop,
        tag1: u32,
        tag2: u32,
    },
    /// `nez`: BMR_NEZ (else BMR_EQZ).
    BitMask {
        nez: bool,
        tag: u32,
        mask: u32,
    },
    Size {
        relop: Relop,
        tag: u32,
        cb: u32,
    },
    Exist {
        tag: u32,
    },
    /// Evaluated by the row source (a message's recipients or attachments).
    Sub {
        object: u32,
        restriction: Box<Restriction>,
    },
    /// Never evaluated: taken out of the tree (see [`matches`]).
    Comment,
}

fn too_complex(what: impl Into<String>) -> MapiError {
    MapiError::new(MAPI_E_TOO_COMPLEX, what)
}

/// The single-valued form of a type (what a restriction on an MV column carries).
fn base_type(ptype: u32) -> u32 {
    ptype & !MV_FLAG
}

fn is_string(ptype: u32) -> bool {
    matches!(ptype, PT_STRING8 | PT_UNICODE)
}

/// Whether a value of type `a` may be compared with one of type `b` (strings of either width
/// compare with each other).
fn comparable(a: u32, b: u32) -> bool {
    a == b || (is_string(a) && is_string(b))
}

impl Restriction {
    /// The checks MAPI makes when a restriction is given (Restrict, FindRow): types that must
    /// match do (MAPI_E_TOO_COMPLEX), fuzzy levels are known, depth and size are bounded.
    /// Sub-restrictions are checked here too; whether the source supports them is its business.
    pub fn check(&self) -> MapiResult<()> {
        let mut nodes = 0;
        self.check_at(0, &mut nodes)
    }

    fn check_at(&self, depth: usize, nodes: &mut usize) -> MapiResult<()> {
        *nodes += 1;
        if depth >= MAX_DEPTH || *nodes > MAX_NODES {
            return Err(too_complex(format!(
                "the restriction is nested deeper than {MAX_DEPTH} levels or has more than \
                 {MAX_NODES} nodes"
            )));
        }
        match self {
            Restriction::And(v) | Restriction::Or(v) => {
                v.iter().try_for_each(|r| r.check_at(depth + 1, nodes))
            }
            Restriction::Not(r) | Restriction::Sub { restriction: r, .. } => {
                r.check_at(depth + 1, nodes)
            }
            Restriction::Content { fuzzy, tag, value } => {
                let t = base_type(prop_type(*tag));
                if !matches!(t, PT_STRING8 | PT_UNICODE | PT_BINARY)
                    || !comparable(t, value.ptype())
                {
                    return Err(too_complex(format!(
                        "RES_CONTENT on 0x{tag:08X} with a value of type 0x{:04X}: content \
                         restrictions compare strings or binaries of one type",
                        value.ptype()
                    )));
                }
                if fuzzy & 0xFFFF > FL_PREFIX {
                    return Err(too_complex(format!(
                        "RES_CONTENT: unknown fuzzy level 0x{:04X}",
                        fuzzy & 0xFFFF
                    )));
                }
                Ok(())
            }
            Restriction::Property { tag, value, .. } => {
                if !comparable(base_type(prop_type(*tag)), value.ptype()) {
                    return Err(too_complex(format!(
                        "RES_PROPERTY on 0x{tag:08X} with a value of type 0x{:04X}: the types \
                         must match",
                        value.ptype()
                    )));
                }
                Ok(())
            }
            Restriction::CompareProps { tag1, tag2, .. } => {
                if !comparable(prop_type(*tag1), prop_type(*tag2)) {
                    return Err(too_complex(format!(
                        "RES_COMPAREPROPS on 0x{tag1:08X} and 0x{tag2:08X}: the types must match"
                    )));
                }
                Ok(())
            }
            Restriction::BitMask { tag, .. } => {
                if !matches!(prop_type(*tag), PT_LONG | PT_I2) {
                    return Err(too_complex(format!(
                        "RES_BITMASK on 0x{tag:08X}: only integer properties have bits"
                    )));
                }
                Ok(())
            }
            Restriction::Size { .. } | Restriction::Exist { .. } | Restriction::Comment => Ok(()),
        }
    }

    /// Whether the restriction uses RES_SUBRESTRICTION anywhere (sources without sub-objects
    /// refuse it with MAPI_E_TOO_COMPLEX).
    pub fn has_sub(&self) -> bool {
        match self {
            Restriction::And(v) | Restriction::Or(v) => v.iter().any(Restriction::has_sub),
            Restriction::Not(r) => r.has_sub(),
            Restriction::Sub { .. } => true,
            _ => false,
        }
    }
}

/// What a row looks like to the evaluator: its values by property ID.
pub trait RowProps {
    /// The row's value for `tag`'s property ID (any type), if it has one.
    fn get(&self, tag: u32) -> Option<&Cell>;
    /// RES_SUBRESTRICTION: whether any of the row's sub-objects `object` (PR_MESSAGE_RECIPIENTS
    /// or PR_MESSAGE_ATTACHMENTS) matches `r`. Rows without sub-objects refuse it.
    fn sub_matches(&self, object: u32, _r: &Restriction) -> MapiResult<bool> {
        Err(too_complex(format!(
            "RES_SUBRESTRICTION on 0x{object:08X}: this table's rows have no sub-objects"
        )))
    }
}

impl RowProps for [(u32, Cell)] {
    fn get(&self, tag: u32) -> Option<&Cell> {
        self.iter()
            .find(|(t, _)| prop_id(*t) == prop_id(tag))
            .map(|(_, c)| c)
    }
}

/// The value of a row's property, if it has a real one (not PT_ERROR, not PT_NULL).
fn value_of<R: RowProps + ?Sized>(row: &R, tag: u32) -> Option<&PropValue> {
    match row.get(tag) {
        Some(Cell::Value(v)) => Some(v),
        _ => None,
    }
}

/// Evaluates `r` against `row`. Only RES_SUBRESTRICTION can fail (through the row).
pub fn matches<R: RowProps + ?Sized>(r: &Restriction, row: &R) -> MapiResult<bool> {
    Ok(eval(r, row)?.unwrap_or(true))
}

/// `r` on `row`; None where the restriction is only comments, which are taken out of the tree
/// before evaluation (they "have no effect on the rows"): an AND or OR ignores them, a NOT of
/// nothing is nothing, and nothing at the top restricts nothing.
fn eval<R: RowProps + ?Sized>(r: &Restriction, row: &R) -> MapiResult<Option<bool>> {
    Ok(Some(match r {
        Restriction::And(v) | Restriction::Or(v) => {
            let all = matches!(r, Restriction::And(_));
            let mut any_child = false;
            for c in v {
                match eval(c, row)? {
                    None => {}
                    Some(b) if b != all => return Ok(Some(b)),
                    Some(_) => any_child = true,
                }
            }
            if !any_child && !v.is_empty() {
                return Ok(None);
            }
            all
        }
        Restriction::Not(c) => match eval(c, row)? {
            Some(b) => !b,
            None => return Ok(None),
        },
        Restriction::Comment => return Ok(None),
        Restriction::Content { fuzzy, tag, value } => match value_of(row, *tag) {
            Some(hay) if comparable(base_type(hay.ptype()), value.ptype()) => {
                any_scalar(hay, |h| contains(&h, value, *fuzzy))
            }
            _ => false,
        },
        Restriction::Property { relop, tag, value } => match value_of(row, *tag) {
            Some(v) if comparable(base_type(v.ptype()), value.ptype()) => {
                let needle = scalars(value);
                any_scalar(v, |s| {
                    needle
                        .first()
                        .is_some_and(|n| relop.holds(compare_scalar(&s, n)))
                })
            }
            _ => false,
        },
        Restriction::CompareProps { relop, tag1, tag2 } => {
            match (value_of(row, *tag1), value_of(row, *tag2)) {
                (Some(a), Some(b)) if comparable(a.ptype(), b.ptype()) => {
                    relop.holds(compare_values(a, b))
                }
                _ => false,
            }
        }
        Restriction::BitMask { nez, tag, mask } => {
            let bits = match value_of(row, *tag) {
                Some(PropValue::Long(x)) => Some(*x as u32),
                Some(PropValue::I2(x)) => Some(*x as u16 as u32),
                _ => None,
            };
            match bits {
                Some(b) => (b & mask != 0) == *nez,
                None => false,
            }
        }
        Restriction::Size { relop, tag, cb } => match value_of(row, *tag) {
            Some(v) => relop.holds((v.payload_size() as u64).cmp(&(*cb as u64))),
            None => false,
        },
        Restriction::Exist { tag } => value_of(row, *tag).is_some(),
        Restriction::Sub {
            object,
            restriction,
        } => row.sub_matches(*object, restriction)?,
    }))
}

/// A value's scalars (one, or each element of a multi-valued one), borrowed.
pub fn scalars(v: &PropValue) -> Vec<Scalar<'_>> {
    use PropValue::*;
    match v {
        I2(x) => vec![Scalar::Int(*x as i64)],
        Long(x) => vec![Scalar::Int(*x as i64)],
        I8(x) | Currency(x) => vec![Scalar::Int(*x)],
        R4(x) => vec![Scalar::Float(*x as f64)],
        Double(x) | AppTime(x) => vec![Scalar::Float(*x)],
        Boolean(b) => vec![Scalar::Boolean(*b)],
        String8(b) => vec![Scalar::String8(b)],
        Unicode(s) => vec![Scalar::String8(s.as_bytes())],
        SysTime(t) => vec![Scalar::Time(*t)],
        Clsid(g) => vec![Scalar::Bytes(g)],
        Binary(b) => vec![Scalar::Bytes(b)],
        MvI2(v) => v.iter().map(|x| Scalar::Int(*x as i64)).collect(),
        MvLong(v) => v.iter().map(|x| Scalar::Int(*x as i64)).collect(),
        MvI8(v) | MvCurrency(v) => v.iter().map(|x| Scalar::Int(*x)).collect(),
        MvR4(v) => v.iter().map(|x| Scalar::Float(*x as f64)).collect(),
        MvDouble(v) | MvAppTime(v) => v.iter().map(|x| Scalar::Float(*x)).collect(),
        MvString8(v) => v.iter().map(|b| Scalar::String8(b)).collect(),
        MvUnicode(v) => v.iter().map(|s| Scalar::String8(s.as_bytes())).collect(),
        MvSysTime(v) => v.iter().map(|t| Scalar::Time(*t)).collect(),
        MvClsid(v) => v.iter().map(|g| Scalar::Bytes(g)).collect(),
        MvBinary(v) => v.iter().map(|b| Scalar::Bytes(b)).collect(),
        // A value left in the store (above 1 MiB) is not compared by content: no scalar of it
        // matches, as a table column of it reads PT_ERROR (SIZE and EXIST still see it).
        Large(_) => Vec::new(),
    }
}

fn any_scalar(v: &PropValue, mut f: impl FnMut(Scalar) -> bool) -> bool {
    scalars(v).into_iter().any(&mut f)
}

/// A PT_STRING8 value's text: UTF-8 (this provider's convention), else Latin-1.
fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => b.iter().map(|&x| x as char).collect::<String>().into(),
    }
}

/// Orders two strings as tables do: case-insensitively (a view breaks ties by its next sort
/// key, then by the rows' order in the source).
fn compare_text(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (text(a), text(b));
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// A string as [`compare_text`] orders it: folded to lower case. Two folded strings compare
/// (as UTF-8, whose byte order is code point order) exactly as `compare_text` compares the
/// originals, so a sort folds each value once instead of at every comparison.
pub(crate) fn folded(b: &[u8]) -> String {
    text(b).chars().flat_map(char::to_lowercase).collect()
}

/// Orders two scalars of comparable types: strings case-insensitively, the rest as
/// LPropCompareProp does.
pub fn compare_scalar(a: &Scalar, b: &Scalar) -> Ordering {
    match (a, b) {
        (Scalar::String8(x), Scalar::String8(y)) => compare_text(x, y),
        _ => proputil::compare_scalars(a, b),
    }
}

/// Orders two values of comparable types (multi-valued: element by element, then by count).
pub fn compare_values(a: &PropValue, b: &PropValue) -> Ordering {
    let (x, y) = (scalars(a), scalars(b));
    x.iter()
        .zip(&y)
        .map(|(p, q)| compare_scalar(p, q))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| x.len().cmp(&y.len()))
}

/// The kind of a value for a sort: values of one kind compare with each other.
fn sort_kind(v: &PropValue) -> u8 {
    match base_type(v.ptype()) {
        PT_I2 | PT_LONG | PT_I8 | PT_CURRENCY => 0,
        PT_R4 | PT_DOUBLE | PT_APPTIME => 1,
        PT_BOOLEAN => 2,
        PT_STRING8 | PT_UNICODE => 3,
        PT_SYSTIME => 4,
        _ => 5,
    }
}

/// Orders two values of one sort column: values of one kind (integers of any width, floats,
/// booleans, strings of either width, times, binaries) as [`compare_values`]; values of
/// different kinds by kind, so that a column whose rows hold several kinds still has a total
/// order (a sort needs one).
pub fn compare_for_sort(a: &PropValue, b: &PropValue) -> Ordering {
    match (sort_kind(a), sort_kind(b)) {
        (x, y) if x == y => compare_values(a, b),
        (x, y) => x.cmp(&y),
    }
}

/// RES_CONTENT on one scalar: strings through FPropContainsProp's logic (both widths are held
/// as UTF-8 here), binaries byte for byte.
fn contains(hay: &Scalar, needle: &PropValue, fuzzy: u32) -> bool {
    match (hay, needle) {
        (Scalar::String8(h), PropValue::String8(n)) => {
            proputil::contains(PT_STRING8, &Scalar::String8(h), &Scalar::String8(n), fuzzy)
        }
        (Scalar::String8(h), PropValue::Unicode(n)) => proputil::contains(
            PT_STRING8,
            &Scalar::String8(h),
            &Scalar::String8(n.as_bytes()),
            fuzzy,
        ),
        (Scalar::Bytes(h), PropValue::Binary(n)) => {
            proputil::contains(PT_BINARY, &Scalar::Bytes(h), &Scalar::Bytes(n), fuzzy)
        }
        _ => false,
    }
}
