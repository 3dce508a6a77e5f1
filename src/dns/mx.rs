//! Pure MX ordering: preference order, random order within one preference, null MX (RFC 7505).

/// One mail exchanger in delivery order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxHost {
    /// The MX preference (lower is tried first).
    pub preference: u16,
    /// The exchange name, lower-cased, without the trailing dot.
    pub host: String,
}

/// What a domain's MX records say about delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxPlan {
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    Null,
    /// The hosts to try, in delivery order.
    Hosts(Vec<MxHost>),
}

/// Orders MX records `(preference, exchange)` for delivery.
///
/// Hosts come by ascending preference, in random order (drawn from `rng`) among equal
/// preferences, so load spreads over equal exchangers. Names are lower-cased and lose their
/// trailing dot; a host listed twice keeps only its lowest preference. A single record whose
/// exchange is the root (`.`) is a null MX. A root exchange mixed with real ones breaks
/// RFC 7505 and is skipped: the real exchangers still get the mail.
pub fn order<S: AsRef<str>>(records: &[(u16, S)], rng: &mut fastrand::Rng) -> MxPlan {
    let mut hosts: Vec<MxHost> = records
        .iter()
        .map(|(preference, exchange)| MxHost { preference: *preference, host: normalize(exchange.as_ref()) })
        .collect();
    if !hosts.is_empty() && hosts.iter().all(|h| h.host.is_empty()) {
        return MxPlan::Null;
    }
    hosts.retain(|h| !h.host.is_empty());
    hosts.sort_by(|a, b| a.host.cmp(&b.host).then(a.preference.cmp(&b.preference)));
    hosts.dedup_by(|later, first| later.host == first.host);
    hosts.sort_by(|a, b| a.preference.cmp(&b.preference).then_with(|| a.host.cmp(&b.host)));
    for group in hosts.chunk_by_mut(|a, b| a.preference == b.preference) {
        rng.shuffle(group);
    }
    MxPlan::Hosts(hosts)
}

/// Lower-cases a domain name and strips one trailing dot; the root (`.`) becomes empty.
pub fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn hosts(plan: MxPlan) -> Vec<(u16, String)> {
        match plan {
            MxPlan::Hosts(h) => h.into_iter().map(|h| (h.preference, h.host)).collect(),
            MxPlan::Null => panic!("unexpected null MX"),
        }
    }

    fn names(plan: MxPlan) -> Vec<String> {
        hosts(plan).into_iter().map(|(_, h)| h).collect()
    }

    #[test]
    fn ascending_preference() {
        let mut rng = fastrand::Rng::with_seed(1);
        let recs = [(30, "c.example."), (10, "a.example."), (20, "b.example.")];
        assert_eq!(
            hosts(order(&recs, &mut rng)),
            vec![(10, "a.example".into()), (20, "b.example".into()), (30, "c.example".into())]
        );
    }

    #[test]
    fn normalises_case_and_trailing_dot() {
        let mut rng = fastrand::Rng::with_seed(1);
        let recs = [(10, "MX1.Example.COM."), (20, "mx2.example.com")];
        assert_eq!(names(order(&recs, &mut rng)), vec!["mx1.example.com", "mx2.example.com"]);
    }

    #[test]
    fn duplicates_keep_lowest_preference() {
        let mut rng = fastrand::Rng::with_seed(1);
        let recs = [(20, "a.example."), (10, "b.example."), (5, "A.EXAMPLE"), (10, "b.example")];
        assert_eq!(hosts(order(&recs, &mut rng)), vec![(5, "a.example".into()), (10, "b.example".into())]);
    }

    #[test]
    fn equal_preferences_are_shuffled_deterministically() {
        let recs = [(10, "a.example"), (10, "b.example"), (10, "c.example"), (5, "first.example")];
        let run = |seed| names(order(&recs, &mut fastrand::Rng::with_seed(seed)));
        assert_eq!(run(7), run(7));
        let mut seen = HashSet::new();
        for seed in 0..200 {
            let order = run(seed);
            assert_eq!(order[0], "first.example");
            seen.insert(order[1..].to_vec());
        }
        assert_eq!(seen.len(), 6, "all 3! permutations of the equal group appear");
    }

    #[test]
    fn input_order_does_not_matter_for_a_seed() {
        let a = [(10, "a.example"), (10, "b.example"), (20, "c.example")];
        let b = [(20, "c.example"), (10, "b.example"), (10, "a.example")];
        for seed in 0..20 {
            let mut r1 = fastrand::Rng::with_seed(seed);
            let mut r2 = fastrand::Rng::with_seed(seed);
            assert_eq!(order(&a, &mut r1), order(&b, &mut r2));
        }
    }

    #[test]
    fn null_mx() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(order(&[(0, ".")], &mut rng), MxPlan::Null);
        assert_eq!(order(&[(0, "")], &mut rng), MxPlan::Null);
        assert_eq!(order(&[(0, "."), (10, ".")], &mut rng), MxPlan::Null);
    }

    #[test]
    fn root_mixed_with_real_exchangers_is_skipped() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(names(order(&[(0, "."), (10, "mx.example.")], &mut rng)), vec!["mx.example"]);
    }

    #[test]
    fn no_records_is_an_empty_plan() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(order::<&str>(&[], &mut rng), MxPlan::Hosts(vec![]));
    }

    #[test]
    fn normalize_names() {
        assert_eq!(normalize("Mail.Example.ORG."), "mail.example.org");
        assert_eq!(normalize("."), "");
        assert_eq!(normalize("host"), "host");
    }
}
