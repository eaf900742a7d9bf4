//! Proof of who sent a farm message. The server checks the subject a client publishes to,
//! not the reply subject it names, and JetStream answers on that reply subject with the
//! server's own rights: any client with JetStream access can have the server write a message
//! of its choosing into any subject (a stored message relayed by a direct get, or an
//! acknowledgement). So no subject proves its sender, and every message that matters carries
//! its own proof (docs/farm.md, "What a stolen kiosk can do"):
//!
//! - **A job's secret.** Each job (and each Live session) carries 32 fresh random bytes in its
//!   description; only painters can read the work queue. Every snapshot, painting, refusal
//!   and lease of that job carries an HMAC-SHA256 with it, and so does each cancel; a Live
//!   frame is sealed with it (ChaCha20-Poly1305), so only a painter given the session reads it.
//! - **Identities.** scripts/farm-certs.sh gives each kiosk and painter an Ed25519 key and a
//!   certificate (its role and name, signed by the farm's own key). A kiosk signs its jobs, and
//!   a painter paints only jobs signed by the kiosk its subject names; a painter signs its
//!   announcements, and a kiosk lists only painters whose certificate names them.
//!
//! A farm without users (loopback, `scripts/farm.sh`) has no identities; the job secrets are
//! used there too.

use std::path::Path;

use ring::{aead, hmac, signature};
use sha2::Digest as _;

use crate::ids::{hex, random_bytes, unhex};

/// The part of a message's proof that says which scheme made it (a new scheme, a new tag).
const VERSION: &str = "gp1";

/// The SHA-256 of a payload (what a proof covers of it).
pub fn digest(payload: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(payload).into()
}

/// The bytes a proof covers: the parts, each with its length first, so that no two lists of
/// parts read the same.
fn covered(domain: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    for part in
        std::iter::once(VERSION.as_bytes()).chain(std::iter::once(domain.as_bytes())).chain(parts.iter().copied())
    {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// A job's (or a Live session's) secret: 32 random bytes, known to the kiosk and to the
/// painters that pulled the job.
#[derive(Clone, PartialEq, Eq)]
pub struct JobSecret([u8; 32]);

impl std::fmt::Debug for JobSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobSecret(..)")
    }
}

impl JobSecret {
    pub fn random() -> JobSecret {
        JobSecret(random_bytes())
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    pub fn from_hex(text: &str) -> Option<JobSecret> {
        unhex(text)?.try_into().ok().map(JobSecret)
    }

    fn key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &self.0)
    }

    /// An HMAC over `parts` (hex, for a header or a JSON field).
    pub fn mac(&self, domain: &str, parts: &[&[u8]]) -> String {
        hex(hmac::sign(&self.key(), &covered(domain, parts)).as_ref())
    }

    /// Does `mac` (hex) prove `parts`? Compared in constant time.
    pub fn verify(&self, domain: &str, parts: &[&[u8]], mac: &str) -> bool {
        unhex(mac).is_some_and(|tag| hmac::verify(&self.key(), &covered(domain, parts), &tag).is_ok())
    }

    fn sealing_key(&self) -> aead::LessSafeKey {
        // A key of its own for sealing, derived from the secret (never the MAC key itself).
        let derived = hmac::sign(&self.key(), &covered("seal-key", &[]));
        let unbound = aead::UnboundKey::new(&aead::CHACHA20_POLY1305, derived.as_ref()).expect("a 32-byte key");
        aead::LessSafeKey::new(unbound)
    }

    /// Seals `payload` (encrypted and authenticated, with `aad` authenticated beside it); the
    /// nonce, in hex, travels with it.
    pub fn seal(&self, aad: &[u8], payload: &[u8]) -> (String, Vec<u8>) {
        let nonce: [u8; 12] = random_bytes();
        let mut sealed = payload.to_vec();
        self.sealing_key()
            .seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(aad), &mut sealed)
            .expect("sealing a message of a sane size");
        (hex(&nonce), sealed)
    }

    /// The payload of a sealed message, if it was sealed with this secret and `aad`.
    pub fn open(&self, aad: &[u8], nonce: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; 12] = unhex(nonce)?.try_into().ok()?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .sealing_key()
            .open_in_place(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(aad), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// What a certificate says its holder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Kiosk,
    Painter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Painter => "painter",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "kiosk" => Some(Role::Kiosk),
            "painter" => Some(Role::Painter),
            _ => None,
        }
    }
}

