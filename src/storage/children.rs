//! The child query of the seam ([`ChildQuery`], `ReadTxn::select_children`): the objects of one
//! kind under one parent, narrowed in SQL by a [`Narrow`], each with the few stored properties
//! the caller asks for. It is what a folder's contents and hierarchy tables are read through.
//!
//! Why the engine narrows and does not decide: MAPI's row semantics (strings ordered by Unicode
//! case folding, a property of another type or multi-valued on some rows, missing values last)
//! cannot be written exactly in either engine's SQL, and a table's rows must be exactly those the
//! core evaluator gives. So a [`Narrow`] is a *superset* condition — an engine may keep a row it
//! could have dropped, never drop one the restriction selects — and core evaluates the
//! restriction and the sort exactly on what is left, reading only the properties it names. Both
//! engines write the same SQL from one builder ([`narrow_sql`]), so they narrow identically.

use super::StoredProp;

/// A relational operator on stored integers (signed 64-bit, as the engines store them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
        }
    }
}

/// A condition on an object's stored properties that keeps at least every row a restriction
/// selects (see the module comment).
#[derive(Debug, Clone, PartialEq)]
pub enum Narrow {
    /// Every part holds (none: always).
    All(Vec<Narrow>),
    /// Some part holds (none: never).
    Any(Vec<Narrow>),
    /// The object stores a property with this ID, of any type.
    Has(u16),
    /// The object stores a property with `tag`'s ID and, where its tag is exactly `tag` (an
    /// integer type), its value compares `cmp` with `value`. With `unsigned` (PT_SYSTIME, whose
    /// bits are stored as they are), a stored value of 2^63 or more is always kept.
    Int {
        tag: u32,
        cmp: Cmp,
        value: i64,
        unsigned: bool,
    },
}

/// What a child query asks for.
#[derive(Debug, Clone, Copy)]
pub struct ChildQuery<'a> {
    pub parent: u64,
    pub kind: u32,
    /// Only objects whose flags, masked with `mask`, equal `flags`.
    pub mask: u32,
    pub flags: u32,
    /// None: every child.
    pub narrow: Option<&'a Narrow>,
    /// The property IDs to return with each object (others are not read).
    pub fetch: &'a [u16],
}

/// One object a child query returned: its ID and the fetched properties it stores.
pub type ChildRow = (u64, Vec<StoredProp>);

/// How an engine names what [`narrow_sql`] writes about.
pub(crate) struct Dialect {
    /// The props table with the condition that limits it to the store (`""` when none).
    pub props: &'static str,
    pub store_cond: &'static str,
    /// The column holding an integer value.
    pub int_col: &'static str,
}

/// `n` as an SQL condition on the objects row aliased `o`. Every number is written as a literal
/// (IDs, tags and integers only: nothing a caller's text can reach).
pub(crate) fn narrow_sql(n: &Narrow, d: &Dialect) -> String {
    let exists = |cond: String| {
        format!(
            "EXISTS (SELECT 1 FROM {} q WHERE {}q.obj = o.id AND {cond})",
            d.props, d.store_cond
        )
    };
    match n {
        Narrow::All(v) if v.is_empty() => "1 = 1".into(),
        Narrow::Any(v) if v.is_empty() => "1 = 0".into(),
        Narrow::All(v) => join(v, " AND ", d),
        Narrow::Any(v) => join(v, " OR ", d),
        Narrow::Has(id) => exists(format!("q.id = {id}")),
        Narrow::Int {
            tag,
            cmp,
            value,
            unsigned,
        } => {
            let col = d.int_col;
            let high = if *unsigned {
                format!(" OR q.{col} < 0")
            } else {
                String::new()
            };
            exists(format!(
                "q.id = {} AND (q.tag <> {tag} OR q.{col} {} {value}{high})",
                tag >> 16,
                cmp.sql()
            ))
        }
    }
}

fn join(v: &[Narrow], op: &str, d: &Dialect) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|n| format!("({})", narrow_sql(n, d)))
        .collect();
    parts.join(op)
}

/// The fetched property IDs as an SQL list (`q.id IN (…)`), or None when there are none.
pub(crate) fn id_list(fetch: &[u16]) -> Option<String> {
    if fetch.is_empty() {
        return None;
    }
    let ids: Vec<String> = fetch.iter().map(|i| i.to_string()).collect();
    Some(ids.join(", "))
}

/// Groups `(object, property)` rows, ordered by object, into one [`ChildRow`] each (an object
/// without fetched properties comes as one row with no property).
pub(crate) fn group_rows(rows: impl Iterator<Item = (u64, Option<StoredProp>)>) -> Vec<ChildRow> {
    let mut out: Vec<ChildRow> = Vec::new();
    for (id, prop) in rows {
        match out.last_mut() {
            Some((last, props)) if *last == id => props.extend(prop),
            _ => out.push((id, prop.into_iter().collect())),
        }
    }
    out
}
