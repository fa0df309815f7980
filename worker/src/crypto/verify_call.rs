//! One `crypto.subtle.verify` call awaited from Rust without the general
//! promise bridge.
//!
//! `wasm_bindgen_futures::JsFuture` creates two Rust closures exported to
//! JavaScript for every promise it awaits; on the RS256 hot path that cost
//! as much as a third of the verification itself (bench/run.sh verify). Here
//! a small JavaScript function calls `verify` and reports the outcome to one
//! callback made once per isolate, keyed by a call id; the Rust future waits
//! for its id.

use js_sys::{Function, Object};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use web_sys::{CryptoKey, SubtleCrypto};

#[wasm_bindgen(inline_js = r#"
export function verify_and_report(subtle, params, key, sig, msg, id, report) {
  // Copies: WebCrypto reads the bytes now, but the views point into wasm
  // memory, which a later allocation may move.
  subtle.verify(params, key, sig.slice(), msg.slice()).then(
    (ok) => report(id, ok === true ? 1 : 0),
    () => report(id, 2),
  );
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn verify_and_report(
        subtle: &SubtleCrypto,
        params: &Object,
        key: &CryptoKey,
        sig: &[u8],
        msg: &[u8],
        id: u32,
        report: &Function,
    ) -> Result<(), JsValue>;
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    Invalid,
    /// The promise rejected (or the call threw).
    Failed,
}

enum Slot {
    Waiting(Option<Waker>),
    Done(Outcome),
}

thread_local! {
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
    static SLOTS: RefCell<HashMap<u32, Slot>> = RefCell::new(HashMap::new());
    static REPORT: Closure<dyn FnMut(u32, u8)> = Closure::new(report);
}

fn report(id: u32, code: u8) {
    let outcome = match code {
        1 => Outcome::Valid,
        0 => Outcome::Invalid,
        _ => Outcome::Failed,
    };
    // Only a call still awaited has a slot; take its waker out before waking.
    let waker = SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        match slots.get_mut(&id) {
            Some(slot @ Slot::Waiting(_)) => match std::mem::replace(slot, Slot::Done(outcome)) {
                Slot::Waiting(waker) => waker,
                Slot::Done(_) => None,
            },
            _ => None,
        }
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Starts `subtle.verify(params, key, sig, msg)`; await the returned call
/// for its outcome.
pub fn start(
    subtle: &SubtleCrypto,
    params: &Object,
    key: &CryptoKey,
    sig: &[u8],
    msg: &[u8],
) -> Call {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    SLOTS.with(|s| s.borrow_mut().insert(id, Slot::Waiting(None)));
    let started = REPORT.with(|r| {
        verify_and_report(
            subtle,
            params,
            key,
            sig,
            msg,
            id,
            r.as_ref().unchecked_ref(),
        )
    });
    if started.is_err() {
        SLOTS.with(|s| s.borrow_mut().insert(id, Slot::Done(Outcome::Failed)));
    }
    Call { id }
}

/// The wait for one call; dropping it forgets the call.
pub struct Call {
    id: u32,
}

impl Future for Call {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            match slots.get_mut(&self.id) {
                Some(Slot::Done(outcome)) => {
                    let outcome = *outcome;
                    slots.remove(&self.id);
                    Poll::Ready(outcome)
                }
                Some(Slot::Waiting(waker)) => {
                    *waker = Some(cx.waker().clone());
                    Poll::Pending
                }
                None => Poll::Ready(Outcome::Failed),
            }
        })
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        SLOTS.with(|s| s.borrow_mut().remove(&self.id));
    }
}
