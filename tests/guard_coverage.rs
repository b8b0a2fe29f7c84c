//! Every function under `src/abi/` that has an explicit ABI (`extern "C" fn`, or any other
//! `extern "…" fn` / bare `extern fn`) and a body — `#[no_mangle]` exports and vtable slot
//! functions alike — must run that body through the guard module (DESIGN.md §2; rust-c-abi-style
//! §4 habit 3): the body is a single call to `guard::free_fn`, `guard::free_fn_ulong`,
//! `guard::free_fn_or`, `guard::method` or `guard::method_ulong` (any path ending in
//! `guard::<name>`, with or without a turbofish), so that panics, NULL `This` and error recording are handled in one place.
//!
//! The check works on tokens, not lines: comments and string contents are dropped first, so
//! rustfmt's line breaks, comments and strings mentioning `extern "C" fn` do not matter.
//! Function pointer types (`extern "C" fn(…)`) and foreign declarations (`fn f(…);`) have no
//! body and are not checked.

use std::path::{Path, PathBuf};

/// The guard entry points an `extern` function's body may consist of.
const GUARDS: &[&str] = &[
    "free_fn",
    "free_fn_ulong",
    "free_fn_or",
    "method",
    "method_ulong",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// A string literal (its contents dropped).
    Str,
    /// A character or byte literal.
    Char,
    Lifetime,
    Number,
    Punct(char),
}

/// Splits Rust source into tokens, dropping comments (nested block comments included) and the
/// contents of string and character literals.
fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_ident_start = |ch: char| ch == '_' || ch.is_alphabetic();
    let is_ident_char = |ch: char| ch == '_' || ch.is_alphanumeric();
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(&c, i + 1);
            out.push(Tok::Str);
        } else if (ch == 'r' || ch == 'b')
            && raw_string_start(&c, i).is_some()
            && (i == 0 || !is_ident_char(c[i - 1]))
        {
            let (hashes, quote) = raw_string_start(&c, i).expect("checked");
            i = skip_raw_string(&c, quote + 1, hashes);
            out.push(Tok::Str);
        } else if ch == 'b' && next == Some('"') {
            i = skip_string(&c, i + 2);
            out.push(Tok::Str);
        } else if ch == 'b' && next == Some('\'') {
            i = skip_char(&c, i + 1);
            out.push(Tok::Char);
        } else if ch == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            if next == Some('\\') || c.get(i + 2) == Some(&'\'') {
                i = skip_char(&c, i);
                out.push(Tok::Char);
            } else {
                i += 1;
                while i < c.len() && is_ident_char(c[i]) {
                    i += 1;
                }
                out.push(Tok::Lifetime);
            }
        } else if is_ident_start(ch) {
            let start = i;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            while i < c.len()
                && (is_ident_char(c[i])
                    || c[i] == '.' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            {
                i += 1;
            }
            out.push(Tok::Number);
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

/// Index just past the closing quote of a string whose contents start at `i`.
fn skip_string(c: &[char], mut i: usize) -> usize {
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// For `r"`, `r#"`, `br##"` … at `i`: the number of `#`s and the index of the opening quote.
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j))
}

