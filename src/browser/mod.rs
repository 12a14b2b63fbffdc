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
pub use probe::{FetchProbe, Probe};
pub use submit::{post_report, SubmitFailure};
pub use time::{
    date_now, href, iso_time, now, raise_timing_buffer, random, resource_duration, Sleep,
};

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

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
