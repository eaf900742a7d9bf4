//! What each farm message proves, and how it is checked: a painter's snapshots, paintings
//! and Live messages (an HMAC with the job's secret over the subject, the headers and the
//! payload), a kiosk's jobs (its identity's signature) and cancels, sealed Live frames, and
//! the painters' announcements (signed). The primitives are in [`super::trust`].

use async_nats::HeaderMap;
use async_nats::jetstream;
use serde::{Deserialize, Serialize};

use super::protocol::{
    Announcement, H_ATTEMPT, H_CONTENT, H_ERROR, H_FINISHED, H_FRAME, H_ITERATION, H_JOB, H_LEVEL, H_LEVELS, H_LOSS,
    H_MAC, H_MAKING_OF, H_PAINTER, H_RATE, H_SEQ, H_STYLE, H_TEMPORAL, H_TOTAL, H_TV, H_WANT, cancel_subject,
};
use super::trust::{self, Forgery, Identity, JobSecret, Role};

/// The headers a painter's proof covers, in this order (a header left out is proven absent).
const PROVEN_HEADERS: [&str; 19] = [
    H_JOB,
    H_ATTEMPT,
    H_SEQ,
    H_LEVEL,
    H_LEVELS,
    H_ITERATION,
    H_TOTAL,
    H_LOSS,
    H_CONTENT,
    H_STYLE,
    H_TV,
    H_TEMPORAL,
    H_RATE,
    H_PAINTER,
    H_FINISHED,
    H_ERROR,
    H_MAKING_OF,
    H_FRAME,
    H_WANT,
];

fn proven_headers(headers: &HeaderMap) -> Vec<u8> {
    let mut out = String::new();
    for name in PROVEN_HEADERS {
        match headers.get(name) {
            Some(v) => out.push_str(&format!("{name}:{}\n", v.as_str())),
            None => out.push_str(&format!("{name}!\n")),
        }
    }
    out.into_bytes()
}

/// Adds the proof that a painter given the job (`secret`) sent this message on `subject`.
pub fn prove_output(secret: &JobSecret, subject: &str, headers: &mut HeaderMap, payload: &[u8]) {
    let mac = secret.mac("output", &[subject.as_bytes(), &proven_headers(headers), &trust::digest(payload)]);
    headers.insert(H_MAC, mac.as_str());
}

/// Did a painter given the job (`secret`) send this on `subject`? `payload_digest`: [`trust::digest`].
pub fn output_proven(secret: &JobSecret, subject: &str, headers: &HeaderMap, payload_digest: &[u8; 32]) -> bool {
    headers.get(H_MAC).is_some_and(|mac| {
        secret.verify("output", &[subject.as_bytes(), &proven_headers(headers), payload_digest], mac.as_str())
    })
}

/// A job as the kiosk signs it: its subject, description and photo.
pub fn job_parts<'a>(subject: &'a str, spec: &'a str, payload_digest: &'a [u8; 32]) -> [&'a [u8]; 3] {
    [subject.as_bytes(), spec.as_bytes(), payload_digest]
}

/// A cancel's payload: what it cancels and the proof that the job's kiosk sent it.
pub fn cancel_payload(secret: &JobSecret, kiosk: &str, what: &str) -> String {
    format!("{what} {}", secret.mac("cancel", &[cancel_subject(kiosk).as_bytes(), what.as_bytes()]))
}

/// What a cancel's payload names and its proof.
pub fn read_cancel(payload: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (what, mac) = text.rsplit_once(' ')?;
    Some((what.to_string(), mac.to_string()))
}

pub fn cancel_proven(secret: &JobSecret, kiosk: &str, what: &str, mac: &str) -> bool {
    secret.verify("cancel", &[cancel_subject(kiosk).as_bytes(), what.as_bytes()], mac)
}

