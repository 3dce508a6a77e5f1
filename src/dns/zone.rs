//! The in-memory zone a [`Responder`](super::Responder) answers from, and how it answers.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Edns, Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, PTR, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::mx::normalize;
use super::wire::{self, EDNS_PAYLOAD};

/// TTL of answers unless [`Zone::ttl`] changes it.
const DEFAULT_TTL: u32 = 300;

/// Names and their records; every name not listed is NXDOMAIN. Names are case-insensitive.
///
/// Builder methods chain: `zone.mx("example.com", 10, "mx.example.com").a("mx.example.com", ip)`.
#[derive(Debug, Clone)]
pub struct Zone {
    names: HashMap<String, Node>,
    ttl: u32,
}

#[derive(Debug, Clone, Default)]
struct Node {
    mx: Vec<(u16, String)>,
    a: Vec<Ipv4Addr>,
    aaaa: Vec<Ipv6Addr>,
    ptr: Vec<String>,
    fault: Option<Fault>,
    truncate_udp: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    NxDomain,
    ServFail,
}

impl Default for Zone {
    fn default() -> Self {
        Zone { names: HashMap::new(), ttl: DEFAULT_TTL }
    }
}

impl Zone {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> Zone {
        Zone::default()
    }

    /// TTL of every answer, and of negative answers (the SOA minimum); 0 disables caching.
    pub fn ttl(&mut self, seconds: u32) -> &mut Self {
        self.ttl = seconds;
        self
    }

    /// Declares `name` without records: NODATA for every type (not NXDOMAIN).
    pub fn exists(&mut self, name: &str) -> &mut Self {
        self.node(name);
        self
    }

    /// Adds an MX record `domain → host` with `preference`.
    pub fn mx(&mut self, domain: &str, preference: u16, host: &str) -> &mut Self {
        self.node(domain).mx.push((preference, host.to_string()));
        self
    }

    /// Makes `domain` publish a null MX (RFC 7505), replacing its MX records.
    pub fn null_mx(&mut self, domain: &str) -> &mut Self {
        self.node(domain).mx = vec![(0, ".".to_string())];
        self
    }

    /// Adds an A record.
    pub fn a(&mut self, host: &str, ip: Ipv4Addr) -> &mut Self {
        self.node(host).a.push(ip);
        self
    }

    /// Adds an AAAA record.
    pub fn aaaa(&mut self, host: &str, ip: Ipv6Addr) -> &mut Self {
        self.node(host).aaaa.push(ip);
        self
    }

    /// Adds a PTR record `ip → name` (under in-addr.arpa or ip6.arpa).
    pub fn ptr(&mut self, ip: IpAddr, name: &str) -> &mut Self {
        self.node(&reverse_name(ip)).ptr.push(name.to_string());
        self
    }

    /// Answers NXDOMAIN for `name`, whatever records it has.
    pub fn nxdomain(&mut self, name: &str) -> &mut Self {
        self.node(name).fault = Some(Fault::NxDomain);
        self
    }

    /// Answers SERVFAIL for `name`.
    pub fn servfail(&mut self, name: &str) -> &mut Self {
        self.node(name).fault = Some(Fault::ServFail);
        self
    }

    /// Over UDP, answers `name` with the TC bit and no records; TCP gets the full answer.
    pub fn truncate_udp(&mut self, name: &str) -> &mut Self {
        self.node(name).truncate_udp = true;
        self
    }

    fn node(&mut self, name: &str) -> &mut Node {
        self.names.entry(normalize(name)).or_default()
    }

    /// The reply to `query`, received over UDP when `udp` is true.
    pub(crate) fn answer(&self, query: &Message, udp: bool) -> Message {
        let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.metadata.authoritative = true;
        reply.add_queries(query.queries.iter().cloned());
        if query.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PAYLOAD);
            reply.set_edns(edns);
        }
        if query.metadata.op_code != OpCode::Query || query.queries.len() != 1 {
            reply.metadata.response_code = ResponseCode::FormErr;
            return reply;
        }
        let question = &query.queries[0];
        let Some(node) = self.names.get(&wire::name_text(&question.name)) else {
            reply.metadata.response_code = ResponseCode::NXDomain;
            reply.add_authority(self.soa(&question.name));
            return reply;
        };
        match node.fault {
            Some(Fault::NxDomain) => {
                reply.metadata.response_code = ResponseCode::NXDomain;
                reply.add_authority(self.soa(&question.name));
            }
            Some(Fault::ServFail) => reply.metadata.response_code = ResponseCode::ServFail,
            None if udp && node.truncate_udp => reply.metadata.truncation = true,
            None => {
                let records = self.records(node, &question.name, question.query_type);
                if records.is_empty() {
                    reply.add_authority(self.soa(&question.name));
                } else {
                    reply.add_answers(records);
                }
            }
        }
        reply
    }

    fn records(&self, node: &Node, owner: &Name, rtype: RecordType) -> Vec<Record> {
        let data: Vec<RData> = match rtype {
            RecordType::MX => node
                .mx
                .iter()
                .filter_map(|(pref, host)| exchange(host).map(|name| RData::MX(MX::new(*pref, name))))
                .collect(),
            RecordType::A => node.a.iter().map(|ip| RData::A(A(*ip))).collect(),
            RecordType::AAAA => node.aaaa.iter().map(|ip| RData::AAAA(AAAA(*ip))).collect(),
            RecordType::PTR => {
                node.ptr.iter().filter_map(|n| wire::parse_name(n).ok()).map(|n| RData::PTR(PTR(n))).collect()
            }
            _ => Vec::new(),
        };
        data.into_iter().map(|d| Record::from_rdata(owner.clone(), self.ttl, d)).collect()
    }

    fn soa(&self, owner: &Name) -> Record {
        let host = |s: &str| wire::parse_name(s).unwrap_or_else(|_| Name::root());
        let soa = SOA::new(host("ns.invalid"), host("hostmaster.invalid"), 1, 3600, 600, 86_400, self.ttl);
        Record::from_rdata(owner.clone(), self.ttl, RData::SOA(soa))
    }
}

/// An MX exchange name; `.` (null MX) is the root.
fn exchange(host: &str) -> Option<Name> {
    if normalize(host).is_empty() {
        return Some(Name::root());
    }
    wire::parse_name(host).ok()
}

/// The reverse-lookup name of `ip`, lower-case without the trailing dot.
fn reverse_name(ip: IpAddr) -> String {
    wire::name_text(&Name::from(ip))
}
