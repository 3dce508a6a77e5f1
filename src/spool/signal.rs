//! Single-threaded wake-up primitives for the spool's tasks: a one-shot reply slot and a
//! level-triggered notification. Both are `!Send` and lock-free (`Rc` + `RefCell`/`Cell`).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
}

/// The sending half of a one-shot reply.
pub(crate) struct Sender<T>(Rc<RefCell<Slot<T>>>);

/// The receiving half: a future that resolves to `Some(value)`, or `None` if the sender was
/// dropped without sending.
pub(crate) struct Receiver<T>(Rc<RefCell<Slot<T>>>);

pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Rc::new(RefCell::new(Slot { value: None, waker: None, sender_gone: false }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    pub(crate) fn send(self, value: T) {
        self.0.borrow_mut().value = Some(value);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.0.borrow_mut();
            slot.sender_gone = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.0.borrow_mut();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.sender_gone {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A flag one task waits on and others raise. Raising it while nobody waits is remembered,
/// so a wake-up is never lost. `close` makes every wait return `false`.
#[derive(Default)]
pub(crate) struct Notify {
    raised: Cell<bool>,
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Notify {
    pub(crate) fn raise(&self) {
        self.raised.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.get()
    }

    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.raise();
    }

    /// Waits until raised (then lowers the flag and returns `true`) or closed (`false`).
    pub(crate) fn wait(&self) -> impl Future<Output = bool> + '_ {
        std::future::poll_fn(move |cx| {
            if self.closed.get() {
                return Poll::Ready(false);
            }
            if self.raised.replace(false) {
                return Poll::Ready(true);
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;

    #[test]
    fn oneshot_delivers_or_reports_a_dropped_sender() {
        let (tx, rx) = oneshot();
        tx.send(7);
        assert_eq!(block_on(rx), Some(7));
        let (tx, rx) = oneshot::<u8>();
        drop(tx);
        assert_eq!(block_on(rx), None);
    }

    #[test]
    fn notify_remembers_a_raise_and_reports_close() {
        let n = Notify::default();
        n.raise();
        assert!(block_on(n.wait()));
        n.close();
        assert!(!block_on(n.wait()));
    }
}
