//! The probes. Each is a future that says whether an answer arrived; dropping it stops the
//! request (a dropped `JsFuture` alone would let the request run on).

use super::js::fetch;
use crate::vocabulary::ProbeKind;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, HtmlImageElement, ReferrerPolicy, RequestCache, RequestCredentials,
    RequestInit, RequestMode,
};

/// A request in flight, by the endpoint's kind: a `fetch` or an image load.
pub struct Probe {
    answer: JsFuture,
    stop: Stop,
}

/// What a dropped probe does to stop its request.
enum Stop {
    /// Aborts the fetch, which also stops a body still arriving (a no-op once it is in).
    Abort(AbortController),
    /// Drops the image's `src`, which cancels a load in progress.
    Unload(HtmlImageElement),
}

impl Probe {
    /// Starts a probe of `kind` on `url`.
    ///
    /// # Errors
    /// A fetch: the browser has no AbortController (too old to measure honestly). An image: no
    /// `Image` constructor (a Worker).
    pub fn start(kind: ProbeKind, url: &str) -> Result<Self, JsValue> {
        match kind {
            ProbeKind::Fetch => Self::fetch(url, "GET"),
            ProbeKind::Image => Self::image(url),
        }
    }

    /// A `HEAD` request: tells whether the host answers at all, without a body to wait for.
    ///
    /// # Errors
    /// As [`Probe::start`] for a fetch.
    pub fn head(url: &str) -> Result<Self, JsValue> {
        Self::fetch(url, "HEAD")
    }

    /// `fetch` in `no-cors` mode: any HTTP answer (404 and HTML included) resolves it; a
    /// network failure or a response the browser refuses rejects it.
    fn fetch(url: &str, method: &str) -> Result<Self, JsValue> {
        let controller = AbortController::new()?;
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::NoCors);
        init.set_cache(RequestCache::NoStore);
        init.set_credentials(RequestCredentials::Omit);
        init.set_referrer_policy(ReferrerPolicy::NoReferrer);
        init.set_signal(Some(&controller.signal()));
        Ok(Probe {
            answer: JsFuture::from(fetch(url, &init)),
            stop: Stop::Abort(controller),
        })
    }

    /// An `<img>` load, never attached to the document: `decode()` resolves only for a real
    /// image (a block page served instead fails to decode).
    fn image(url: &str) -> Result<Self, JsValue> {
        let image = HtmlImageElement::new()?;
        image.set_referrer_policy("no-referrer");
        image.set_src(url);
        Ok(Probe {
            answer: JsFuture::from(image.decode()),
            stop: Stop::Unload(image),
        })
    }
}

impl Future for Probe {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        Pin::new(&mut self.answer).poll(cx).map(|r| r.is_ok())
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        match &self.stop {
            Stop::Abort(controller) => controller.abort(),
            Stop::Unload(image) => image.set_src(""),
        }
    }
}
