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

/// How an engine names what [`narrow_sql`] and [`select_sql`] write about.
pub(crate) struct Dialect {
    pub objects: &'static str,
    pub props: &'static str,
    /// Joins a props alias to the objects row `o` within the store (`""` when none).
    pub same_store: &'static str,
    /// The condition on `o` that limits it to the store (`""` when none).
    pub store_cond: &'static str,
    /// A value's columns, and the one holding an integer.
    pub value_cols: &'static [&'static str],
    pub int_col: &'static str,
    /// The query's parameters for parent, kind, mask and flags.
    pub params: [&'static str; 4],
}

/// The alias of the `i`th fetched property's join.
fn alias(i: usize) -> String {
    format!("p{i}")
}

/// `n` as an SQL condition on the objects row `o` and its joined aliases (`fetch[i]` is joined
/// as `p{i}`; every property a narrowing names is fetched, see core). Every number is written as
/// a literal (IDs, tags and integers only: nothing a caller's text can reach).
pub(crate) fn narrow_sql(n: &Narrow, fetch: &[u16], d: &Dialect) -> String {
    let joined = |id: u16| fetch.iter().position(|f| *f == id).map(alias);
    let exists = |id: u16, cond: &dyn Fn(&str) -> String| match joined(id) {
        Some(a) => format!("({a}.tag IS NOT NULL AND {})", cond(&a)),
        None => format!(
            "EXISTS (SELECT 1 FROM {} q WHERE {}q.obj = o.id AND q.id = {id} AND {})",
            d.props,
            d.same_store.replace("{a}", "q"),
            cond("q")
        ),
    };
    match n {
        Narrow::All(v) if v.is_empty() => "1 = 1".into(),
        Narrow::Any(v) if v.is_empty() => "1 = 0".into(),
        Narrow::All(v) => join(v, " AND ", fetch, d),
        Narrow::Any(v) => join(v, " OR ", fetch, d),
        Narrow::Has(id) => exists(*id, &|_| "1 = 1".into()),
        Narrow::Int {
            tag,
            cmp,
            value,
            unsigned,
        } => {
            let col = d.int_col;
            exists((tag >> 16) as u16, &|a| {
                let high = if *unsigned {
                    format!(" OR {a}.{col} < 0")
                } else {
                    String::new()
                };
                format!(
                    "({a}.tag <> {tag} OR {a}.{col} {} {value}{high})",
                    cmp.sql()
                )
            })
        }
    }
}

fn join(v: &[Narrow], op: &str, fetch: &[u16], d: &Dialect) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|n| format!("({})", narrow_sql(n, fetch, d)))
        .collect();
    parts.join(op)
}

/// The child query: one row per child, in ID order: its ID, then each fetched property's tag
/// and value columns (NULL where the child has none).
pub(crate) fn select_sql(q: &ChildQuery, d: &Dialect) -> String {
    let mut columns = vec!["o.id".to_string()];
    let mut joins = String::new();
    for (i, id) in q.fetch.iter().enumerate() {
        let a = alias(i);
        columns.push(format!("{a}.tag"));
        columns.extend(d.value_cols.iter().map(|c| format!("{a}.{c}")));
        joins.push_str(&format!(
            " LEFT JOIN {} {a} ON {}{a}.obj = o.id AND {a}.id = {id}",
            d.props,
            d.same_store.replace("{a}", &a)
        ));
    }
    let narrow = q
        .narrow
        .map_or("1 = 1".into(), |n| narrow_sql(n, q.fetch, d));
    let [parent, kind, mask, flags] = d.params;
    format!(
        "SELECT {} FROM {} o{joins} WHERE {}o.parent = {parent} AND o.kind = {kind} \
         AND (o.flags & {mask}) = {flags} AND ({narrow}) ORDER BY o.id",
        columns.join(", "),
        d.objects,
        d.store_cond
    )
}
