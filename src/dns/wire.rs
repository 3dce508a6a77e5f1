//! hickory-proto glue: names, query encoding, reply checks and answer classification with TTLs.

use std::rc::Rc;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::DnsError;

/// EDNS(0) payload size we advertise (the DNS flag day 2020 value).
pub(crate) const EDNS_PAYLOAD: u16 = 1232;
/// Negative TTL when the reply carries no SOA.
const NEGATIVE_DEFAULT_TTL: u32 = 60;
/// Longest time a negative answer is trusted (RFC 2308 suggests 3 hours).
const NEGATIVE_MAX_TTL: u32 = 3 * 3600;
/// Longest time a positive answer is trusted, whatever the zone says.
const POSITIVE_MAX_TTL: u32 = 86_400;

/// A final answer to one question (what the cache stores).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Records of the asked type (CNAME chains already followed by the server).
    Records(Rc<[RData]>),
    /// The name exists but has no record of the asked type.
    NoData,
    /// The name does not exist.
    NxDomain,
}

/// What one reply means for the question asked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// An answer with the number of seconds it may be cached.
    Final(Answer, u32),
    /// The UDP reply was truncated: ask again over TCP.
    Truncated,
    /// The server could not answer (SERVFAIL, REFUSED, ...): try another server.
    Failed(String),
}

/// Parses a domain or host name (with or without the trailing dot) into a fully qualified name.
pub(crate) fn parse_name(text: &str) -> Result<Name, DnsError> {
    let invalid = || DnsError::InvalidName(text.to_string());
    if text.is_empty() || text == "." {
        return Err(invalid());
    }
    let mut name = Name::from_ascii(text).map_err(|_| invalid())?;
    name.set_fqdn(true);
    Ok(name)
}

/// The name as lower-case text without the trailing dot.
pub(crate) fn name_text(name: &Name) -> String {
    super::mx::normalize(&name.to_ascii())
}

/// Encodes a recursive query for `name`/`rtype` with message id `id`.
pub(crate) fn encode_query(id: u16, name: &Name, rtype: RecordType) -> Result<Vec<u8>, String> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    msg.set_edns(edns);
    msg.to_vec().map_err(|e| format!("cannot encode query for {name}: {e}"))
}

/// True when `msg` is a reply to our query: same id, a response, the same single question.
pub(crate) fn is_reply_to(msg: &Message, id: u16, name: &Name, rtype: RecordType) -> bool {
    msg.metadata.id == id
        && msg.metadata.message_type == MessageType::Response
        && msg.queries.len() == 1
        && msg.queries[0].query_type == rtype
        && msg.queries[0].name == *name
}

/// Classifies a reply to a question of type `rtype`.
pub(crate) fn classify(msg: &Message, rtype: RecordType) -> Outcome {
    if msg.metadata.truncation {
        return Outcome::Truncated;
    }
    match msg.metadata.response_code {
        ResponseCode::NoError => {
            let records: Vec<RData> =
                msg.answers.iter().filter(|r| r.record_type() == rtype).map(|r| r.data.clone()).collect();
            if records.is_empty() {
                return Outcome::Final(Answer::NoData, negative_ttl(msg));
            }
            let ttl = msg.answers.iter().map(|r| r.ttl).min().unwrap_or(0).min(POSITIVE_MAX_TTL);
            Outcome::Final(Answer::Records(records.into()), ttl)
        }
        ResponseCode::NXDomain => Outcome::Final(Answer::NxDomain, negative_ttl(msg)),
        code => Outcome::Failed(format!("server answered {}", code.to_str())),
    }
}

