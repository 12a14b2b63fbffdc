//! The two probes. Each is a future that says whether an answer arrived; dropping it stops
//! the request (a dropped `JsFuture` alone would let the request run on).

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

/// `fetch` in `no-cors` mode: any HTTP answer (404 and HTML included) resolves it; a network
/// failure or a response the browser refuses rejects it. Aborts the request when dropped,
/// which also stops a body still arriving.
pub struct FetchProbe {
    controller: AbortController,
    answer: JsFuture,
}

impl FetchProbe {
    /// Starts the request.
    ///
    /// # Errors
    /// The browser has no AbortController (too old to measure honestly).
    pub fn start(url: &str) -> Result<Self, JsValue> {
        Self::with_method(url, "GET")
    }

    /// A `HEAD` request: tells whether the host answers at all, without a body to wait for.
    ///
    /// # Errors
    /// As [`FetchProbe::start`].
    pub fn head(url: &str) -> Result<Self, JsValue> {
        Self::with_method(url, "HEAD")
    }

    fn with_method(url: &str, method: &str) -> Result<Self, JsValue> {
        let controller = AbortController::new()?;
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::NoCors);
        init.set_cache(RequestCache::NoStore);
        init.set_credentials(RequestCredentials::Omit);
        init.set_referrer_policy(ReferrerPolicy::NoReferrer);
        init.set_signal(Some(&controller.signal()));
        let answer = JsFuture::from(fetch(url, &init));
        Ok(FetchProbe { controller, answer })
    }
}

impl Future for FetchProbe {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        Pin::new(&mut self.answer).poll(cx).map(|r| r.is_ok())
    }
}

impl Drop for FetchProbe {
    fn drop(&mut self) {
        // A no-op once the body is in; otherwise it closes the connection.
        self.controller.abort();
    }
}

/// An `<img>` load, never attached to the document: `decode()` resolves only for a real
/// image (a block page served instead fails to decode). Drops its `src` when dropped, which
/// cancels a load in progress.
pub struct ImageProbe {
    image: HtmlImageElement,
    decoded: JsFuture,
}

impl ImageProbe {
    /// Starts the load.
    ///
    /// # Errors
    /// No `Image` constructor (a Worker).
    pub fn start(url: &str) -> Result<Self, JsValue> {
        let image = HtmlImageElement::new()?;
        image.set_referrer_policy("no-referrer");
        image.set_src(url);
        let decoded = JsFuture::from(image.decode());
        Ok(ImageProbe { image, decoded })
    }
}

impl Future for ImageProbe {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        Pin::new(&mut self.decoded).poll(cx).map(|r| r.is_ok())
    }
}

impl Drop for ImageProbe {
    fn drop(&mut self) {
        self.image.set_src("");
    }
}

/// Either probe, by the endpoint's kind.
pub enum Probe {
    Fetch(FetchProbe),
    Image(ImageProbe),
}

impl Probe {
    /// Starts a probe of `kind` on `url`.
    ///
    /// # Errors
    /// See [`FetchProbe::start`] and [`ImageProbe::start`].
    pub fn start(kind: ProbeKind, url: &str) -> Result<Self, JsValue> {
        Ok(match kind {
            ProbeKind::Fetch => Probe::Fetch(FetchProbe::start(url)?),
            ProbeKind::Image => Probe::Image(ImageProbe::start(url)?),
        })
    }
}

impl Future for Probe {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        match self.get_mut() {
            Probe::Fetch(p) => Pin::new(p).poll(cx),
            Probe::Image(p) => Pin::new(p).poll(cx),
        }
    }
}
