//! The client's address: the peer, or the `X-Forwarded-For` entry a trusted proxy vouches for
//! (`server.trusted_proxies`). A header from anyone else is ignored, so it cannot be used to
//! dodge the throttles or to throttle someone else.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// One `server.trusted_proxies` entry: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    pub fn parse(s: &str) -> Result<Net, String> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix must be 0–{max}"))?,
        };
        Ok(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

pub fn parse_all(entries: &[String]) -> Result<Vec<Net>, String> {
    entries.iter().map(|e| Net::parse(e)).collect()
}

/// From the peer inwards: while the hop is a trusted proxy, step to the address it says it
/// received the request from (the right-most `X-Forwarded-For` entry not yet used).
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[Net]) -> IpAddr {
    let mut client = peer;
    let mut entries = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    while trusted.iter().any(|n| n.contains(client)) {
        let Some(next) = entries.pop() else { break };
        match next.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            // Garbage from beyond the last proxy: that proxy's peer is all we know.
            Err(_) => break,
        }
    }
    client
}

/// The client address of a request, as the throttles and the audit log see it.
pub fn client_ip(req: &HttpRequest, trusted: &[Net]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if trusted.is_empty() {
        return peer;
    }
    let headers: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    resolve(peer, &headers, trusted)
}

/// The address a request reached the service at (`http://host:port`), for links printed
/// when `public.base_url` is not set: behind a trusted proxy what it forwards
/// (`X-Forwarded-Proto`, `X-Forwarded-Host`), otherwise the `Host` the client asked for.
pub fn reached_at(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<actix_web::web::Data<TrustedProxies>>()
        .map_or(&[][..], |t| t.0.as_slice());
    let peer = req.peer_addr().map(|a| a.ip());
    if peer.is_some_and(|p| trusted.iter().any(|n| n.contains(p))) {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| req.app_config().host().to_owned());
    format!("http://{host}")
}

/// `server.trusted_proxies`, parsed once per worker (validated at start).
pub struct TrustedProxies(pub Vec<Net>);

/// The client address as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl actix_web::FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let trusted = req
            .app_data::<actix_web::web::Data<TrustedProxies>>()
            .map_or(&[][..], |t| t.0.as_slice());
        std::future::ready(Ok(ClientIp(client_ip(req, trusted))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_match_their_members_only() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(ip("10.1.2.3")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.9.9.9")));
        let one = Net::parse("192.0.2.1").unwrap();
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        let v6 = Net::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Net::parse("10.0.0.0/33").is_err() && Net::parse("proxy").is_err());
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted = parse_all(&["10.0.0.0/8".into()]).unwrap();
        // Untrusted peer: its header is ignored.
        assert_eq!(
            resolve(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        // Trusted peer: the entry it appended is the client; what the client wrote is not.
        assert_eq!(
            resolve(ip("10.0.0.2"), &["1.1.1.1, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Two trusted hops.
        assert_eq!(
            resolve(ip("10.0.0.2"), &["198.51.100.7, 10.0.0.3"], &trusted),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last proxy.
        assert_eq!(
            resolve(ip("10.0.0.2"), &["nonsense"], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(resolve(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
    }
}