/// RFC 2308: the lesser of the SOA record's TTL and its MINIMUM field, or a short default.
fn negative_ttl(msg: &Message) -> u32 {
    let soa = msg.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
        _ => None,
    });
    soa.unwrap_or(NEGATIVE_DEFAULT_TTL).min(NEGATIVE_MAX_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME, SOA};
    use hickory_proto::rr::Record;
    use std::net::Ipv4Addr;

    fn name(s: &str) -> Name {
        parse_name(s).unwrap()
    }

    fn reply(code: ResponseCode) -> Message {
        let mut msg = Message::new(7, MessageType::Response, OpCode::Query);
        msg.metadata.response_code = code;
        msg.add_query(Query::query(name("example.com"), RecordType::A));
        msg
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        let soa = SOA::new(name("ns.example"), name("hostmaster.example"), 1, 3600, 600, 86400, minimum);
        Record::from_rdata(name("example.com"), ttl, RData::SOA(soa))
    }

    #[test]
    fn names_parse_case_insensitively_and_print_normalised() {
        assert_eq!(name("Example.COM."), name("example.com"));
        assert_eq!(name_text(&name("Mail.Example.COM")), "mail.example.com");
        assert_eq!(parse_name("."), Err(DnsError::InvalidName(".".into())));
        assert_eq!(parse_name(""), Err(DnsError::InvalidName("".into())));
        assert!(parse_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn query_round_trips_and_matches_its_reply() {
        let bytes = encode_query(42, &name("example.com"), RecordType::MX).unwrap();
        let msg = Message::from_vec(&bytes).unwrap();
        assert!(msg.metadata.recursion_desired);
        assert_eq!(msg.edns.as_ref().map(|e| e.max_payload()), Some(EDNS_PAYLOAD));
        let mut answer = msg.clone();
        answer.metadata.message_type = MessageType::Response;
        assert!(is_reply_to(&answer, 42, &name("EXAMPLE.com"), RecordType::MX));
        assert!(!is_reply_to(&msg, 42, &name("example.com"), RecordType::MX), "a query is no reply");
        assert!(!is_reply_to(&answer, 43, &name("example.com"), RecordType::MX));
        assert!(!is_reply_to(&answer, 42, &name("example.org"), RecordType::MX));
        assert!(!is_reply_to(&answer, 42, &name("example.com"), RecordType::A));
    }

    #[test]
    fn positive_ttl_is_the_minimum_of_the_answers() {
        let mut msg = reply(ResponseCode::NoError);
        msg.add_answer(Record::from_rdata(name("example.com"), 300, RData::CNAME(CNAME(name("host.example")))));
        msg.add_answer(Record::from_rdata(name("host.example"), 600, RData::A(A(Ipv4Addr::LOCALHOST))));
        let expected = Answer::Records(vec![RData::A(A(Ipv4Addr::LOCALHOST))].into());
        assert_eq!(classify(&msg, RecordType::A), Outcome::Final(expected, 300));
    }

    #[test]
    fn negative_ttl_from_soa_or_default() {
        let mut msg = reply(ResponseCode::NXDomain);
        assert_eq!(classify(&msg, RecordType::A), Outcome::Final(Answer::NxDomain, 60));
        msg.add_authority(soa(900, 120));
        assert_eq!(classify(&msg, RecordType::A), Outcome::Final(Answer::NxDomain, 120));
        let mut nodata = reply(ResponseCode::NoError);
        nodata.add_authority(soa(30, 120));
        assert_eq!(classify(&nodata, RecordType::A), Outcome::Final(Answer::NoData, 30));
        let mut long = reply(ResponseCode::NoError);
        long.add_authority(soa(999_999, 999_999));
        assert_eq!(classify(&long, RecordType::A), Outcome::Final(Answer::NoData, NEGATIVE_MAX_TTL));
    }

    #[test]
    fn failures_and_truncation() {
        assert!(matches!(classify(&reply(ResponseCode::ServFail), RecordType::A), Outcome::Failed(_)));
        assert!(matches!(classify(&reply(ResponseCode::Refused), RecordType::A), Outcome::Failed(_)));
        let mut tc = reply(ResponseCode::NoError);
        tc.metadata.truncation = true;
        assert_eq!(classify(&tc, RecordType::A), Outcome::Truncated);
    }
}
