//! Who sent a request, behind a reverse proxy. The proxy's own address is the peer of every
//! request it forwards; the visitor's or curator's address is in `X-Forwarded-For`, which
//! anyone can write: it is believed only from the addresses in `service.trusted_proxies`.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The addresses whose `X-Forwarded-For` is believed (exact addresses: a museum's proxy is
/// one or two machines).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

/// The request's sender as the servers count it (limits, lockouts, the audit log).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Client {
    pub ip: IpAddr,
    /// Forwarded by a trusted proxy: never "this machine", whatever the address says.
    pub proxied: bool,
}

impl TrustedProxies {
    pub fn new(addresses: &[IpAddr]) -> TrustedProxies {
        TrustedProxies(addresses.to_vec())
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.0.contains(&peer)
    }

    /// The sender of a request that came from `peer`: the peer itself, or, from a trusted
    /// proxy, the nearest address in `X-Forwarded-For` that is not a trusted proxy (each proxy
    /// appends the address it heard from; what a client wrote itself stands further left;
    /// a header naming nobody usable gives the unspecified address, shared by all such requests).
    /// Without the header, a request from a proxy's address came straight from that machine
    /// (a technician's `curl` on the kiosk): the proxy must set it (nginx:
    /// `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        if !self.trusts(peer) || !headers.contains_key("x-forwarded-for") {
            return Client { ip: peer, proxied: false };
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let nearest =
            forwarded.iter().rev().map(|a| a.parse::<IpAddr>()).find(|a| !matches!(a, Ok(ip) if self.trusts(*ip)));
        let ip = match nearest {
            Some(Ok(ip)) => ip,
            // Garbage where an address should be: not believed, and not this machine either.
            Some(Err(_)) | None => IpAddr::from([0, 0, 0, 0]),
        };
        Client { ip, proxied: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_is_believed_from_a_trusted_proxy_only_and_its_nearest_untrusted_address_counts() {
        let p = TrustedProxies::new(&["127.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // From a stranger, the header is ignored.
        assert_eq!(
            p.client(ip("192.168.1.9"), &headers(&["127.0.0.1"])),
            Client { ip: ip("192.168.1.9"), proxied: false }
        );
        // The client wrote "127.0.0.1" itself; the proxy appended what it saw.
        let c = p.client(ip("127.0.0.1"), &headers(&["127.0.0.1, 203.0.113.7"]));
        assert_eq!(c, Client { ip: ip("203.0.113.7"), proxied: true });
        // Two proxies in a row, over two header lines.
        let c = p.client(ip("127.0.0.1"), &headers(&["198.51.100.4", "10.0.0.2"]));
        assert_eq!(c.ip, ip("198.51.100.4"));
        // A proxied request is never this machine, even when the address says so.
        let c = p.client(ip("127.0.0.1"), &headers(&["::1"]));
        assert!(c.proxied);
        // Garbage, or only proxies named: one shared unspecified address, still proxied.
        assert_eq!(p.client(ip("127.0.0.1"), &headers(&["not-an-address"])).ip, ip("0.0.0.0"));
        assert_eq!(p.client(ip("127.0.0.1"), &headers(&["10.0.0.2"])), Client { ip: ip("0.0.0.0"), proxied: true });
        // No header at all: straight from the proxy's machine (a technician's curl).
        assert_eq!(p.client(ip("127.0.0.1"), &headers(&[])), Client { ip: ip("127.0.0.1"), proxied: false });
    }
}
