//! A PostgreSQL store location (DESIGN.md §8): the usual libpq URI (`postgresql://` or
//! `postgres://`) with one extra query parameter, `store=NAME`, naming the store inside the
//! database. The password never leaves this module except inside the connection settings: every
//! text about a location uses [`Location::redacted`].

use super::super::{ErrorKind, StorageError, StorageResult};

#[derive(Debug, Clone)]
pub struct Location {
    /// The URI without `store=` (what the client library is given).
    pub connect: String,
    /// The store's name inside the database.
    pub store: String,
    /// The URI with any password replaced by `***`, for messages.
    pub redacted: String,
}

fn invalid(why: impl Into<String>) -> StorageError {
    StorageError::new(ErrorKind::NotFound, why)
}

/// Decodes %XX escapes (a store name is a query parameter value).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `uri` with the password of its user-info part and of any `password=` parameter hidden.
pub fn redact(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let (authority_end, _) = rest
        .char_indices()
        .find(|(_, c)| *c == '/' || *c == '?')
        .unwrap_or((rest.len(), ' '));
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Parses a store URI; a missing or empty `store=` is refused.
pub fn parse(uri: &str) -> StorageResult<Location> {
    let redacted = redact(uri);
    let (base, query) = match uri.split_once('?') {
        Some((b, q)) => (b, q),
        None => (uri, ""),
    };
    let mut store = None;
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        match param.split_once('=') {
            Some(("store", value)) => {
                store = Some(percent_decode(value).ok_or_else(|| {
                    invalid(format!(
                        "{redacted}: the store name is not valid percent-encoded UTF-8"
                    ))
                })?)
            }
            _ => kept.push(param),
        }
    }
    let store = store.filter(|s| !s.is_empty()).ok_or_else(|| {
        invalid(format!(
            "{redacted}: a PostgreSQL location names its store with ?store=NAME"
        ))
    })?;
    let connect = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(Location {
        connect,
        store,
        redacted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_parameter_is_taken_out_and_decoded() {
        let l = parse("postgresql:///mail?host=/run/postgresql&store=alice%20b&port=5432").unwrap();
        assert_eq!(l.store, "alice b");
        assert_eq!(
            l.connect,
            "postgresql:///mail?host=/run/postgresql&port=5432"
        );
        let l = parse("postgres://app@db1:5432/mail?store=x").unwrap();
        assert_eq!(l.connect, "postgres://app@db1:5432/mail");
        assert!(parse("postgresql:///mail").is_err());
        assert!(parse("postgresql:///mail?store=").is_err());
    }

    #[test]
    fn passwords_never_appear_in_the_redacted_form() {
        for uri in [
            "postgresql://app:s3cret@db1:5432/mail?store=a",
            "postgresql://app:s3cret@db1/mail?password=s3cret&store=a",
            "postgres://db1/mail?store=a&PASSWORD=s3cret",
        ] {
            let r = redact(uri);
            assert!(!r.contains("s3cret"), "{r}");
            let e = parse(&uri.replace("store=a", "nostore=1")).unwrap_err();
            assert!(!e.message.contains("s3cret"), "{}", e.message);
        }
        assert_eq!(
            redact("postgresql://app:pw@db1:5432/mail?store=a"),
            "postgresql://app:***@db1:5432/mail?store=a"
        );
    }
}
