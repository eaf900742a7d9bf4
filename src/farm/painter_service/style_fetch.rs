//! The style images a job names: from this painter's cache ([`crate::painting::StyleCache`]), or fetched from the kiosk's
//! object store and checked against their hash.

use async_nats::jetstream;

use super::{Outcome, PainterService, short};
use crate::engine::{StyleImage, imageio};
use crate::farm::protocol::{self, JobSpec};

impl PainterService<'_> {
    /// The job's style images, from this painter's cache or the object store, checked against
    /// their hash. Only an image the store does not have refuses the job; a store that does not
    /// answer (its leader is being replaced) hands it back.
    pub(super) fn styles_of(&mut self, spec: &JobSpec) -> Result<Vec<StyleImage>, Outcome> {
        let refuse = |why: String| Outcome::Refused(why);
        if spec.styles.is_empty() {
            return Err(refuse("the job names no style image".into()));
        }
        let mut out = Vec::new();
        for s in &spec.styles {
            let (runtime, js, buckets) = (self.runtime, &self.js, &mut self.styles);
            let fetch = || {
                let busy = |e: &dyn std::fmt::Display| (false, e.to_string());
                let bytes = runtime.block_on(async {
                    let bucket = match buckets.get(&spec.kiosk) {
                        Some(b) => b.clone(),
                        None => {
                            let name = protocol::styles_bucket(&spec.kiosk);
                            let b = js.get_object_store(name).await.map_err(|e| busy(&e))?;
                            buckets.insert(spec.kiosk.clone(), b.clone());
                            b
                        }
                    };
                    let mut object = bucket
                        .get(&s.sha256)
                        .await
                        .map_err(|e| (e.kind() == jetstream::object_store::GetErrorKind::NotFound, e.to_string()))?;
                    let mut bytes = Vec::new();
                    tokio::io::AsyncReadExt::read_to_end(&mut object, &mut bytes).await.map_err(|e| busy(&e))?;
                    Ok(bytes)
                });
                let bytes = bytes.map_err(|(missing, e)| {
                    let why = format!("style image {} is not on the server ({e})", short(&s.sha256));
                    if missing { refuse(why) } else { Outcome::ServerBusy(why) }
                })?;
                if crate::ids::sha256_hex(&bytes) != s.sha256 {
                    return Err(refuse(format!("style image {} does not match its hash", short(&s.sha256))));
                }
                imageio::decode_rgb(&bytes)
                    .map_err(|e| refuse(format!("style image {} cannot be used: {e}", short(&s.sha256))))
            };
            let (id, image) = self.decoded.get_or_load(&format!("sha256:{}", s.sha256), (), fetch)?;
            out.push(StyleImage { id, image, weight: s.weight });
        }
        Ok(out)
    }
}
