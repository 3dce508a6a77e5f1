//! Which keys of the DESIGN §1 contract this stage of tern refuses as `not supported yet`.
//!
//! tern is built in stages. A key whose behaviour does not exist yet is an error when present,
//! never silently ignored. Entries are key paths without array indices (`virtual_server.tls`
//! matches `virtual_server[3].tls`); a table entry refuses the whole table. Keys whose resolved
//! field already exists (the `[delivery]` ones) are read by the parser: deleting their entry
//! here is all it takes to support them.

/// The reason given for a refused key.
pub const NOT_SUPPORTED_REASON: &str = "not supported yet (this stage of tern has no behaviour for it; remove the key)";

/// Key paths refused in this stage.
pub const NOT_SUPPORTED: &[&str] = &["logging", "virtual_server.logging", "admin.operators", "domain.atrn"];

/// True when `path` (with indices, e.g. `virtual_server[1].tls`) is listed in `list`.
pub fn is_not_supported(list: &[&str], path: &str) -> bool {
    let bare = strip_indices(path);
    list.iter().any(|entry| *entry == bare)
}

/// `virtual_server[1].limits` → `virtual_server.limits`.
fn strip_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_without_indices() {
        let cases: &[(&str, bool)] = &[
            ("tls", false),
            ("virtual_server[0].tls", false),
            ("virtual_server[0].auth", false),
            ("access", false),
            ("logging", true),
            ("virtual_server[12].logging", true),
            ("virtual_server[0].limits", false),
            ("delivery.max_hop_count", false),
            ("delivery.remote_port", false),
            ("delivery.reverse_dns_lookup", false),
            ("virtual_server[0].access", false),
            ("domain[3].route_to", false),
            ("domain[3].outbound_security", false),
            ("delivery.outbound_security", false),
            ("domain[3].atrn", true),
            ("domain[3].name", false),
            ("admin.operators", true),
            ("admin.listen", false),
            ("connector[0].smart_hosts", false),
        ];
        for (path, want) in cases {
            assert_eq!(is_not_supported(NOT_SUPPORTED, path), *want, "{path}");
        }
    }
}