/// A holder's public key with the farm's signature over its role and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub role: Role,
    pub name: String,
    public: [u8; 32],
    signature: Vec<u8>,
}

impl Certificate {
    /// What the farm's key signs (scripts/farm-certs.sh writes the same bytes).
    fn signed_text(role: Role, name: &str, public: &[u8]) -> String {
        format!("gallery-painter farm certificate 1\n{}\n{name}\n{}\n", role.as_str(), hex(public))
    }

    /// `role:name:public:signature`, as it rides in a header.
    pub fn to_header(&self) -> String {
        format!("{}:{}:{}:{}", self.role.as_str(), self.name, hex(&self.public), hex(&self.signature))
    }

    pub fn from_header(text: &str) -> Option<Certificate> {
        let mut parts = text.trim().split(':');
        let role = Role::parse(parts.next()?)?;
        let name = parts.next()?.to_string();
        let public = unhex(parts.next()?)?.try_into().ok()?;
        let signature = unhex(parts.next()?)?;
        // The farm's signature binds the name exactly; no name of the farm holds a ':'.
        (parts.next().is_none() && !name.is_empty()).then_some(Certificate { role, name, public, signature })
    }

    /// Signed by the farm's key?
    fn is_signed_by(&self, farm_key: &[u8; 32]) -> bool {
        let text = Certificate::signed_text(self.role, &self.name, &self.public);
        signature::UnparsedPublicKey::new(&signature::ED25519, farm_key)
            .verify(text.as_bytes(), &self.signature)
            .is_ok()
    }
}

/// Why a message was not taken for what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    #[error("it carries no signature")]
    Unsigned,
    #[error("its certificate is not the farm's")]
    NotCertified,
    #[error("it is signed by {role} {name}, not by {expected}")]
    WrongSigner { role: &'static str, name: String, expected: String },
    #[error("its signature does not match its content")]
    BadSignature,
}

/// A kiosk's or painter's own key and certificate, and the farm's key it trusts
/// (`identities/NAME` of scripts/farm-certs.sh).
pub struct Identity {
    pub certificate: Certificate,
    key: signature::Ed25519KeyPair,
    farm_key: [u8; 32],
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({} {})", self.certificate.role.as_str(), self.certificate.name)
    }
}

impl Identity {
    /// Reads an identity file; `role` and `name`: what this process is on the farm.
    pub fn load(path: &Path, role: Role, name: &str) -> anyhow::Result<Identity> {
        let fix = format!(
            "make it with scripts/farm-certs.sh (--{} {name}) and copy identities/{name} to this machine",
            role.as_str()
        );
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the farm identity {}: {e}\n  fix: {fix}", path.display()))?;
        let identity = Identity::parse(&text).map_err(|line| {
            anyhow::anyhow!("the farm identity {} is not readable (line {line})\n  fix: {fix}", path.display())
        })?;
        let c = &identity.certificate;
        anyhow::ensure!(
            c.role == role && c.name == name,
            "the farm identity {} is {} {}'s, not {} {name}'s\n  fix: {fix}",
            path.display(),
            c.role.as_str(),
            c.name,
            role.as_str()
        );
        anyhow::ensure!(
            c.is_signed_by(&identity.farm_key),
            "the farm identity {}: its certificate is not signed by the farm key it names\n  fix: {fix}",
            path.display()
        );
        Ok(identity)
    }

