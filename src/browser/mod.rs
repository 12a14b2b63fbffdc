//! The thin browser layer: every call into the page's JavaScript world lives here, wrapped in
//! Rust types that clean up after themselves (a dropped probe aborts its request, a dropped
//! timer is cleared, a dropped listener is removed). Nothing outside this module handles
//! `JsValue` shapes except the export layer.
//!
//! Globals (`fetch`, `setTimeout`, `performance`) are bound directly rather than through
//! `Window`, so the engine also runs in a Worker (where image probes fail and the controls
//! then make every verdict inconclusive).

mod heap;
mod js;
pub mod object;
mod page;
mod probe;
mod submit;
mod time;

pub use page::{cross_origin_isolated, user_agent, Cancel, PageWatch};
pub use probe::Probe;
pub use submit::{post_report, SubmitFailure};
pub use time::{
    date_now, href, iso_time, now, raise_timing_buffer, random, resource_duration, Sleep,
};

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Which of two futures finished first.
pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for whichever of `a` and `b` finishes first; the other is left as it is.
pub async fn first<A, B>(a: &mut A, b: &mut B) -> Either<A::Output, B::Output>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    core::future::poll_fn(|cx: &mut Context<'_>| {
        if let Poll::Ready(x) = Pin::new(&mut *a).poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        Pin::new(&mut *b).poll(cx).map(Either::Right)
    })
    .await
}

/// A promise that JavaScript settles by calling the promise's own `resolve` (a timer, an event
/// listener): no Rust closure to keep alive. Dropping it settles the promise, which lets the
/// JsFuture's callbacks be freed.
struct Resolvable {
    resolve: Function,
    done: JsFuture,
}

impl Resolvable {
    /// `hand_out` gives `resolve` to whatever will call it.
    fn new(mut hand_out: impl FnMut(&Function)) -> Self {
        let mut resolve_fn: Function = JsValue::UNDEFINED.unchecked_into();
        let promise = Promise::new(&mut |resolve, _reject| {
            hand_out(&resolve);
            resolve_fn = resolve;
        });
        Resolvable {
            resolve: resolve_fn,
            done: JsFuture::from(promise),
        }
    }
}

impl Future for Resolvable {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.done).poll(cx).map(|_| ())
    }
}

impl Drop for Resolvable {
    fn drop(&mut self) {
        let _ = self.resolve.call0(&JsValue::UNDEFINED);
    }
}