/// What a sealed Live frame authenticates beside its picture.
pub fn frame_aad(subject: &str, frame: &str, faces: &str) -> Vec<u8> {
    format!("{subject}\n{frame}\n{faces}").into_bytes()
}

/// An announcement as it stands in the bucket: its text, signed by the painter's identity.
#[derive(Serialize, Deserialize)]
struct SignedAnnouncement {
    body: String,
    signer: Option<String>,
    signature: Option<String>,
}

impl Announcement {
    /// The bucket's value for this announcement (signed when the painter has an identity).
    pub fn to_value(&self, identity: Option<&Identity>) -> Vec<u8> {
        let body = serde_json::to_string(self).expect("an announcement is JSON");
        let (signer, signature) = match identity {
            Some(id) => {
                let (c, s) = id.sign("announce", &[self.name.as_bytes(), body.as_bytes()]);
                (Some(c), Some(s))
            }
            None => (None, None),
        };
        serde_json::to_vec(&SignedAnnouncement { body, signer, signature }).expect("an announcement is JSON")
    }

    /// The announcement stored under `key`, if it is `key`'s own. With `identity` (a farm with
    /// identities), only one signed by the painter its key names is.
    pub fn from_value(key: &str, value: &[u8], identity: Option<&Identity>) -> Result<Announcement, Forgery> {
        let signed: SignedAnnouncement = serde_json::from_slice(value).map_err(|_| Forgery::Unsigned)?;
        if let Some(id) = identity {
            id.verify(
                (signed.signer.as_deref(), signed.signature.as_deref()),
                Role::Painter,
                key,
                "announce",
                &[key.as_bytes(), signed.body.as_bytes()],
            )?;
        }
        let a: Announcement = serde_json::from_str(&signed.body).map_err(|_| Forgery::Unsigned)?;
        if a.name != key {
            return Err(Forgery::WrongSigner { role: "painter", name: a.name, expected: format!("painter {key}") });
        }
        Ok(a)
    }
}