    /// `key: value` lines (`#` comments); Err: the line number of what is wrong (0: missing).
    fn parse(text: &str) -> Result<Identity, usize> {
        let mut fields = std::collections::HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once(':').ok_or(n + 1)?;
            fields.insert(k.trim().to_string(), (n + 1, v.trim().to_string()));
        }
        let get = |k: &str| fields.get(k).map(|(n, v)| (*n, v.as_str())).ok_or(0usize);
        let bytes = |k: &str| get(k).and_then(|(n, v)| unhex(v).ok_or(n));
        let (n, role) = get("role")?;
        let role = Role::parse(role).ok_or(n)?;
        let name = get("name")?.1.to_string();
        let farm_key: [u8; 32] = bytes("farm")?.try_into().map_err(|_| get("farm").map_or(0, |g| g.0))?;
        let seed = bytes("key")?;
        let key = signature::Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| get("key").map_or(0, |g| g.0))?;
        let public: [u8; 32] = bytes("public")?.try_into().map_err(|_| get("public").map_or(0, |g| g.0))?;
        if signature::KeyPair::public_key(&key).as_ref() != public {
            return Err(get("public")?.0);
        }
        let signature = bytes("certificate")?;
        Ok(Identity { certificate: Certificate { role, name, public, signature }, key, farm_key })
    }

    /// Signs `parts`: the certificate and the signature (hex), for two headers or fields.
    pub fn sign(&self, domain: &str, parts: &[&[u8]]) -> (String, String) {
        (self.certificate.to_header(), hex(self.key.sign(&covered(domain, parts)).as_ref()))
    }

    /// Checks a message signed by `role` `name` with [`Identity::sign`].
    pub fn verify(
        &self,
        (certificate, sig): (Option<&str>, Option<&str>),
        role: Role,
        name: &str,
        domain: &str,
        parts: &[&[u8]],
    ) -> Result<(), Forgery> {
        let (Some(certificate), Some(sig)) = (certificate, sig) else { return Err(Forgery::Unsigned) };
        let c = Certificate::from_header(certificate).ok_or(Forgery::NotCertified)?;
        if !c.is_signed_by(&self.farm_key) {
            return Err(Forgery::NotCertified);
        }
        if c.role != role || c.name != name {
            return Err(Forgery::WrongSigner {
                role: c.role.as_str(),
                name: c.name,
                expected: format!("{} {name}", role.as_str()),
            });
        }
        let sig = unhex(sig).ok_or(Forgery::BadSignature)?;
        signature::UnparsedPublicKey::new(&signature::ED25519, c.public)
            .verify(&covered(domain, parts), &sig)
            .map_err(|_| Forgery::BadSignature)
    }
}

/// Says each kind of forgery once a minute at most (an attacker's flood does not flood the log).
#[derive(Default)]
pub struct ForgeryLog {
    said: std::collections::HashMap<String, std::time::Instant>,
}