fn skip_raw_string(c: &[char], mut i: usize, hashes: usize) -> usize {
    while i < c.len() {
        if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// Index just past a character literal whose opening quote is at `i`.
fn skip_char(c: &[char], mut i: usize) -> usize {
    i += 1;
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn is_punct(t: Option<&Tok>, p: char) -> bool {
    t == Some(&Tok::Punct(p))
}

fn is_ident(t: Option<&Tok>, name: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s == name)
}

/// Index just past the bracket that closes the one at `open` (`(`/`)`, `[`/`]`, `{`/`}`).
fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let (o, c) = match toks.get(open)? {
        Tok::Punct('(') => ('(', ')'),
        Tok::Punct('[') => ('[', ']'),
        Tok::Punct('{') => ('{', '}'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if *t == Tok::Punct(o) {
            depth += 1;
        } else if *t == Tok::Punct(c) {
            depth -= 1;
            if depth == 0 {
                return Some(k + 1);
            }
        }
    }
    None
}

/// Index just past the `<…>` generic list starting at `open` (`->` inside does not close it).
fn skip_generics(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut k = open;
    while k < toks.len() {
        match &toks[k] {
            Tok::Punct('-') if is_punct(toks.get(k + 1), '>') => k += 1,
            Tok::Punct('<') => depth += 1,
            Tok::Punct('>') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            Tok::Punct('(') | Tok::Punct('[') => {
                k = matching(toks, k)?;
                continue;
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// An `extern` function with a body that does not go through the guard: its name and why.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    function: String,
    reason: String,
}

/// What [`check_source`] found in one file.
#[derive(Debug, Default)]
struct Report {
    /// Every `extern` function with a body (guarded or not).
    checked: Vec<String>,
    violations: Vec<Violation>,
}

/// Checks one file's source text.
fn check_source(src: &str) -> Report {
    let toks = tokenize(src);
    let mut report = Report::default();
    let mut i = 0;
    while i < toks.len() {
        if !is_ident(toks.get(i), "extern") {
            i += 1;
            continue;
        }
        // `extern "ABI" fn` or `extern fn`.
        let mut k = i + 1;
        if toks.get(k) == Some(&Tok::Str) {
            k += 1;
        }
        if !is_ident(toks.get(k), "fn") {
            i += 1; // `extern crate`, `extern "C" { … }` blocks
            continue;
        }
        k += 1;
        let name = match toks.get(k) {
            Some(Tok::Ident(name)) => name.clone(),
            Some(Tok::Punct('(')) => {
                i = k; // a function pointer type: no name, no body
                continue;
            }
            other => {
                report.violations.push(Violation {
                    function: format!("{other:?}"),
                    reason: "an extern fn whose name is not written out (a macro-generated \
                             signature?) cannot be checked"
                        .into(),
                });
                i = k;
                continue;
            }
        };
        k += 1;
        if is_punct(toks.get(k), '<') {
            match skip_generics(&toks, k) {
                Some(end) => k = end,
                None => {
                    report.violations.push(Violation {
                        function: name,
                        reason: "unbalanced generic parameter list".into(),
                    });
                    break;
                }
            }
        }
        let Some(after_params) = (if is_punct(toks.get(k), '(') {
            matching(&toks, k)
        } else {
            None
        }) else {
            report.violations.push(Violation {
                function: name,
                reason: "no parameter list found".into(),
            });
            i = k;
            continue;
        };
        // Return type and where-clause, up to the body or a `;` (a declaration).
        let mut k = after_params;
        let body_start = loop {
            match toks.get(k) {
                None => break None,
                Some(Tok::Punct(';')) => break None,
                Some(Tok::Punct('{')) => break Some(k),
                Some(Tok::Punct('(')) | Some(Tok::Punct('[')) => {
                    k = matching(&toks, k).unwrap_or(toks.len());
                }
                _ => k += 1,
            }
        };
        let Some(body_start) = body_start else {
            i = k;
            continue;
        };
        let body_end = matching(&toks, body_start).unwrap_or(toks.len());
        report.checked.push(name.clone());
        // The body without its braces.
        let body = &toks[body_start + 1..body_end.saturating_sub(1)];
        if let Err(reason) = check_body(body) {
            report.violations.push(Violation {
                function: name,
                reason,
            });
        }
        i = body_end;
    }
    report
}

/// The body must be exactly one call `…guard::<GUARD>[::<…>](…)`, optionally inside
/// `unsafe { … }`, optionally followed by `;`.
fn check_body(mut body: &[Tok]) -> Result<(), String> {
    if is_ident(body.first(), "unsafe") && is_punct(body.get(1), '{') {
        let end = matching(body, 1).ok_or("unbalanced unsafe block")?;
        if end == body.len() || (end + 1 == body.len() && is_punct(body.get(end), ';')) {
            body = &body[2..end - 1];
        }
    }
    // A path: Ident (:: Ident)*
    let mut k = 0;
    let mut segments = Vec::new();
    while let Some(Tok::Ident(s)) = body.get(k) {
        segments.push(s.clone());
        k += 1;
        if is_punct(body.get(k), ':')
            && is_punct(body.get(k + 1), ':')
            && matches!(body.get(k + 2), Some(Tok::Ident(_)))
        {
            k += 2;
        } else {
            break;
        }
    }
    let n = segments.len();
    let guarded =
        n >= 2 && segments[n - 2] == "guard" && GUARDS.contains(&segments[n - 1].as_str());
    if !guarded {
        let first: Vec<String> = body.iter().take(6).map(|t| format!("{t:?}")).collect();
        return Err(format!(
            "the body does not start with a call to guard::{{{}}} (it starts with {})",
            GUARDS.join(", "),
            if first.is_empty() {
                "nothing".to_string()
            } else {
                first.join(" ")
            }
        ));
    }
    // Optional turbofish.
    if is_punct(body.get(k), ':')
        && is_punct(body.get(k + 1), ':')
        && is_punct(body.get(k + 2), '<')
    {
        k = skip_generics(body, k + 2).ok_or("unbalanced turbofish")?;
    }
    if !is_punct(body.get(k), '(') {
        return Err(format!(
            "guard::{} is named but not called",
            segments[n - 1]
        ));
    }
    let end = matching(body, k).ok_or("unbalanced call")?;
    let rest = &body[end..];
    if !(rest.is_empty() || rest == [Tok::Punct(';')]) {
        return Err(format!(
            "code follows the guard::{} call outside the guard",
            segments[n - 1]
        ));
    }
    Ok(())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_extern_fn_in_src_abi_runs_through_the_guard() {
    let abi = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/abi");
    let mut files = Vec::new();
    rust_files(&abi, &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file).expect("read a source file");
        let report = check_source(&src);
        let shown = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(file);
        for v in report.violations {
            failures.push(format!(
                "{}: fn {}: {}",
                shown.display(),
                v.function,
                v.reason
            ));
        }
        checked.extend(report.checked);
    }
    assert!(
        failures.is_empty(),
        "extern functions that bypass the guard module:\n  {}",
        failures.join("\n  ")
    );
    // The scan really saw the boundary (a broken tokenizer must not pass vacuously).
    for expected in [
        "MAPIAllocateBuffer",
        "MAPIAllocateMore",
        "MAPIFreeBuffer",
        "CreateIProp",
        "MsgStoreGetLastError",
        "MsgStoreInjectPanic",
        "query_interface",
        "add_ref",
        "release",
        "get_props",
        "copy_to",
        "hr_add_obj_props",
        "PropCopyMore",
        "ScCopyProps",
        "FBadProp",
        "MAPIInitialize",
    ] {
        assert!(
            checked.iter().any(|c| c == expected),
            "the scan of src/abi did not find extern fn {expected}; found {checked:?}"
        );
    }
}

/// The checker on inline sources: it must be able to fail.
#[test]
fn the_checker_flags_functions_that_bypass_the_guard() {
    let src = r##"
        // A comment mentioning extern "C" fn Commented() -> u32 { 0 } is not code.
        /* nor is /* a nested */ block: extern "C" fn AlsoCommented() {} */
        const S: &str = "extern \"C\" fn InAString() -> u32 { 1 }";
        const R: &str = r#"extern "C" fn InARawString() {}"#;

        #[no_mangle]
        pub unsafe extern "C" fn Guarded(x: ULONG) -> HRESULT {
            guard::free_fn("Guarded", || Ok(S_OK))
        }

        pub unsafe extern "C" fn GuardedGeneric<I, T: ComClass>(
            This: *mut I,
            f: Option<unsafe extern "C" fn(a: u32) -> u32>,
        ) -> ULONG
        where
            T: Send,
        {
            super::guard::method_ulong::<I>(This, "GuardedGeneric", || { let v = [0u8; 4]; 0 })
        }

        #[no_mangle]
        pub unsafe extern "C" fn Bypass(lpBuffer: LPVOID) -> ULONG {
            libc::free(lpBuffer);
            0
        }

        unsafe extern "C" fn LetFirst(This: *mut I) -> HRESULT {
            let name = "LetFirst";
            guard::method::<I, C>(This, name, |_| Ok(S_OK))
        }

        unsafe extern "C" fn AfterTheGuard(This: *mut I) -> HRESULT {
            guard::method::<I, C>(This, "AfterTheGuard", |_| Ok(S_OK));
            dangerous(This)
        }

        extern fn BareExtern() -> u32 { 7 }

        unsafe extern "C-unwind" fn OtherAbi() -> u32 { guard::not_a_guard(|| 0) }

        unsafe extern "C" fn NamedOnly() -> u32 { guard::free_fn_ulong }

        extern "C" {
            fn imported(x: u32) -> u32;
        }
        pub type Slot = unsafe extern "C" fn(This: *mut c_void) -> ULONG;
        struct Vtbl { pub AddRef: unsafe extern "C" fn(This: *mut c_void) -> ULONG }
    "##;
    let report = check_source(src);
    let bad: Vec<&str> = report
        .violations
        .iter()
        .map(|v| v.function.as_str())
        .collect();
    assert_eq!(
        bad,
        [
            "Bypass",
            "LetFirst",
            "AfterTheGuard",
            "BareExtern",
            "OtherAbi",
            "NamedOnly"
        ],
        "{report:#?}"
    );
    assert_eq!(
        report.checked,
        [
            "Guarded",
            "GuardedGeneric",
            "Bypass",
            "LetFirst",
            "AfterTheGuard",
            "BareExtern",
            "OtherAbi",
            "NamedOnly"
        ]
    );
}

/// rustfmt may break a signature or the guard call over many lines, wrap it in `unsafe { }`, or
/// leave a trailing `;` on a unit body; none of that matters.
#[test]
fn the_checker_accepts_reformatted_guarded_functions() {
    let src = "
        #[no_mangle]
        pub unsafe extern \"C\"
        fn
        Spread
        (
            cbSize: ULONG,
            lppBuffer: *mut LPVOID,
        )
        -> SCODE
        {
            guard
                ::
                free_fn(
                    \"Spread\",
                    || { if x { '}' } else { '{' }; Ok(S_OK) },
                )
        }
        unsafe extern \"C\" fn Wrapped(This: *mut I) -> ULONG {
            unsafe { crate::abi::guard::method_ulong(This, \"Wrapped\", || 1) }
        }
        unsafe extern \"C\" fn Unit(This: *mut I) {
            guard::method_ulong(This, \"Unit\", || 1);
        }
    ";
    let report = check_source(src);
    assert!(report.violations.is_empty(), "{report:#?}");
    assert_eq!(report.checked, ["Spread", "Wrapped", "Unit"]);
}