/// The painters announced now (the bucket's TTL removes dead ones), each its own; what does
/// not prove itself is left out and returned beside (key, why). The keys come from the
/// stream's info, not a consumer: a kiosk may read the bucket but create nothing on it.
pub async fn painters_alive(
    kv: &jetstream::kv::Store,
    identity: Option<&Identity>,
) -> (Vec<Announcement>, Vec<(String, Forgery)>) {
    use futures_util::StreamExt;
    let (mut out, mut forged) = (Vec::new(), Vec::new());
    let Ok(mut subjects) = kv.stream.info_with_subjects(format!("{}>", kv.prefix)).await else {
        return (out, forged);
    };
    let mut names = Vec::new();
    while let Some(Ok((subject, _))) = subjects.next().await {
        if let Some(name) = subject.strip_prefix(&kv.prefix) {
            names.push(name.to_string());
        }
    }
    for k in names {
        if let Ok(Some(v)) = kv.get(&k).await {
            match Announcement::from_value(&k, &v, identity) {
                Ok(a) => out.push(a),
                Err(why) => forged.push((k, why)),
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, forged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::protocol::{Lease, Progress, result_subject};

    #[test]
    fn an_output_is_proven_for_its_subject_headers_and_payload_only() {
        let secret = JobSecret::random();
        let p = Progress { job: "7-ab".into(), attempt: 1, finished: true, painter: "p1".into(), ..Default::default() };
        let subject = result_subject("hall-a", "7-ab");
        let mut h = p.to_headers();
        prove_output(&secret, &subject, &mut h, b"PNG");
        assert!(output_proven(&secret, &subject, &h, &trust::digest(b"PNG")));
        assert!(!output_proven(&secret, &subject, &h, &trust::digest(b"RED")), "another picture");
        assert!(!output_proven(&secret, &result_subject("hall-b", "7-ab"), &h, &trust::digest(b"PNG")));
        assert!(!output_proven(&JobSecret::random(), &subject, &h, &trust::digest(b"PNG")));
        let mut changed = h.clone();
        changed.insert(H_ITERATION, "999");
        assert!(!output_proven(&secret, &subject, &changed, &trust::digest(b"PNG")), "a header changed");
        let mut added = h.clone();
        added.insert(H_ERROR, "refused");
        assert!(!output_proven(&secret, &subject, &added, &trust::digest(b"PNG")), "a header added");
        assert!(!output_proven(&secret, &subject, &p.to_headers(), &trust::digest(b"PNG")), "no proof");
    }

    #[test]
    fn a_cancel_and_a_lease_are_proven_with_the_jobs_secret() {
        let secret = JobSecret::random();
        let payload = cancel_payload(&secret, "hall-a", "7-ab");
        let (what, mac) = read_cancel(payload.as_bytes()).unwrap();
        assert_eq!(what, "7-ab");
        assert!(cancel_proven(&secret, "hall-a", &what, &mac));
        assert!(!cancel_proven(&secret, "hall-b", &what, &mac), "in another kiosk's name");
        assert!(!cancel_proven(&secret, "hall-a", "8-cd", &mac), "of another job");
        assert!(read_cancel(b"7-ab").is_none(), "a bare job id is no cancel");

        let lease = Lease::signed("p1", "live-1", 3, "hall-a", &secret);
        let value = serde_json::to_vec(&lease).unwrap();
        assert_eq!(Lease::proven(&value, "hall-a", &secret), Some(lease.clone()));
        assert_eq!(Lease::proven(&value, "hall-b", &secret), None, "another kiosk's lease");
        assert_eq!(Lease::proven(&value, "hall-a", &JobSecret::random()), None);
        let forged = Lease { painter: "p2".into(), ..lease };
        assert_eq!(Lease::proven(&serde_json::to_vec(&forged).unwrap(), "hall-a", &secret), None);
    }

    #[test]
    fn an_announcement_is_its_painters_own() {
        let a = Announcement { name: "p1".into(), device: "cpu".into(), seq: 4, ..Default::default() };
        // Without identities (an open farm on loopback) it only has to name its key.
        assert_eq!(Announcement::from_value("p1", &a.to_value(None), None), Ok(a.clone()));
        assert!(Announcement::from_value("p2", &a.to_value(None), None).is_err());
        assert!(Announcement::from_value("p1", b"{\"name\":\"p1\"}", None).is_err());
        // With identities: signed by the painter its key names, with the farm's certificate.
        let dir = tempfile::tempdir().unwrap();
        let load = |role, name: &str, farm: u8, seed: u8| {
            let path = dir.path().join(format!("{name}-{farm}"));
            std::fs::write(&path, trust::tests::identity_text([farm; 32], role, name, [seed; 32])).unwrap();
            Identity::load(&path, role, name).unwrap()
        };
        let (p1, p2, kiosk) =
            (load(Role::Painter, "p1", 1, 2), load(Role::Painter, "p2", 1, 3), load(Role::Kiosk, "k", 1, 4));
        let signed = a.to_value(Some(&p1));
        assert_eq!(Announcement::from_value("p1", &signed, Some(&kiosk)), Ok(a.clone()));
        assert!(Announcement::from_value("p1", &a.to_value(None), Some(&kiosk)).is_err(), "unsigned");
        let as_p2 = Announcement { name: "p2".into(), ..a.clone() };
        assert!(Announcement::from_value("p2", &as_p2.to_value(Some(&p1)), Some(&kiosk)).is_err(), "p1 as p2");
        assert!(Announcement::from_value("p2", &as_p2.to_value(Some(&p2)), Some(&kiosk)).is_ok());
        let stranger = load(Role::Painter, "p1", 9, 2);
        assert!(Announcement::from_value("p1", &a.to_value(Some(&stranger)), Some(&kiosk)).is_err(), "another farm");
        assert!(!String::from_utf8(signed).unwrap().contains("job"), "says nothing of whose job it paints");
    }
}
