//! The host page's state that makes failures unreliable: visibility, cross-origin isolation,
//! Content-Security-Policy refusals; and the visitor's wish to stop (an AbortSignal).
use alloc::{string::String, vec::Vec};

use super::js::global;
use super::{Resolvable, Sleep};
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Document, Event, EventTarget, SecurityPolicyViolationEvent};

/// Most refused URLs remembered: a host page can produce violations of its own without end.
const MAX_VIOLATIONS: usize = 64;

/// `crossOriginIsolated`: under COEP `require-corp`, no-cors loads without a CORP header fail.
pub fn cross_origin_isolated() -> bool {
    global().cross_origin_isolated().unwrap_or(false)
}

/// The full user-agent string, to be reduced at once to family, major version and OS.
pub fn user_agent() -> String {
    global().navigator().user_agent()
}

/// An event listener that removes itself when dropped.
struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    fn new(target: EventTarget, kind: &'static str, callback: Closure<dyn FnMut(Event)>) -> Self {
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Listener {
            target,
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// A future that completes the first time `target` fires `kind`. Dropping it removes the
/// listener.
#[must_use = "an EventOnce does nothing unless awaited"]
pub struct EventOnce {
    target: EventTarget,
    kind: &'static str,
    fired: Resolvable,
}

impl EventOnce {
    fn new(target: EventTarget, kind: &'static str) -> Self {
        let fired = Resolvable::new(|resolve| {
            let _ = target.add_event_listener_with_callback(kind, resolve);
        });
        EventOnce {
            target,
            kind,
            fired,
        }
    }
}

impl Future for EventOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.fired).poll(cx)
    }
}

impl Drop for EventOnce {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, &self.fired.resolve);
    }
}

/// The end of a run before its time: the visitor's AbortSignal, or the run's hard ceiling
/// (`limit_ms` from now), as a future that completes at whichever comes first.
pub struct Cancel {
    signal: Option<AbortSignal>,
    aborted: Option<EventOnce>,
    limit: Sleep,
}

impl Cancel {
    pub fn new(signal: Option<AbortSignal>, limit_ms: u32) -> Self {
        let aborted = signal
            .as_ref()
            .map(|s| EventOnce::new(s.clone().unchecked_into(), "abort"));
        Cancel {
            signal,
            aborted,
            limit: Sleep::new(limit_ms),
        }
    }

    /// True once the signal is aborted.
    pub fn is_set(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }
}

impl Future for Cancel {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_set() || Pin::new(&mut self.limit).poll(cx).is_ready() {
            return Poll::Ready(());
        }
        match self.aborted.as_mut() {
            Some(aborted) => Pin::new(aborted).poll(cx),
            None => Poll::Pending,
        }
    }
}

/// Watches the page during a run: visibility changes and CSP refusals.
pub struct PageWatch {
    document: Option<Document>,
    visibility_changes: Rc<Cell<u32>>,
    refused: Rc<RefCell<Vec<String>>>,
    _visibility: Option<Listener>,
    _violations: Listener,
}

impl PageWatch {
    pub fn new() -> Self {
        let scope = global();
        let document = scope.document();
        let visibility_changes = Rc::new(Cell::new(0u32));
        let visibility = document.as_ref().map(|d| {
            let changes = Rc::clone(&visibility_changes);
            Listener::new(
                d.clone().unchecked_into(),
                "visibilitychange",
                Closure::new(move |_: Event| changes.set(changes.get().wrapping_add(1))),
            )
        });
        let refused = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&refused);
        // Violations bubble from the document to the global object; Workers fire them there.
        let violations = Listener::new(
            scope.unchecked_into(),
            "securitypolicyviolation",
            Closure::new(move |event: Event| {
                let event: SecurityPolicyViolationEvent = event.unchecked_into();
                let mut refused = sink.borrow_mut();
                if refused.len() < MAX_VIOLATIONS {
                    refused.push(event.blocked_uri());
                }
            }),
        );
        PageWatch {
            document,
            visibility_changes,
            refused,
            _visibility: visibility,
            _violations: violations,
        }
    }

    /// `document.hidden` (never, in a Worker).
    pub fn hidden(&self) -> bool {
        self.document.as_ref().is_some_and(Document::hidden)
    }

    /// Counts visibility changes: any change during an attempt means it overlapped a hidden
    /// period.
    pub fn changes(&self) -> u32 {
        self.visibility_changes.get()
    }

    /// Completes at the next visibility change (or never, in a Worker, which is never hidden).
    pub fn next_change(&self) -> Option<EventOnce> {
        self.document
            .as_ref()
            .map(|d| EventOnce::new(d.clone().unchecked_into(), "visibilitychange"))
    }

    /// The URLs the page's Content-Security-Policy refused so far (`blockedURI`).
    pub fn refused(&self) -> Vec<String> {
        self.refused.borrow().clone()
    }
}