impl ForgeryLog {
    /// Logs `what` (a forged message dropped) unless the same was said within a minute.
    pub fn dropped(&mut self, what: &str, why: &dyn std::fmt::Display) {
        let now = std::time::Instant::now();
        let key = what.to_string();
        if self.said.get(&key).is_some_and(|t| now.duration_since(*t) < std::time::Duration::from_secs(60)) {
            return;
        }
        if self.said.len() > 1000 {
            self.said.clear();
        }
        self.said.insert(key, now);
        tracing::warn!("farm: a forged message was dropped: {what}: {why}");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An identity made here as scripts/farm-certs.sh makes one (the test of the script checks
    /// that its files load).
    pub(crate) fn identity_text(farm_seed: [u8; 32], role: Role, name: &str, seed: [u8; 32]) -> String {
        let farm = signature::Ed25519KeyPair::from_seed_unchecked(&farm_seed).unwrap();
        let key = signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let public = signature::KeyPair::public_key(&key).as_ref().to_vec();
        let cert = farm.sign(Certificate::signed_text(role, name, &public).as_bytes());
        format!(
            "# test identity\nfarm: {}\nrole: {}\nname: {name}\nkey: {}\npublic: {}\ncertificate: {}\n",
            hex(signature::KeyPair::public_key(&farm).as_ref()),
            role.as_str(),
            hex(&seed),
            hex(&public),
            hex(cert.as_ref())
        )
    }

    fn identity(farm_seed: u8, role: Role, name: &str, seed: u8) -> Identity {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, identity_text([farm_seed; 32], role, name, [seed; 32])).unwrap();
        Identity::load(&path, role, name).unwrap()
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000fFF"), Some(vec![0, 15, 255]));
        for bad in ["0", "zz", "0g", "abc"] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_mac_proves_its_parts_and_nothing_else() {
        let s = JobSecret::random();
        let mac = s.mac("out", &[b"gp.results.k.j", b"headers", &digest(b"png")]);
        assert!(s.verify("out", &[b"gp.results.k.j", b"headers", &digest(b"png")], &mac));
        // Another subject, payload, domain, secret, or a moved boundary between parts.
        assert!(!s.verify("out", &[b"gp.results.x.j", b"headers", &digest(b"png")], &mac));
        assert!(!s.verify("out", &[b"gp.results.k.j", b"headers", &digest(b"PNG")], &mac));
        assert!(!s.verify("cancel", &[b"gp.results.k.j", b"headers", &digest(b"png")], &mac));
        assert!(!JobSecret::random().verify("out", &[b"gp.results.k.j", b"headers", &digest(b"png")], &mac));
        assert!(!s.verify("out", &[b"gp.results.k.jheaders", b"", &digest(b"png")], &mac));
        assert!(!s.verify("out", &[b"gp.results.k.j", b"headers", &digest(b"png")], "00"));
        assert_eq!(JobSecret::from_hex(&s.to_hex()), Some(s.clone()));
        assert_eq!(JobSecret::from_hex("abcd"), None);
    }

    #[test]
    fn a_sealed_frame_opens_only_with_its_secret_and_its_headers() {
        let s = JobSecret::random();
        let (nonce, sealed) = s.seal(b"frame 7", b"JPEG bytes");
        assert_ne!(sealed[..10], b"JPEG bytes"[..], "encrypted");
        assert_eq!(s.open(b"frame 7", &nonce, &sealed).as_deref(), Some(&b"JPEG bytes"[..]));
        assert_eq!(s.open(b"frame 8", &nonce, &sealed), None, "headers moved to another frame");
        assert_eq!(JobSecret::random().open(b"frame 7", &nonce, &sealed), None);
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert_eq!(s.open(b"frame 7", &nonce, &tampered), None);
    }

    #[test]
    fn a_signature_names_its_signer_and_is_checked_against_the_farms_key() {
        let kiosk = identity(1, Role::Kiosk, "hall-a", 2);
        let painter = identity(1, Role::Painter, "p1", 3);
        let parts: [&[u8]; 2] = [b"gp.jobs.hall-a", b"spec"];
        let (cert, sig) = kiosk.sign("job", &parts);
        let signed = (Some(cert.as_str()), Some(sig.as_str()));
        assert_eq!(painter.verify(signed, Role::Kiosk, "hall-a", "job", &parts), Ok(()));
        // In another kiosk's name, with other content, unsigned, or certified by another farm.
        assert!(matches!(
            painter.verify(signed, Role::Kiosk, "hall-b", "job", &parts),
            Err(Forgery::WrongSigner { .. })
        ));
        assert_eq!(
            painter.verify(signed, Role::Kiosk, "hall-a", "job", &[b"gp.jobs.hall-a", b"other"]),
            Err(Forgery::BadSignature)
        );
        assert_eq!(painter.verify((None, None), Role::Kiosk, "hall-a", "job", &parts), Err(Forgery::Unsigned));
        let stranger = identity(9, Role::Kiosk, "hall-a", 2);
        let (cert, sig) = stranger.sign("job", &parts);
        assert_eq!(
            painter.verify((Some(&cert), Some(&sig)), Role::Kiosk, "hall-a", "job", &parts),
            Err(Forgery::NotCertified)
        );
        // A painter's own certificate does not make it a kiosk.
        let (cert, sig) = painter.sign("job", &parts);
        assert!(matches!(
            kiosk.verify((Some(&cert), Some(&sig)), Role::Kiosk, "p1", "job", &parts),
            Err(Forgery::WrongSigner { .. })
        ));
    }

    #[test]
    fn an_identity_file_for_another_name_or_role_or_a_broken_one_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall-a");
        std::fs::write(&path, identity_text([1; 32], Role::Kiosk, "hall-a", [2; 32])).unwrap();
        let e = Identity::load(&path, Role::Kiosk, "hall-b").unwrap_err().to_string();
        assert!(e.contains("kiosk hall-a's, not kiosk hall-b's") && e.contains("farm-certs.sh"), "{e}");
        let e = Identity::load(&path, Role::Painter, "hall-a").unwrap_err().to_string();
        assert!(e.contains("not painter hall-a's"), "{e}");
        let text = std::fs::read_to_string(&path).unwrap().replace("key: 02", "key: zz");
        std::fs::write(&path, text).unwrap();
        let e = Identity::load(&path, Role::Kiosk, "hall-a").unwrap_err().to_string();
        assert!(e.contains("not readable (line 5)"), "{e}");
        let e = Identity::load(&dir.path().join("missing"), Role::Kiosk, "hall-a").unwrap_err().to_string();
        assert!(e.contains("cannot read the farm identity") && e.contains("fix:"), "{e}");
    }
}
